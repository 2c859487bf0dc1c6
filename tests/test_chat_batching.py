"""A worker's chat.sends go to the database in batches (rooms.group_commit), with no database here.

The database call is replaced by one that records each batch and answers from a
script; a gate holds a batch on its "thread" so that others arrive meanwhile.
What must hold: a message with nothing ahead of it goes at once and alone; what
arrives meanwhile goes together next, one message per participant, in arrival
order; every sender gets their own answer; a failed batch is sent again one by
one, except while the database is known to be unreachable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import IntegrityError

from rooms import group_commit
from rooms.actions.chat import ChatRequest
from rooms.errors import ActionError
from rooms.faults import DatabaseUnavailable
from rooms.group_commit import ChatCommitter
from rooms.models import Message

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def request(participant_id: int, text: str) -> ChatRequest:
    return ChatRequest(session_id=1, participant_id=participant_id, text=text, now=NOW)


class ScriptedDatabase:
    """Stands in for `db(do_send_chats)`: records the texts of each batch, answers by `answer`."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.answer: Callable[[list[ChatRequest]], list[Message | ActionError]] = self.store_all

    @staticmethod
    def store_all(requests: list[ChatRequest]) -> list[Message | ActionError]:
        return [Message(session_id=r.session_id, participant_id=r.participant_id, text=r.text) for r in requests]

    def __call__(self, action: Any, executor: Any = None) -> Callable[[list[ChatRequest]], Any]:
        async def run(requests: list[ChatRequest]) -> list[Message | ActionError]:
            self.batches.append([r.text for r in requests])
            await self.gate.wait()
            return self.answer(requests)

        return run

    async def held(self) -> None:
        """Wait until a batch is on its way and held at the gate."""
        self.gate.clear()
        count = len(self.batches)
        while len(self.batches) == count:
            await asyncio.sleep(0)


async def behind_a_held_batch(
    committer: ChatCommitter, database: ScriptedDatabase, sends: list[tuple[int, str]]
) -> tuple[asyncio.Task[Message], list[asyncio.Task[Message]]]:
    """Participant 1's "a" goes first and is held on its way; `sends` (participant, text) arrive
    meanwhile and wait. Returns the tasks of "a" and of the others; the caller opens the gate."""
    first = asyncio.create_task(committer.send(request(1, "a")))
    await database.held()
    rest = [asyncio.create_task(committer.send(request(participant, text))) for participant, text in sends]
    await asyncio.sleep(0)
    return first, rest


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> ScriptedDatabase:
    scripted = ScriptedDatabase()
    monkeypatch.setattr(group_commit, "db", scripted)
    return scripted


async def test_a_message_with_nothing_ahead_goes_at_once_and_alone(database):
    message = await ChatCommitter().send(request(1, "hello"))

    assert message.text == "hello"
    assert database.batches == [["hello"]]


async def test_what_arrives_meanwhile_goes_together_one_message_per_participant(database):
    committer = ChatCommitter()
    sends = [(2, "b"), (3, "c"), (2, "b2"), (4, "d"), (2, "b3")]
    first, rest = await behind_a_held_batch(committer, database, sends)
    database.gate.set()

    results = await asyncio.gather(first, *rest)

    assert database.batches == [["a"], ["b", "c", "d"], ["b2"], ["b3"]]
    assert [m.text for m in results] == ["a", "b", "c", "b2", "d", "b3"]
    assert committer.runner is None and not committer.waiting


async def test_a_refusal_is_its_senders_alone(database):
    database.answer = lambda requests: [
        ActionError("no_floor", "Raise your hand.") if r.participant_id == 2 else ScriptedDatabase.store_all([r])[0]
        for r in requests
    ]
    first, (refused, stored) = await behind_a_held_batch(ChatCommitter(), database, [(2, "b"), (3, "c")])
    database.gate.set()

    assert (await first).text == "a"
    with pytest.raises(ActionError) as error:
        await refused
    assert error.value.code == "no_floor"
    assert (await stored).text == "c"
    assert database.batches == [["a"], ["b", "c"]]


async def test_a_failed_batch_is_sent_again_one_by_one(database):
    def fail_on_bad(requests: list[ChatRequest]) -> list[Message | ActionError]:
        if any(r.text == "bad" for r in requests):
            raise IntegrityError("duplicate key value violates unique constraint")
        return ScriptedDatabase.store_all(requests)

    database.answer = fail_on_bad
    first, batch = await behind_a_held_batch(ChatCommitter(), database, [(2, "b"), (3, "bad"), (4, "d")])
    database.gate.set()

    b, bad, d = await asyncio.gather(*batch, return_exceptions=True)

    assert (await first).text == "a"
    assert isinstance(bad, IntegrityError)
    assert isinstance(b, Message) and isinstance(d, Message)
    assert (b.text, d.text) == ("b", "d")
    assert database.batches == [["a"], ["b", "bad", "d"], ["b"], ["bad"], ["d"]]


async def test_while_the_database_is_unreachable_a_batch_fails_at_once(database):
    def unreachable_after_a(requests: list[ChatRequest]) -> list[Message | ActionError]:
        if [r.text for r in requests] == ["a"]:
            return ScriptedDatabase.store_all(requests)
        raise DatabaseUnavailable("the database was unreachable a moment ago")

    database.answer = unreachable_after_a
    first, batch = await behind_a_held_batch(ChatCommitter(), database, [(2, "b"), (3, "c")])
    database.gate.set()

    results = await asyncio.gather(*batch, return_exceptions=True)

    assert (await first).text == "a"
    assert all(isinstance(result, DatabaseUnavailable) for result in results)
    assert database.batches == [["a"], ["b", "c"]]  # not sent again one by one


async def test_a_message_is_stored_even_if_its_sender_stops_waiting(database):
    sends = [(2, "sent, then the socket closed"), (3, "c")]
    first, (gone, stays) = await behind_a_held_batch(ChatCommitter(), database, sends)
    gone.cancel()
    database.gate.set()

    assert [(await first).text, (await stays).text] == ["a", "c"]
    assert gone.cancelled()
    assert database.batches == [["a"], ["sent, then the socket closed", "c"]]
