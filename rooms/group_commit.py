"""chat.send in batches: a worker's waiting messages share one transaction (group commit).

Every chat.send of a worker goes through its committer. While nothing is being
stored, a message is stored at once and alone, as it always was: no wait is
added. While a batch is on its database thread, the messages that arrive wait and
go together in the next one, so the busier the worker, the more messages share a
transaction, a database thread's turn and the round trips to PostgreSQL
(rooms.actions.chat.do_send_chats; docs/performance-journal.md, eleventh round). A batch takes at most one
message per participant (the rate limit reads their history as it stood before
the batch): a second one from the same person waits for the next batch.

A database error in a batch of several stores none of them; they are then sent one
by one, so that whatever caused it fails only its own request.

The batches run on a database thread of their own (CHAT_THREAD), not on the pool
the other actions share: when hundreds of sockets reconnect at once (a deploy's
1012s, bench/storm.py), their opens and catch-ups fill that pool's queue, and
chat queued behind them waited seconds (storm p99 3.6 to 7.3 s; 1.1 to 1.7 s on
its own thread, on the same busy machine). One thread is enough: a worker stores
one batch at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from config.loop_local import LoopLocal
from rooms.actions.chat import ChatRequest, do_send_chats
from rooms.faults import DatabaseUnavailable, db
from rooms.models import Message

logger = logging.getLogger(__name__)

CHAT_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="circle-chat")

Waiting = tuple[ChatRequest, "asyncio.Future[Message]"]


class ChatCommitter:
    """One per event loop (a worker): its chat.sends, stored one batch at a time."""

    # A batch's statements grow with it; beyond this, one more batch costs little.
    MAX_BATCH = 64

    def __init__(self) -> None:
        self.waiting: deque[Waiting] = deque()
        self.runner: asyncio.Task[None] | None = None

    async def send(self, request: ChatRequest) -> Message:
        """Store one chat.send with whatever else is waiting: its Message, or the ActionError that refused it.

        A request whose sender stops waiting (the socket closed) is stored all the
        same, as a call already on its database thread would be.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Message] = loop.create_future()
        self.waiting.append((request, future))
        if self.runner is None:
            self.runner = loop.create_task(self._run(), name="circle-group-commit")
        return await future

    async def _run(self) -> None:
        try:
            while self.waiting:
                await self._store(self._take())
        finally:
            # No await between the last emptiness check and here: a request queued from now on starts a new run.
            self.runner = None

    def _take(self) -> list[Waiting]:
        """The next batch: the oldest waiting request of each participant, in arrival order."""
        batch: list[Waiting] = []
        later: list[Waiting] = []
        senders: set[int] = set()
        while self.waiting and len(batch) < self.MAX_BATCH:
            item = self.waiting.popleft()
            if item[0].participant_id in senders:
                later.append(item)
            else:
                senders.add(item[0].participant_id)
                batch.append(item)
        self.waiting.extendleft(reversed(later))  # still ahead of what arrived after them
        return batch

    async def _store(self, batch: list[Waiting]) -> None:
        try:
            results = await db(do_send_chats, CHAT_THREAD)([request for request, _ in batch])
        except Exception as error:
            if len(batch) == 1 or isinstance(error, DatabaseUnavailable):
                for _, future in batch:
                    settle(future, error)
                return
            logger.warning("a batch of %d messages failed (%s); sending them one by one", len(batch), error)
            for item in batch:
                await self._store([item])
            return
        for (_, future), result in zip(batch, results, strict=True):
            settle(future, result)


def settle(future: asyncio.Future[Message], result: Message | BaseException) -> None:
    if future.done():  # its sender stopped waiting
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


_committers: LoopLocal[ChatCommitter] = LoopLocal(ChatCommitter)


def chat_committer() -> ChatCommitter:
    """The running loop's committer (call on the loop)."""
    return _committers.get()
