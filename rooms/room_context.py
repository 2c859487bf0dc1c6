"""What the room page needs besides the session and the participant (read only).

The page is a shell: the WebSocket's `session.state` fills it. Facilitators
also get the prompt library for the picker, and the list of frame types this
server handles, so the console shows only controls the server understands.
"""

from __future__ import annotations

from typing import Any

from django.urls import Resolver404, resolve
from django.utils.translation import gettext_lazy as _

from rooms.frames import FRAME_TYPES
from rooms.models import GroupSession, Participant, ParticipantRole, Prompt, PromptCategory


def supported_frames() -> list[str]:
    return sorted(FRAME_TYPES)  # each has its handler: start-up checks (rooms.frames.check_frame_handlers)


def prompt_library() -> list[dict[str, Any]]:
    """Active library prompts (not any session's custom ones), in picker order, in the reader's language."""
    prompts = Prompt.objects.filter(session__isnull=True, active=True).order_by("category", "position", "id")
    return [{"id": p.pk, "category": p.category, "text": p.localized_text} for p in prompts]


def prompt_categories() -> list[dict[str, str]]:
    return [{"key": key, "label": str(label)} for key, label in PromptCategory.choices]


def existing_path(path: str) -> str | None:
    """`path` when this server routes it (another app may not have added that page yet)."""
    try:
        resolve(path)
    except Resolver404:
        return None
    return path


def session_reports(session: GroupSession) -> list[dict[str, str]]:
    """Links to the facilitator's record pages for one session, for those the server has."""
    pages = [
        (_("Attendance"), f"/sessions/{session.pk}/attendance/"),
        (_("Transcript"), f"/sessions/{session.pk}/transcript/"),
        (_("Audit report"), f"/sessions/{session.pk}/audit/"),
        (_("Progress notes"), f"/sessions/{session.pk}/notes/"),
    ]
    if session.allow_guests:
        pages.append((_("Invitations"), f"/sessions/{session.pk}/invites/"))
    return [{"label": str(label), "href": path} for label, path in pages if existing_path(path)]


def room_page_context(session: GroupSession, participant: Participant) -> dict[str, Any]:
    is_facilitator = participant.role == ParticipantRole.FACILITATOR
    frames = supported_frames()
    context: dict[str, Any] = {"is_facilitator": is_facilitator, "frames": frames, "frame_names": " ".join(frames)}
    if is_facilitator:
        context.update(
            prompts=prompt_library(),
            categories=prompt_categories(),
            reports=session_reports(session),
        )
    return context
