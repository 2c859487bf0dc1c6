"""chat.send's batches are stored on a thread of their own, not queued behind the pool the other actions share.

The reconnect storm (bench/storm.py, issue 25 item 3) found chat waiting seconds behind
hundreds of reconnects' opens and catch-ups in that pool's queue. Here every thread of the
shared pool is held busy; a chat.send must still be stored (on the chat thread) meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from rooms import group_commit
from rooms.actions.chat import ChatRequest
from rooms.group_commit import ChatCommitter
from rooms.models import Message

# The chat thread outlives each test's loop, and the database connection it opened for an earlier test with it.
pytestmark = pytest.mark.django_db


async def test_a_chat_batch_is_stored_while_every_shared_database_thread_is_busy(monkeypatch):
    def store_on_this_thread(requests: list[ChatRequest]) -> list[Message]:
        return [Message(participant_id=r.participant_id, text=threading.current_thread().name) for r in requests]

    monkeypatch.setattr(group_commit, "do_send_chats", store_on_this_thread)
    loop = asyncio.get_running_loop()
    release = threading.Event()
    # More jobs than the shared pool has threads (at most 32): its queue holds the rest, as in a storm.
    busy = [loop.run_in_executor(None, release.wait) for _ in range(40)]
    try:
        request = ChatRequest(session_id=1, participant_id=7, text="hi", now=datetime(2026, 12, 7, tzinfo=UTC))
        # A bound on a wait, not a measured time: without a thread of its own, the batch waits until `release`.
        message = await asyncio.wait_for(ChatCommitter().send(request), timeout=10)
    finally:
        release.set()
        await asyncio.gather(*busy)
    assert message.text.startswith("circle-chat")
