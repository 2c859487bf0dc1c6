"""One object per event loop: per worker process in production, per test in the suite.

The hub, the socket guards and the event publisher each keep state that belongs
to the loop they run on (tasks, sockets, a queue); a module-level singleton would
leak it from one test's loop into the next.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LoopLocal(Generic[T]):
    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._values: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        """The running loop's object, made on first use (call on the loop)."""
        loop = asyncio.get_running_loop()
        value = self._values.get(loop)
        if value is None:
            value = self._values[loop] = self._factory()
        return value

    def pop(self) -> T | None:
        """Forget the running loop's object, if it has one (its owner stops it)."""
        return self._values.pop(asyncio.get_running_loop(), None)
