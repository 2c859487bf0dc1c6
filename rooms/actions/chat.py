"""Sending messages: chat.send (to the room, or to the facilitators on the private line) and private.send.

The domain of the room's hot write path: the rules, the message as it is stored,
its event on commit, the private line's audit and the message-stored hooks
(rooms.extensions; moderation's crisis scan is one). How the message reaches the
database, in two round trips on PostgreSQL with its INSERT sent with the COMMIT,
is rooms.chat_store's.

A busy worker stores its waiting chat.sends together (`do_send_chats`, group
commit, called by rooms.group_commit): the same steps for a batch, in one
transaction.

A chat.send may name the client's own id for the message (`txn_id`): a resend
with one the sender already used in the session (its ack was lost with the
connection) stores and announces nothing and is answered with the first
message. The store looks for it with the claim, after the room's lock, so two
resends on two workers find each other; the unique constraint behind it
(`unique_txn_per_sender`) is the arbiter should a look miss one. A refused message
stores nothing, so its txn_id stays unused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from config.text import clean_text
from rooms.actions import load_target, next_seq, refuse, room_as_facilitator, room_view, speaker_view
from rooms.audit import record
from rooms.broadcast import send_event_on_commit
from rooms.chat_store import chat_store
from rooms.chat_store.base import ChatStore, ClaimedSender
from rooms.errors import ActionError
from rooms.extensions import message_stored_hooks
from rooms.models import Audience, GroupSession, Message, Participant, ParticipantRole
from rooms.rules import SendHistory, chat_refusal, rate_refusal, send_history, text_refusal
from rooms.sanitize import render_message_html
from rooms.schemas import ChatMessageEvent
from rooms.serializers import message_out


def do_send_chat(
    session_id: int,
    participant_id: int,
    text: str,
    now: datetime,
    *,
    to: str | None = None,
    txn_id: str | None = None,
) -> Message:
    """chat.send: to the room, or with to="facilitators" on the private line to them.

    With a `txn_id` the sender already used in the session: their first message (only
    its id and seq loaded), and nothing stored or sent.
    """
    refuse(text_refusal(text, settings.CIRCLE["MAX_MESSAGE_CHARS"]))
    try:
        return store_chat(session_id, participant_id, text, now, to=to, txn_id=txn_id)
    except IntegrityError:
        # Two resends that no look saw (the constraint, not the look, is the arbiter): the other one stored it.
        # (Inside a caller's transaction, which the error broke, there is nothing more to ask.)
        sent = None if connection.in_atomic_block else sent_with(session_id, participant_id, txn_id)
        if sent is None:
            raise
        return sent


def store_chat(
    session_id: int, participant_id: int, text: str, now: datetime, *, to: str | None, txn_id: str | None
) -> Message:
    """do_send_chat's transaction: the claim (with the look for a resend), the rules, the message and its event."""
    store = chat_store()
    with store.atomic() as outermost:
        session, claimed = check_claimed(
            session_id,
            *store.claim_room_and_sender(
                session_id,
                participant_id,
                history_since=rate_window_start(now),
                history_limit=settings.CIRCLE["RATE_LIMIT_COUNT"],
                txn_id=txn_id,
            ),
        )
        if claimed.already_sent is not None:
            transaction.set_rollback(True)  # the seq the claim counted is not spent
            return claimed.already_sent
        audience = check_chat(session, claimed.sender, claimed.history, now, private=to == Audience.FACILITATORS)
        message = new_message(
            session,
            claimed.sender,
            text,
            now,
            seq=session.last_seq,
            audience=audience,
            message_id=claimed.message_id,
            txn_id=txn_id,
        )
        # The outermost transaction's COMMIT is this action's to send, with the INSERT.
        return store_and_broadcast(store, message, commit_with_insert=outermost, guests=claimed.admitted_guests)


def sent_with(session_id: int, participant_id: int, txn_id: str | None) -> Message | None:
    """The message this participant stored with this txn_id, if any (only its id and seq loaded)."""
    if txn_id is None:
        return None
    return (
        Message.objects.filter(session_id=session_id, participant_id=participant_id, txn_id=txn_id)
        .only("id", "seq", "session_id", "participant_id", "txn_id")
        .first()
    )


def check_claimed(
    session_id: int, session: GroupSession | None, claimed: ClaimedSender | None
) -> tuple[GroupSession, ClaimedSender]:
    """The claimed room and sender, if both are there and the sender is in that room (ActionError if not)."""
    if session is None:
        raise ActionError("not_found", _("No such session."))
    if claimed is None or claimed.sender.session_id != session_id:
        raise ActionError("not_allowed", _("You are not in this session."))
    return session, claimed


