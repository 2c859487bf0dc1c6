"""The room core's client frames: chat, the private line, the session's start and end, guests and the lobby.

Each handler turns one validated frame into its action's call and returns what the
ack carries; the actions check who may. Registered by RoomsConfig.ready() (rooms.frames).
"""

from __future__ import annotations

from rooms.actions import chat, guests, lifecycle
from rooms.faults import db
from rooms.frames import AckFields, FrameHandlers, Sender
from rooms.group_commit import chat_committer
from rooms.schemas import (
    ChatSend,
    InviteCreate,
    InviteDecline,
    InviteRevoke,
    LobbyAdmit,
    LobbyDeny,
    LobbyReturn,
    LobbySay,
    Ping,
    PrivateSend,
    SessionEnd,
    SessionStart,
)

handlers = FrameHandlers()


# ------------------------------------------------------------ anyone in the room


@handlers.of(ChatSend)
async def send_chat(sender: Sender, frame: ChatSend) -> AckFields:
    request = chat.ChatRequest(
        sender.session_id, sender.participant_id, frame.text, sender.at, to=frame.to, txn_id=frame.txn_id
    )
    message = await chat_committer().send(request)
    return {"message_id": message.pk, "seq": message.seq}


@handlers.of(Ping)
async def ping(sender: Sender, frame: Ping) -> None:
    """Nothing to do: receiving it already counted as activity (rooms.socket_guard.SocketGuard.touch)."""


# ------------------------------------------------------------ facilitators (checked in the actions)


@handlers.of(PrivateSend)
async def send_private(sender: Sender, frame: PrivateSend) -> AckFields:
    message = await db(chat.do_send_private)(
        sender.session_id, sender.participant_id, frame.participant_id, frame.text, sender.at
    )
    return {"message_id": message.pk, "seq": message.seq}


@handlers.of(SessionStart)
async def start_session(sender: Sender, frame: SessionStart) -> None:
    await db(lifecycle.do_start_session)(sender.session_id, sender.participant_id, sender.at)


@handlers.of(SessionEnd)
async def end_session(sender: Sender, frame: SessionEnd) -> None:
    await db(lifecycle.do_end_session)(sender.session_id, sender.participant_id, sender.at)


@handlers.of(LobbyAdmit)
async def admit_guest(sender: Sender, frame: LobbyAdmit) -> None:
    await db(guests.do_admit_guest)(sender.session_id, sender.participant_id, frame.participant_id, sender.at)


@handlers.of(LobbyDeny)
async def deny_guest(sender: Sender, frame: LobbyDeny) -> None:
    await db(guests.do_deny_guest)(sender.session_id, sender.participant_id, frame.participant_id, sender.at)


@handlers.of(LobbyReturn)
async def return_to_lobby(sender: Sender, frame: LobbyReturn) -> None:
    await db(guests.do_return_to_lobby)(sender.session_id, sender.participant_id, frame.participant_id, sender.at)


@handlers.of(LobbySay)
async def lobby_say(sender: Sender, frame: LobbySay) -> AckFields:
    waiting = await db(guests.do_lobby_say)(sender.session_id, sender.participant_id, frame.text, sender.at)
    return {"waiting": waiting}


@handlers.of(InviteCreate)
async def create_invite(sender: Sender, frame: InviteCreate) -> AckFields:
    guest_pass, token = await db(guests.do_create_invite)(
        sender.session_id, sender.participant_id, frame.for_participant_id, frame.name, sender.at, frame.email
    )
    return {"invite_id": guest_pass.pk, "join_path": guests.join_path(token)}


@handlers.of(InviteRevoke)
async def revoke_invite(sender: Sender, frame: InviteRevoke) -> None:
    await db(guests.do_revoke_invite)(sender.session_id, sender.participant_id, frame.invite_id, sender.at)


# ------------------------------------------------------------ the patient an invitation is for


@handlers.of(InviteDecline)
async def decline_invite(sender: Sender, frame: InviteDecline) -> None:
    await db(guests.do_decline_invite)(sender.session_id, sender.participant_id, frame.invite_id, sender.at)
