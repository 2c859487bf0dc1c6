"""Facilitation's client frames: hands, the floor, modes and rounds, prompts and the agenda.

Each handler turns one validated frame into its action's call and returns what the
ack carries; the actions check who may. Registered by FacilitatorConfig.ready() (rooms.frames).
"""

from __future__ import annotations

from facilitator.actions import floor_queue, prompts_agenda, rounds
from rooms.faults import db
from rooms.frames import AckFields, FrameHandlers, Sender
from rooms.schemas import (
    AgendaAdd,
    AgendaMove,
    AgendaNext,
    AgendaRemove,
    FloorGrant,
    FloorRevoke,
    FloorYield,
    HandClear,
    HandLower,
    HandRaise,
    ModeSet,
    PromptPost,
    RoundNext,
)

handlers = FrameHandlers()


# ------------------------------------------------------------ anyone in the room


@handlers.of(HandRaise)
async def raise_hand(sender: Sender, frame: HandRaise) -> None:
    await db(floor_queue.do_raise_hand)(sender.session_id, sender.participant_id, sender.at)


@handlers.of(HandLower)
async def lower_hand(sender: Sender, frame: HandLower) -> None:
    await db(floor_queue.do_lower_hand)(sender.session_id, sender.participant_id, sender.at)


@handlers.of(FloorYield)
async def yield_floor(sender: Sender, frame: FloorYield) -> None:
    await db(floor_queue.do_yield_floor)(sender.session_id, sender.participant_id, sender.at)


# ------------------------------------------------------------ facilitators (checked in the actions)


@handlers.of(HandClear)
async def clear_hands(sender: Sender, frame: HandClear) -> AckFields:
    lowered = await db(floor_queue.do_clear_hands)(sender.session_id, sender.participant_id, sender.at)
    return {"lowered": lowered}


@handlers.of(ModeSet)
async def set_mode(sender: Sender, frame: ModeSet) -> None:
    await db(rounds.do_set_mode)(sender.session_id, sender.participant_id, frame.mode, frame.seconds, sender.at)


@handlers.of(FloorGrant)
async def grant_floor(sender: Sender, frame: FloorGrant) -> None:
    await db(floor_queue.do_grant_floor)(
        sender.session_id, sender.participant_id, frame.participant_id, frame.seconds, sender.at
    )


@handlers.of(FloorRevoke)
async def revoke_floor(sender: Sender, frame: FloorRevoke) -> None:
    await db(floor_queue.do_revoke_floor)(sender.session_id, sender.participant_id, sender.at)


@handlers.of(RoundNext)
async def next_round(sender: Sender, frame: RoundNext) -> None:
    await db(rounds.do_next_round)(sender.session_id, sender.participant_id, sender.at)


@handlers.of(PromptPost)
async def post_prompt(sender: Sender, frame: PromptPost) -> AckFields:
    prompt = await db(prompts_agenda.do_post_prompt)(
        sender.session_id,
        sender.participant_id,
        sender.at,
        prompt_id=frame.prompt_id,
        category=frame.category,
        text=frame.text,
    )
    return {"prompt_id": prompt.pk}


# ------------------------------------------------------------ the agenda (facilitators)


@handlers.of(AgendaAdd)
async def add_agenda_item(sender: Sender, frame: AgendaAdd) -> AckFields:
    item = await db(prompts_agenda.do_add_agenda_item)(
        sender.session_id,
        sender.participant_id,
        sender.at,
        prompt_id=frame.prompt_id,
        category=frame.category,
        text=frame.text,
        position=frame.position,
    )
    return {"item_id": item.pk, "prompt_id": item.prompt_id, "position": item.position}


@handlers.of(AgendaRemove)
async def remove_agenda_item(sender: Sender, frame: AgendaRemove) -> None:
    await db(prompts_agenda.do_remove_agenda_item)(sender.session_id, sender.participant_id, frame.item_id, sender.at)


@handlers.of(AgendaMove)
async def move_agenda_item(sender: Sender, frame: AgendaMove) -> None:
    await db(prompts_agenda.do_move_agenda_item)(
        sender.session_id, sender.participant_id, frame.item_id, frame.position, sender.at
    )


@handlers.of(AgendaNext)
async def next_agenda_item(sender: Sender, frame: AgendaNext) -> AckFields:
    item, prompt = await db(prompts_agenda.do_next_agenda)(sender.session_id, sender.participant_id, sender.at)
    return {"item_id": item.pk, "prompt_id": prompt.pk}
