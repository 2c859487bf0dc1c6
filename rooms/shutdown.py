"""Graceful shutdown: on SIGTERM a worker sends its WebSocket clients to another worker.

Daphne runs Twisted on asyncio; Twisted's own SIGTERM handler stops the reactor
at once: daphne cancels every application instance (no close frame is sent, no
`disconnect` runs) and Twisted then drops every socket, unsent bytes included.
Clients would see 1006 and their presence rows would linger until the sweep.

So the hub, when it starts under daphne, puts its own handler in front of
Twisted's. On the first SIGTERM the worker

1. stops listening, so the load balancer sends new connections elsewhere;
2. closes each WebSocket with 1012 (service restart), after any reply it is
   finishing (RoomHub.drain), so the client reconnects at once and resumes
   with ?since=;
3. waits for each close handshake to complete: the client has then received
   the close frame, so nothing is left unsent when the process exits;
4. waits RECONNECT_GRACE_SECONDS, then closes the rows of its connections:
   whoever reconnected elsewhere stays online without a left/joined flicker;
5. stops the reactor, as Twisted would have (daphne's own shutdown follows).

All of it is bounded by DRAIN_TIMEOUT_SECONDS, below the 10 s that Docker
(and most supervisors) wait before SIGKILL. A second SIGTERM stops at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from typing import Any

logger = logging.getLogger(__name__)

DRAIN_TIMEOUT_SECONDS = 8.0
RECONNECT_GRACE_SECONDS = 2.0

_installed = False


def _daphne_reactor() -> Any:
    """Twisted's reactor when it runs this very event loop (daphne), else None (tests, other servers)."""
    module = sys.modules.get("twisted.internet.reactor")  # never import it: that would install one
    if module is None:
        return None
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    if getattr(module, "_asyncioEventloop", None) is not loop or not getattr(module, "running", False):
        return None
    return module


def install_sigterm_handler(hub: Any) -> None:
    """Called when the hub starts (the reactor is running by then and has installed its own handlers)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return  # runserver with the autoreloader runs the server off the main thread: Twisted's handling stays
    reactor = _daphne_reactor()
    if reactor is None:
        return
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)
    started = False

    def on_sigterm(signum: int, frame: Any) -> None:
        nonlocal started
        if started:
            logger.warning("second SIGTERM: stopping at once")
            if callable(previous):
                previous(signum, frame)
            else:
                loop.call_soon_threadsafe(reactor.stop)
            return
        started = True
        loop.call_soon_threadsafe(lambda: loop.create_task(drain_then_stop(hub, reactor), name="circle-drain"))

    signal.signal(signal.SIGTERM, on_sigterm)
    _installed = True


def stop_listening(reactor: Any) -> None:
    from twisted.internet.tcp import Port

    for reader in list(reactor.getReaders()):
        if isinstance(reader, Port):
            reader.stopListening()


async def drain_then_stop(hub: Any, reactor: Any) -> None:
    count = len(hub.local_receivers())
    logger.warning("SIGTERM: sending %d WebSocket clients to another worker (close 1012), then stopping", count)
    try:
        stop_listening(reactor)
        await asyncio.wait_for(hub.drain(RECONNECT_GRACE_SECONDS), DRAIN_TIMEOUT_SECONDS)
    except Exception as error:  # whatever happened, the worker must still stop
        logger.warning("graceful shutdown incomplete (%r); stopping anyway", error)
    else:
        logger.warning("graceful shutdown done: clients closed with 1012, presence handed over")
    finally:
        reactor.stop()