def check_chat(
    session: GroupSession, sender: Participant, history: SendHistory, now: datetime, *, private: bool
) -> Audience:
    """May the sender write this message now? Its audience if so (ActionError if not)."""
    refuse(chat_refusal(room_view(session), speaker_view(sender, now), now, private=private))
    # Slow mode paces the room; facilitators are exempt, and so is the private line to
    # them (a patient must always be able to reach the facilitators; the rate limit still holds).
    exempt = sender.role == ParticipantRole.FACILITATOR or private
    check_send_rate(history, now, slowmode_seconds=0 if exempt else session.slowmode_seconds)
    # A facilitator's to="facilitators" stays among the facilitators too (never the room).
    return Audience.FACILITATORS if private else Audience.ROOM


def check_send_rate(history: SendHistory, now: datetime, *, slowmode_seconds: int) -> None:
    circle = settings.CIRCLE
    refuse(
        rate_refusal(
            history,
            now,
            limit=circle["RATE_LIMIT_COUNT"],
            window_seconds=circle["RATE_LIMIT_SECONDS"],
            slowmode_seconds=slowmode_seconds,
        )
    )


def rate_window_start(now: datetime) -> datetime:
    """The rate limit counts the sends after this instant."""
    return now - timedelta(seconds=settings.CIRCLE["RATE_LIMIT_SECONDS"])


def recent_history(sender: Participant, now: datetime) -> SendHistory:
    """The sender's send history (the private line's check; chat.send reads it with the sender)."""
    circle = settings.CIRCLE
    sends = list(
        Message.objects.filter(participant=sender, sent_at__gt=rate_window_start(now))
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
    )
    return send_history(sends, now, limit=circle["RATE_LIMIT_COUNT"], window_seconds=circle["RATE_LIMIT_SECONDS"])


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat.send waiting to be stored (rooms.group_commit gathers a worker's into batches)."""

    session_id: int
    participant_id: int
    text: str
    now: datetime
    to: str | None = None
    txn_id: str | None = None  # the client's own id for the message (a resend repeats it)


def do_send_chats(requests: Sequence[ChatRequest]) -> list[Message | ActionError]:
    """chat.send for several senders at once, in one transaction: group commit.

    Each request gets what `do_send_chat` would have given it, had they been sent one
    after the other in this order: its stored Message, or the ActionError that refused
    it. A refused request spends no seq and writes nothing; the others are stored all
    the same. The rooms are locked together (in id order), the senders and their send
    histories read in one statement, the rules applied here in the requests' order,
    and the writes sent with the COMMIT: on PostgreSQL two round trips for the whole
    batch, one database thread's turn and one transaction, where each message alone
    takes all of those. One request per participant, so that the send history read
    at the start is still theirs when the rate limit reads it. A database error fails
    the whole batch and stores nothing (rooms.group_commit then sends them one by one).
    A request naming a txn_id its sender already used gets that message, as alone.
    """
    if len({request.participant_id for request in requests}) < len(requests):
        raise ValueError("group commit takes one request per participant")
    if len(requests) == 1:  # the single message's own path: its INSERT leaves with the COMMIT
        (request,) = requests
        try:
            return [
                do_send_chat(
                    request.session_id,
                    request.participant_id,
                    request.text,
                    request.now,
                    to=request.to,
                    txn_id=request.txn_id,
                )
            ]
        except ActionError as error:
            return [error]
    results: dict[int, Message | ActionError] = {}
    for index, request in enumerate(requests):
        try:
            refuse(text_refusal(request.text, settings.CIRCLE["MAX_MESSAGE_CHARS"]))
        except ActionError as error:
            results[index] = error
    to_store = [requests[index] for index in range(len(requests)) if index not in results]
    if to_store:
        store = chat_store()
        with store.atomic() as outermost:
            # The send histories' window starts from the earliest request's `now`: a send that falls in
            # it and not in a later request's window is one that no longer delays that request, so the
            # rate rules answer the same.
            rooms, senders = store.claim_rooms_and_senders(
                {request.session_id for request in to_store},
                [request.participant_id for request in to_store],
                history_since=rate_window_start(min(request.now for request in to_store)),
                history_limit=settings.CIRCLE["RATE_LIMIT_COUNT"],
                txn_ids={request.participant_id: (request.session_id, request.txn_id) for request in to_store},
            )
            unsaved: list[Message] = []
            last_seqs: dict[int, int] = {}
            for index, request in enumerate(requests):
                if index in results:
                    continue
                try:
                    session, claimed = check_claimed(
                        request.session_id, rooms.get(request.session_id), senders.get(request.participant_id)
                    )
                    if claimed.already_sent is not None:
                        results[index] = claimed.already_sent  # a resend: nothing stored, no seq spent
                        continue
                    private = request.to == Audience.FACILITATORS
                    audience = check_chat(session, claimed.sender, claimed.history, request.now, private=private)
                except ActionError as error:
                    results[index] = error
                    continue
                session.last_seq += 1
                last_seqs[session.pk] = session.last_seq
                message = new_message(
                    session,
                    claimed.sender,
                    request.text,
                    request.now,
                    seq=session.last_seq,
                    audience=audience,
                    message_id=claimed.message_id,
                    txn_id=request.txn_id,
                )
                if message.pk is None:
                    store.insert_message(message)  # no id drawn beforehand: the INSERT gives the one the event carries
                else:
                    unsaved.append(message)
                announce(message, guests=claimed.admitted_guests)
                results[index] = message
            store.store_batch(unsaved, last_seqs, with_commit=outermost)
    return [results[index] for index in range(len(requests))]


def do_send_private(session_id: int, facilitator_id: int, recipient_id: int, text: str, now: datetime) -> Message:
    """private.send: a facilitator writes to one participant; nobody else receives it."""
    refuse(text_refusal(text, settings.CIRCLE["MAX_MESSAGE_CHARS"]))
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, sender):
        recipient = load_target(session, recipient_id)
        if recipient.pk == sender.pk:
            raise ActionError("invalid", _("Write to someone other than yourself."))
        if recipient.role == ParticipantRole.GUEST and not recipient.admitted:
            # The lobby sees nothing of the room; lobby.say is how to reach it.
            raise ActionError(
                "not_admitted",
                format_lazy(_("{name} is in the lobby; use a lobby message."), name=recipient.display_name),
            )
        check_send_rate(recent_history(sender, now), now, slowmode_seconds=0)
        seq = next_seq(session)
        message = new_message(session, sender, text, now, seq=seq, audience=Audience.PRIVATE, recipient=recipient)
        return store_and_broadcast(chat_store(), message)


