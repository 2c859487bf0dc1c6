"""Prompts and the agenda: the topic pinned for the room, and the prompts a facilitator planned for it."""

from __future__ import annotations

from datetime import datetime

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from config.text import clean_line, has_visible_text
from facilitator.models import AgendaItem
from facilitator.rules import AgendaEntry, agenda_order_after_move, next_agenda_item
from facilitator.stats import agenda_out
from rooms.actions import room_as_facilitator
from rooms.audit import record
from rooms.broadcast import send_event_on_commit
from rooms.errors import ActionError
from rooms.models import GroupSession, Participant, Prompt
from rooms.schemas import AgendaUpdated, PromptPosted
from rooms.serializers import prompt_out

# ------------------------------------------------------------------ prompts


def choose_prompt(
    session: GroupSession, *, prompt_id: int | None, category: str | None, text: str | None
) -> Prompt:
    """A library prompt or this session's own by id, or a new custom prompt for this session."""
    if prompt_id is not None:
        prompt = (
            Prompt.objects.filter(pk=prompt_id, active=True, session=session).first()
            or Prompt.objects.filter(pk=prompt_id, active=True, session__isnull=True).first()
        )
        if prompt is None:
            raise ActionError("not_found", _("No such prompt."))
        return prompt
    text = clean_line(text or "")
    if not category or not has_visible_text(text):
        raise ActionError("invalid", _("Give either prompt_id, or category and text."))
    return Prompt.objects.create(category=category, text=text, session=session)


def post_prompt(
    session: GroupSession, actor: Participant, prompt: Prompt, now: datetime, *, item: AgendaItem | None = None
) -> None:
    """Pin `prompt` (room locked), from the agenda's `item` if it comes from there: it shows in session.state
    and messages from now on carry its id."""
    session.current_prompt = prompt
    session.save(update_fields=["current_prompt"])
    send_event_on_commit(session.pk, PromptPosted(prompt=prompt_out(prompt)))
    if item is None:
        record(session, actor, "prompt.post", now, prompt_id=prompt.pk)
    else:
        record(session, actor, "prompt.post", now, prompt_id=prompt.pk, item_id=item.pk)


def do_post_prompt(
    session_id: int,
    facilitator_id: int,
    now: datetime,
    *,
    prompt_id: int | None = None,
    category: str | None = None,
    text: str | None = None,
) -> Prompt:
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        prompt = choose_prompt(session, prompt_id=prompt_id, category=category, text=text)
        post_prompt(session, actor, prompt, now)
        return prompt


# ------------------------------------------------------------------ agenda

AGENDA_MAX_ITEMS = 50


def agenda_items(session: GroupSession) -> list[AgendaItem]:
    return list(AgendaItem.objects.filter(session=session).select_related("prompt").order_by("position", "pk"))


def renumber_agenda(order: list[int]) -> None:
    for position, item_id in enumerate(order):
        AgendaItem.objects.filter(pk=item_id).exclude(position=position).update(position=position)


def broadcast_agenda(session: GroupSession) -> None:
    send_event_on_commit(session.pk, AgendaUpdated(agenda=agenda_out(agenda_items(session))), to="facilitators")


def load_agenda_item(session: GroupSession, item_id: int) -> AgendaItem:
    item = AgendaItem.objects.select_related("prompt").filter(pk=item_id, session=session).first()
    if item is None:
        raise ActionError("not_found", _("No such agenda item in this session."))
    return item


def do_add_agenda_item(
    session_id: int,
    facilitator_id: int,
    now: datetime,
    *,
    prompt_id: int | None = None,
    category: str | None = None,
    text: str | None = None,
    position: int | None = None,
) -> AgendaItem:
    """Plan a prompt (before or during the session); `position` is 0-based, default last."""
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        if AgendaItem.objects.filter(session=session).count() >= AGENDA_MAX_ITEMS:
            raise ActionError(
                "invalid", format_lazy(_("An agenda can hold at most {count} prompts."), count=AGENDA_MAX_ITEMS)
            )
        prompt = choose_prompt(session, prompt_id=prompt_id, category=category, text=text)
        order = [item.pk for item in agenda_items(session)]
        item = AgendaItem.objects.create(session=session, prompt=prompt, position=len(order))
        at = len(order) if position is None else position
        renumber_agenda(agenda_order_after_move([*order, item.pk], item.pk, at))
        record(session, actor, "agenda.add", now, item_id=item.pk, prompt_id=prompt.pk)
        broadcast_agenda(session)
        item.refresh_from_db()
        return item


def do_remove_agenda_item(session_id: int, facilitator_id: int, item_id: int, now: datetime) -> None:
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        item = load_agenda_item(session, item_id)
        item.delete()
        renumber_agenda([other.pk for other in agenda_items(session)])
        record(session, actor, "agenda.remove", now, item_id=item_id, prompt_id=item.prompt_id)
        broadcast_agenda(session)


def do_move_agenda_item(session_id: int, facilitator_id: int, item_id: int, position: int, now: datetime) -> None:
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        load_agenda_item(session, item_id)
        renumber_agenda(agenda_order_after_move([item.pk for item in agenda_items(session)], item_id, position))
        record(session, actor, "agenda.move", now, item_id=item_id, position=position)
        broadcast_agenda(session)


def do_next_agenda(session_id: int, facilitator_id: int, now: datetime) -> tuple[AgendaItem, Prompt]:
    """Post the first planned prompt not posted yet; `not_found` once the agenda is done."""
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        items = agenda_items(session)
        upcoming = next_agenda_item([AgendaEntry(i.pk, i.position, i.posted_at is not None) for i in items])
        if upcoming is None:
            raise ActionError("not_found", _("Every prompt on the agenda has been posted."))
        item = next(i for i in items if i.pk == upcoming.item_id)
        item.posted_at = now
        item.save(update_fields=["posted_at"])
        post_prompt(session, actor, item.prompt, now, item=item)
        broadcast_agenda(session)
        return item, item.prompt
