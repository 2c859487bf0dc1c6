"""chat.send on PostgreSQL sends its INSERT with its COMMIT, and that changes nothing else.

When its transaction is the outermost one, the action sends the COMMIT itself,
in one round trip with the message's INSERT (rooms.chat_store.postgresql.send_with_commit),
and Django's commit then finds nothing left to do. These tests run it on real
connections, with no test transaction around them: what it commits is seen by
another connection, on-commit broadcasts still follow the commit, what fails
(in the INSERT or at the COMMIT) leaves nothing behind and broadcasts nothing,
and inside a caller's transaction it commits nothing of the caller's.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rooms import broadcast
from rooms.actions import chat
from rooms.chat_store import base, chat_store
from rooms.models import GroupSession, Message, Participant
from tests.conftest import on_another_thread, participant

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the COMMIT sent with the INSERT is PostgreSQL's (DATABASE_URL=postgres://...)")


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The events the actions hand to the channel layer, in order (on commit)."""
    events: list[dict[str, Any]] = []
    monkeypatch.setattr(broadcast, "publish", lambda envelope: events.append(json.loads(envelope["text"])))
    return events


def committed_state(room: int, sender: int) -> tuple[list[tuple[int, int, str]], int, int]:
    """The room's stored messages (id, seq, text), its last seq and the sender's count, as another
    connection sees them: only what committed."""
    return on_another_thread(
        lambda: (
            list(Message.objects.filter(session_id=room).order_by("seq").values_list("id", "seq", "text")),
            GroupSession.objects.get(pk=room).last_seq,
            Participant.objects.get(pk=sender).room_messages,
        )
    )


def idle() -> bool:
    """No transaction is left open on the action's connection."""
    return connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_message_commits_with_its_insert_and_broadcasts_after(live_group, dana, published):
    lead = participant(live_group, dana).pk

    message = chat.do_send_chat(live_group.pk, lead, "  Welcome, everyone  ", timezone.now())

    assert idle()
    assert committed_state(live_group.pk, lead) == ([(message.pk, message.seq, "Welcome, everyone")], message.seq, 1)
    assert [(event["type"], event["message_id"], event["seq"]) for event in published] == [
        ("chat.message", message.pk, message.seq)
    ]
    second = chat.do_send_chat(live_group.pk, lead, "Let's begin", timezone.now())
    assert (second.seq, second.pk > message.pk) == (message.seq + 1, True)
    assert committed_state(live_group.pk, lead)[1:] == (second.seq, 2)


def test_a_failed_insert_leaves_nothing_and_broadcasts_nothing(live_group, dana, published, monkeypatch):
    lead = participant(live_group, dana).pk
    first = chat.do_send_chat(live_group.pk, lead, "first", timezone.now())
    before = committed_state(live_group.pk, lead)
    store = chat_store()
    claim = store.claim_room_and_sender

    def claim_with_a_taken_id(*args: Any, **kwargs: Any) -> Any:
        room, claimed = claim(*args, **kwargs)
        assert claimed is not None
        return room, dataclasses.replace(claimed, message_id=first.pk)  # the INSERT then breaks the primary key

    monkeypatch.setattr(store, "claim_room_and_sender", claim_with_a_taken_id)
    with pytest.raises(IntegrityError):
        chat.do_send_chat(live_group.pk, lead, "never stored", timezone.now())

    assert idle()
    assert committed_state(live_group.pk, lead) == before
    assert [event["text"] for event in published] == ["first"]
    monkeypatch.undo()
    after = chat.do_send_chat(live_group.pk, lead, "still works", timezone.now())
    assert after.seq == first.seq + 1  # the failed message's seq was rolled back with it


def test_a_failed_commit_leaves_nothing_and_broadcasts_nothing(live_group, dana, published, monkeypatch):
    """PostgreSQL checks the deferred foreign keys at the COMMIT, which left with the INSERT."""
    lead = participant(live_group, dana).pk
    before = committed_state(live_group.pk, lead)
    read_room = base.room_from_row

    def room_with_a_missing_prompt(*args: Any) -> GroupSession:
        session = read_room(*args)
        session.current_prompt_id = 2**40  # no such prompt: only the COMMIT finds out
        return session

    monkeypatch.setattr(base, "room_from_row", room_with_a_missing_prompt)
    with pytest.raises(IntegrityError, match="prompt"):
        chat.do_send_chat(live_group.pk, lead, "never stored", timezone.now())

    assert idle()
    assert committed_state(live_group.pk, lead) == before
    assert published == []
    monkeypatch.undo()
    assert chat.do_send_chat(live_group.pk, lead, "still works", timezone.now()).seq == before[1] + 1


def test_inside_a_callers_transaction_the_action_commits_nothing(live_group, dana, published):
    lead = participant(live_group, dana).pk
    before = committed_state(live_group.pk, lead)

    with transaction.atomic():
        message = chat.do_send_chat(live_group.pk, lead, "inside", timezone.now())
        assert committed_state(live_group.pk, lead) == before  # not committed by the action
        assert Message.objects.filter(pk=message.pk).exists()  # but there, in the caller's transaction
        transaction.set_rollback(True)

    assert committed_state(live_group.pk, lead) == before
    assert published == []
