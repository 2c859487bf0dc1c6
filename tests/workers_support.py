"""Helpers for the tests that run two real daphne workers on one PostgreSQL database and one
Redis channel layer (tests/test_e2e_workers.py, tests/test_facilitation_e2e.py); no tests here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping

from tests import e2e

FACILITATOR = "dana"
PATIENTS = ["alex", "sam", "jordan", "riley"]
EVERYONE = [FACILITATOR, *PATIENTS]


def create_clinic(env: Mapping[str, str]) -> None:
    """The facilitator and the patients every session of these tests is scheduled with."""
    e2e.create_members(
        env,
        [
            e2e.Person(FACILITATOR, "facilitator", "Dana"),
            *(e2e.Person(name, "patient", name.capitalize()) for name in PATIENTS),
        ],
    )


def schedule(env: Mapping[str, str], title: str) -> int:
    return e2e.schedule_session(env, title=title, facilitator=FACILITATOR, patients=PATIENTS)


class Visit:
    """One session seen through the workers: every client joined here is closed when the visit ends."""

    def __init__(self, session_id: int, cookies: Mapping[str, str]) -> None:
        self.id = session_id
        self.cookies = cookies
        self.clients: list[e2e.Client] = []

    async def join(self, server: e2e.ServerProcess, who: str, **options) -> e2e.Client:
        """`who`'s WebSocket through `server` (named who@server); it must be let in."""
        client = await e2e.ws_connect(
            server.base_url, self.id, self.cookies[who], name=f"{who}@{server.name}", **options
        )
        self.clients.append(client)
        assert client.close_code is None, f"{who} on {server.name} was refused with {client.close_code}"
        return client

    async def join_all(self, *seats: tuple[e2e.ServerProcess, str]) -> list[e2e.Client]:
        """join() each (server, who) in turn."""
        return [await self.join(server, who) for server, who in seats]


@contextlib.asynccontextmanager
async def visit(
    session_id: int, cookies: Mapping[str, str], *, clean: Iterable[e2e.ServerProcess]
) -> AsyncIterator[Visit]:
    """Close every client joined in the block; when the block passed, the `clean` workers must
    still run with no traceback or error in their logs."""
    room = Visit(session_id, cookies)
    try:
        yield room
    finally:
        await e2e.close_all(room.clients)
    for server in clean:
        assert server.running(), f"{server.name} exited"
        e2e.assert_no_traceback(server.log_text(), name=server.name)
