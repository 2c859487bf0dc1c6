"""Across two real daphne workers (PostgreSQL, Redis): what ends a sign-in reaches the sockets on both.

The safety sweep is set to an hour (SOCKET_RECHECK_SECONDS): a socket closed within the
test was told through the channel layer, from a page on the other worker (logout) or from
a process that is neither worker (an account deactivated by a management command).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from tests import e2e
from tests.workers_support import EVERYONE, create_clinic, schedule, visit

pytestmark = [pytest.mark.e2e, pytest.mark.services]

database = e2e.postgres_db


@pytest.fixture(scope="module")
def workers(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], list]]:
    env = e2e.server_env(database, redis_url=e2e.redis_url(), SOCKET_RECHECK_SECONDS="3600")
    create_clinic(env)
    logs = tmp_path_factory.mktemp("e2e-sign-in-push")
    a = e2e.ServerProcess(env, name="worker-a", log_dir=logs)
    b = e2e.ServerProcess(env, name="worker-b", log_dir=logs)
    try:
        a.start()
        b.start()
        yield env, [a, b]
    finally:
        a.terminate()
        b.terminate()


def logout(base_url: str, cookie: str) -> int:
    """POST /accounts/logout/ as the signed-in page does (its CSRF token from the dashboard)."""
    status, headers, page = e2e.http_request(base_url, "GET", "/", headers={"Cookie": cookie})
    assert status == 200, status
    csrf = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", ""))
    token = re.search(r'name="csrfmiddlewaretoken"[^>]*?value="([^"]+)"', page)
    assert csrf and token, "the dashboard carries no CSRF token"
    status, _, _ = e2e.http_request(
        base_url,
        "POST",
        "/accounts/logout/",
        body=urlencode({"csrfmiddlewaretoken": token.group(1)}).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"{cookie}; csrftoken={csrf.group(1)}",
            "Origin": base_url,
            "Referer": f"{base_url}/",
        },
    )
    return status


async def test_logout_on_one_worker_closes_the_sockets_on_both(workers):
    env, (a, b) = workers
    cookies = await asyncio.to_thread(e2e.login_all, a.base_url, EVERYONE)
    async with visit(schedule(env, "Logout across workers"), cookies, clean=(a, b)) as room:
        alex_a, alex_b, sam_b = await room.join_all((a, "alex"), (b, "alex"), (b, "sam"))
        assert await asyncio.to_thread(logout, a.base_url, cookies["alex"]) == 302
        for client in (alex_a, alex_b):
            assert await client.wait_closed(timeout=5) == 4401
        assert (await sam_b.request("ping"))["type"] == "ack"


async def test_deactivating_an_account_closes_its_sockets_on_both_workers(workers):
    env, (a, b) = workers
    cookies = await asyncio.to_thread(e2e.login_all, a.base_url, EVERYONE)
    async with visit(schedule(env, "Deactivation across workers"), cookies, clean=(a, b)) as room:
        riley_a, riley_b, jordan_a = await room.join_all((a, "riley"), (b, "riley"), (a, "jordan"))
        code = (
            "from accounts.models import Member; "
            "m = Member.objects.get(username='riley'); m.is_active = False; m.save()"
        )
        await asyncio.to_thread(e2e.manage, env, "shell", "-c", code)
        for client in (riley_a, riley_b):
            assert await client.wait_closed(timeout=5) == 4401
        assert (await jordan_a.request("ping"))["type"] == "ack"
