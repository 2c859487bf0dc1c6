"""Cancelling a session over real sockets (issue 24): a real daphne, patients connected, the facilitator
cancels on the page (and, with Redis, from the command line of another process): everyone connected gets
`session.status cancelled` and is closed with 4410, and a new socket is refused with 4410."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

import pytest

from tests import e2e

pytestmark = [pytest.mark.e2e]

daphne = e2e.daphne
PATIENTS = ["alex", "sam"]


def cancel_on_the_page(base_url: str, session_id: int, cookie: str) -> int:
    """GET the cancel page for its CSRF token, then POST the form as the browser would."""
    path = f"/sessions/{session_id}/cancel/"
    status, headers, page = e2e.http_request(base_url, "GET", path, headers={"Cookie": cookie})
    assert status == 200, page[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    csrf = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", ""))
    assert token and csrf
    status, _, _ = e2e.http_request(
        base_url,
        "POST",
        f"/sessions/{session_id}/cancel/",
        body=urlencode({"reason": "Snow", "csrfmiddlewaretoken": token[1]}).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"{cookie}; csrftoken={csrf[1]}",
            "Origin": base_url,
            "Referer": f"{base_url}/sessions/{session_id}/cancel/",
        },
    )
    return status


async def connected(server: e2e.ServerProcess, session_id: int, cookies: dict[str, str]) -> list[e2e.Client]:
    clients = await asyncio.gather(
        *(e2e.ws_connect(server.base_url, session_id, cookies[n], name=n) for n in ["dana", *PATIENTS])
    )
    assert all(c.close_code is None for c in clients)
    return list(clients)


async def everyone_hears_cancelled_and_is_closed(clients: list[e2e.Client]) -> None:
    for client in clients:
        status = await client.receive_type("session.status")
        assert status["status"] == "cancelled"
        assert await client.wait_closed() == 4410


async def test_cancel_on_the_page_closes_every_socket_with_4410(tmp_path, daphne):
    env = e2e.server_env(e2e.sqlite_database(tmp_path))
    clinic = e2e.provision(env, patients=PATIENTS, title="Snowy evening")
    server = daphne(env, name="daphne-cancel")
    cookies = await asyncio.to_thread(e2e.login_all, server.base_url, clinic.people.values())
    clients = await connected(server, clinic.session_id, cookies)
    assert await asyncio.to_thread(cancel_on_the_page, server.base_url, clinic.session_id, cookies["dana"]) == 302
    await everyone_hears_cancelled_and_is_closed(clients)
    late = await e2e.ws_connect(server.base_url, clinic.session_id, cookies["alex"], name="alex-late")
    assert late.close_code == 4410
    e2e.assert_no_traceback(server.log_text(), name="daphne-cancel")


postgres_db = e2e.postgres_db


@pytest.mark.services
async def test_cancel_session_from_another_process_reaches_the_sockets(postgres_db, daphne):
    env = e2e.server_env(postgres_db, redis_url=e2e.redis_url())
    clinic = e2e.provision(env, patients=PATIENTS, title="Snowy evening")
    server = daphne(env, name="daphne-cancel-redis")
    cookies = await asyncio.to_thread(e2e.login_all, server.base_url, clinic.people.values())
    clients = await connected(server, clinic.session_id, cookies)
    await asyncio.to_thread(e2e.manage, env, "cancel_session", str(clinic.session_id), "--reason", "Snow")
    await everyone_hears_cancelled_and_is_closed(clients)
    e2e.assert_no_traceback(server.log_text(), name="daphne-cancel-redis")
