"""The idle-consumer trap: a worker on Redis must still deliver after a long quiet spell.

redis-py 8 gives every socket a 5 s timeout by default; channels-redis blocks on
BZPOPMIN for longer than that while nothing happens, so an idle worker's
receive dies (channels_redis#422) unless the layer sets socket_timeout=None.
One long test on purpose: 65 s of silence, then a message must get through,
and the worker must not have logged a single traceback meanwhile.
"""

from __future__ import annotations

import asyncio

import pytest

from tests import e2e

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.slow]

database = e2e.postgres_db
daphne = e2e.daphne

IDLE_SECONDS = 65


@pytest.mark.timeout(IDLE_SECONDS + 180)
async def test_idle_connection_still_gets_messages_after_65_seconds(database, daphne):
    env = e2e.server_env(database, redis_url=e2e.redis_url())
    clinic = e2e.provision(env, facilitator="dana", patients=["alex"], title="Quiet evening")
    server = daphne(env, name="daphne-idle")
    cookies = await asyncio.to_thread(e2e.login_all, server.base_url, clinic.people.values())

    dana = await e2e.ws_connect(server.base_url, clinic.session_id, cookies["dana"], name="dana")
    alex = await e2e.ws_connect(server.base_url, clinic.session_id, cookies["alex"], name="alex")
    try:
        assert dana.close_code is None and alex.close_code is None
        assert (await dana.request("session.start"))["type"] == "ack"
        assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
        assert (await alex.receive_type("mode.changed"))["mode"] == "open"
        # The layer works before the quiet spell.
        first = await dana.request("chat.send", text="Let's sit quietly for a minute.")
        for client in (alex, dana):
            assert (await client.receive_type("chat.message"))["seq"] == first["seq"]

        # Nothing at all happens in the room for 65 s (the clients still answer pings).
        await asyncio.sleep(IDLE_SECONDS)

        assert server.running(), f"the worker died while idle:\n{server.log_text()}"
        for client in (dana, alex):
            assert client.is_open, f"{client.name}'s socket closed while idle:\n{server.log_text()}"
        # Another client's chat.send still reaches the idle one, both ways.
        ack = await dana.request("chat.send", text="Thank you. How was that?")
        assert ack["type"] == "ack", ack
        message = await alex.receive_type("chat.message", timeout=5)
        assert (message["seq"], message["text"]) == (ack["seq"], "Thank you. How was that?")
        ack = await alex.request("chat.send", text="Calmer.")
        assert ack["type"] == "ack", ack
        assert (await dana.receive_type("chat.message", where=lambda m: m["seq"] == ack["seq"]))["text"] == "Calmer."
        assert server.healthz()[0] == 200
    finally:
        await e2e.close_all([dana, alex])

    e2e.assert_no_traceback(server.log_text(), name=server.name)
