"""Read side of the facilitator's session report: the transcript and the audit log.

Read only; who may see them is decided in moderation.views (facilitators of
the session). Everything here reads the stored record as it stands, so text
that the retention policy has purged is shown as purged, and removed messages
are marked, never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext

from moderation.notices import part2_notice_text
from rooms.models import Audience, AuditEntry, GroupSession, Message, Participant, ParticipantRole, Prompt


def person_label(participant: Participant | None) -> str:
    """Who, as the transcript names them, in the reader's language."""
    if participant is None:
        return gettext("(unknown)")
    if participant.role == ParticipantRole.GUEST and participant.guest_of is not None:
        return gettext("%(name)s (guest of %(patient)s)") % {
            "name": participant.display_name,
            "patient": participant.guest_of.display_name,
        }
    role = str(ParticipantRole(participant.role).label).lower()
    return gettext("%(name)s (%(role)s)") % {"name": participant.display_name, "role": role}


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    seq: int
    sent_at: datetime
    sender: str
    audience: str  # an Audience
    recipient: str | None
    state: str  # shown | removed | purged
    text: str  # empty unless shown
    html: str  # empty unless shown
    removed_note: str  # who removed it and why, when removed
    prompt: Prompt | None  # set on the first message under a newly posted prompt

    @property
    def audience_note(self) -> str:
        if self.audience == Audience.FACILITATORS:
            return gettext("private line, to the facilitators only")
        if self.audience == Audience.PRIVATE:
            return gettext("private line, to %(name)s only") % {"name": self.recipient}
        return ""


@dataclass(frozen=True, slots=True)
class Transcript:
    session: GroupSession
    participants: list[Participant]
    lines: list[TranscriptLine]
    exported_at: datetime
    exported_by: str


def removal_notes(session: GroupSession) -> dict[int, str]:
    notes: dict[int, str] = {}
    entries = AuditEntry.objects.filter(session=session, action="message.remove", message_seq__isnull=False)
    for entry in entries:
        note = gettext("removed by %(who)s at %(when)s") % {"who": entry.actor_label, "when": stamp(entry.created_at)}
        if entry.reason:
            note += gettext("; reason: %(reason)s") % {"reason": entry.reason}
        notes.setdefault(entry.message_seq, note)
    return notes


def build_transcript(session: GroupSession, viewer: Participant, now: datetime) -> Transcript:
    participants = list(
        Participant.objects.filter(session=session).select_related("guest_of").order_by("roster_position", "pk")
    )
    messages = (
        Message.objects.filter(session=session)
        .select_related("participant", "participant__guest_of", "recipient", "recipient__guest_of", "prompt")
        .order_by("seq")
    )
    notes = removal_notes(session)
    lines: list[TranscriptLine] = []
    last_prompt_id: int | None = None
    for message in messages:
        if message.removed_at is not None:
            state = "removed"
        elif message.text_purged_at is not None:
            state = "purged"
        else:
            state = "shown"
        new_prompt = message.prompt if message.prompt_id and message.prompt_id != last_prompt_id else None
        last_prompt_id = message.prompt_id or last_prompt_id
        lines.append(
            TranscriptLine(
                seq=message.seq,
                sent_at=message.sent_at,
                sender=person_label(message.participant),
                audience=message.audience,
                recipient=person_label(message.recipient) if message.recipient_id else None,
                state=state,
                text=message.text if state == "shown" else "",
                html=message.html if state == "shown" else "",
                removed_note=notes.get(message.seq, gettext("removed by a facilitator")) if state == "removed" else "",
                prompt=new_prompt,
            )
        )
    return Transcript(session, participants, lines, now, person_label(viewer))


def stamp(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def entry_lines(text: str, *, indent: str = "") -> list[str]:
    """One entry of the download: its first line as given, every further line indented beneath it.

    Every text in an entry (a message, a name, a title, a prompt, a reason) came from
    someone's keyboard. Stored texts are normalized (config.text), and this splits on
    every character any viewer may take for a line break (str.splitlines: CR, U+2028,
    U+0085, form feed... as well as LF), so that no text, however old or however it got
    in, starts a line of its own that could read as another entry.
    """
    first, *rest = text.splitlines() or [""]
    return [indent + first, *(f"{indent}    {more}" for more in rest)]


def transcript_text(transcript: Transcript) -> str:
    """The plain-text download: the 42 CFR part 2 notice first, then the record."""
    session = transcript.session
    # In the reader's language, like the page; the Part 2 notice keeps its prescribed English.
    out = [part2_notice_text(), "=" * 72, *entry_lines(gettext("Transcript: %(title)s") % {"title": session.title})]
    out.append(
        gettext("Session %(id)s (%(kind)s), scheduled %(scheduled)s, started %(started)s, ended %(ended)s")
        % {
            "id": session.pk,
            "kind": session.get_kind_display(),
            "scheduled": stamp(session.starts_at),
            "started": stamp(session.started_at),
            "ended": stamp(session.ended_at),
        }
    )
    exported = {"when": stamp(transcript.exported_at), "who": transcript.exported_by}
    out.extend(entry_lines(gettext("Exported %(when)s by %(who)s") % exported))
    out.append(gettext("Participants:"))
    for person in transcript.participants:
        removed = ""
        if person.removed_at:
            removed = " - " + gettext("removed from the session %(when)s") % {"when": stamp(person.removed_at)}
        out.extend(entry_lines(f"{person_label(person)}{removed}", indent="  "))
    out.append("=" * 72)
    if not transcript.lines:
        out.append(gettext("(no messages)"))
    for line in transcript.lines:
        if line.prompt is not None:
            prompt = {"category": line.prompt.get_category_display(), "text": line.prompt.localized_text}
            out.extend(entry_lines("--- " + gettext("Prompt (%(category)s): %(text)s") % prompt))
        head = f"[{stamp(line.sent_at)}] #{line.seq} {line.sender}"
        if line.audience_note:
            head += f" ({line.audience_note})"
        if line.state == "removed":
            note = gettext("message %(note)s") % {"note": line.removed_note}
            out.extend(entry_lines(f"{head}: [{note}]"))
        elif line.state == "purged":
            out.extend(entry_lines(f"{head}: [{gettext('text deleted under the retention policy')}]"))
        else:
            out.extend(entry_lines(f"{head}: {line.text}"))
    out.append("=" * 72)
    out.append(
        gettext("End of transcript.")
        + " "
        + gettext("42 CFR part 2 prohibits unauthorized use or disclosure of these records.")
    )
    return "\n".join(out) + "\n"


def audit_entries(session: GroupSession) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(session=session).order_by("created_at", "pk"))