def store_and_broadcast(
    store: ChatStore, message: Message, *, commit_with_insert: bool = False, guests: Sequence[int] = ()
) -> Message:
    """Store the message and announce it (to `guests` among the guests: `announce`).

    With its id drawn beforehand (`message.pk`: chat.send on PostgreSQL) the message is
    written last, so that its INSERT can leave with the COMMIT (`commit_with_insert`).
    """
    drawn = message.pk is not None
    if not drawn:
        store.insert_message(message)  # the INSERT gives the id that the event and the hooks carry
    announce(message, guests=guests)
    if drawn:
        store.insert_message(message, with_commit=commit_with_insert)
    return message


def new_message(
    session: GroupSession,
    sender: Participant,
    text: str,
    now: datetime,
    *,
    seq: int,
    audience: str,
    recipient: Participant | None = None,
    message_id: int | None = None,
    txn_id: str | None = None,
) -> Message:
    """The message as it will be stored; `message_id` when drawn beforehand (chat.send on PostgreSQL)."""
    body = clean_text(text)
    return Message(
        id=message_id,
        session=session,
        participant=sender,
        seq=seq,
        text=body,
        html=render_message_html(body),
        sent_at=now,
        prompt_id=session.current_prompt_id,
        audience=audience,
        recipient=recipient,
        txn_id=txn_id,
    )


def announce(message: Message, *, guests: Sequence[int] = ()) -> None:
    """A message's event on commit to those who may read it; the private line's audit; the message-stored hooks.

    `guests`: the room's guests admitted now (read after the room's lock): a message to the
    room reaches no other guest, whatever a socket has heard of admissions and returns.

    Runs in the message's transaction once its id is known, on PostgreSQL before its
    INSERT is sent (with the COMMIT): the hooks write in the same transaction and send
    on commit, and must not look for the message's row.
    """
    event = message_out(message, as_event=ChatMessageEvent)
    session, sender, recipient, now = message.session, message.participant, message.recipient, message.sent_at
    audience = message.audience
    if audience == Audience.ROOM:
        send_event_on_commit(session.pk, event, seq=message.seq, guests=guests)
    elif audience == Audience.FACILITATORS:
        send_event_on_commit(session.pk, event, to="facilitators", ids=[sender.pk])
    else:
        send_event_on_commit(session.pk, event, to="none", ids=[sender.pk, recipient.pk if recipient else sender.pk])
    if audience != Audience.ROOM:
        # The private line is audited: who wrote to whom, and when; never the text.
        action = "private.send" if recipient is not None else "private.to_facilitators"
        record(session, sender, action, now, target=recipient, message_seq=message.seq)
    for hook in message_stored_hooks:
        hook(message)
