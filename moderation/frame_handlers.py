"""Moderation's client frames: mute, unmute, removal of a participant or a message, slow mode.

Each handler turns one validated frame into its action's call; the actions check who
may. Registered by ModerationConfig.ready() (rooms.frames).
"""

from __future__ import annotations

from moderation import actions as moderation
from rooms.faults import db
from rooms.frames import FrameHandlers, Sender
from rooms.schemas import MessageRemove, ParticipantMute, ParticipantRemove, ParticipantUnmute, SlowmodeSet

handlers = FrameHandlers()


@handlers.of(ParticipantMute)
async def mute(sender: Sender, frame: ParticipantMute) -> None:
    await db(moderation.do_mute)(
        sender.session_id, sender.participant_id, frame.participant_id, frame.minutes, sender.at
    )


@handlers.of(ParticipantUnmute)
async def unmute(sender: Sender, frame: ParticipantUnmute) -> None:
    await db(moderation.do_unmute)(sender.session_id, sender.participant_id, frame.participant_id, sender.at)


@handlers.of(ParticipantRemove)
async def remove_participant(sender: Sender, frame: ParticipantRemove) -> None:
    await db(moderation.do_remove_participant)(
        sender.session_id, sender.participant_id, frame.participant_id, frame.reason, sender.at
    )


@handlers.of(MessageRemove)
async def remove_message(sender: Sender, frame: MessageRemove) -> None:
    await db(moderation.do_remove_message)(
        sender.session_id, sender.participant_id, frame.message_id, frame.reason, sender.at
    )


@handlers.of(SlowmodeSet)
async def set_slowmode(sender: Sender, frame: SlowmodeSet) -> None:
    await db(moderation.do_set_slowmode)(sender.session_id, sender.participant_id, frame.seconds, sender.at)
