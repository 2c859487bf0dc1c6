"""One real daphne on SQLite with the in-memory layer: a whole session, from login to 4410."""

from __future__ import annotations

import asyncio

import pytest

from tests import e2e

pytestmark = [pytest.mark.e2e]

database = e2e.sqlite_db
daphne = e2e.daphne

PATIENTS = ["alex", "sam", "jordan"]


async def test_a_whole_session_over_real_sockets(database, daphne):
    env = e2e.server_env(database)
    clinic = e2e.provision(env, facilitator="dana", patients=PATIENTS, title="Thursday group")
    server = daphne(env, name="daphne-sqlite")
    cookies = await asyncio.to_thread(e2e.login_all, server.base_url, clinic.people.values())

    names = ["dana", *PATIENTS]
    clients = await asyncio.gather(
        *(e2e.ws_connect(server.base_url, clinic.session_id, cookies[n], name=n) for n in names)
    )
    people = dict(zip(names, clients, strict=True))
    dana, alex, sam, jordan = clients
    try:
        for name, client in people.items():
            assert client.close_code is None, f"{name} was refused: {client.close_code}"
            assert client.state["session"]["status"] == "scheduled"
            assert client.state["me"]["display_name"] == clinic[name].display_name
            assert client.state["messages"] == []
        assert dana.state["me"]["role"] == "facilitator"
        assert {p["role"] for p in alex.state["participants"]} >= {"facilitator", "patient"}

        # Before the start a patient may not chat.
        assert (await alex.request("chat.send", text="hello?"))["code"] == "not_live"

        # session.start: everyone hears the room go live.
        assert (await dana.request("session.start"))["type"] == "ack"
        for client in clients:
            status = await client.receive_type("session.status")
            assert status["status"] == "live"

        # mode.set open: everyone hears it, then patients may chat.
        assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
        for client in clients:
            assert (await client.receive_type("mode.changed"))["mode"] == "open"

        # Chat fan-out: each of the four speaks once; all four get every message, in seq order.
        sent = []
        for speaker in clients:
            text = f"{speaker.name} checking in <3 https://example.org/x"
            ack = await speaker.request("chat.send", text=text)
            assert ack["type"] == "ack", ack
            assert isinstance(ack["seq"], int) and isinstance(ack["message_id"], int)
            sent.append((ack["seq"], speaker, text))
        seqs = [seq for seq, _, _ in sent]
        assert seqs == sorted(seqs) and len(set(seqs)) == 4
        for client in clients:
            got = [await client.receive_type("chat.message") for _ in sent]
            assert [m["seq"] for m in got] == seqs
            for message, (_, speaker, text) in zip(got, sent, strict=True):
                assert message["participant_id"] == speaker.participant_id
                assert message["text"] == text
                assert message["display_name"] == clinic[speaker.name].display_name
                assert "&lt;3" in message["html"]
                assert 'rel="nofollow noopener noreferrer"' in message["html"]

        # Jordan drops off; three messages go by; Jordan reconnects with ?since= and gets exactly those.
        seen_by_jordan = jordan.last_seq
        assert seen_by_jordan == seqs[-1]
        await jordan.close()
        missed = []
        for speaker, text in ((alex, "while you were gone 1"), (dana, "while you were gone 2"), (sam, "gone 3")):
            ack = await speaker.request("chat.send", text=text)
            assert ack["type"] == "ack", ack
            missed.append((ack["seq"], text))
        jordan = await e2e.ws_connect(
            server.base_url, clinic.session_id, cookies["jordan"], since=seen_by_jordan, name="jordan-2"
        )
        people["jordan"] = jordan
        clients[3] = jordan
        assert jordan.close_code is None
        assert [(m["seq"], m["text"]) for m in jordan.state["messages"]] == missed
        assert jordan.state["session"]["status"] == "live" and jordan.state["session"]["mode"] == "open"

        # A fresh connection without ?since= gets the recent history, oldest first.
        assert [m["seq"] for m in jordan.state["messages"]] == sorted(m["seq"] for m in jordan.state["messages"])

        # Live again after the catch-up: the next message reaches Jordan too.
        ack = await alex.request("chat.send", text="welcome back")
        assert (await jordan.receive_type("chat.message"))["seq"] == ack["seq"]

        # session.end: everyone gets status ended and is closed with 4410.
        await dana.send(type="session.end", ref="end")
        for client in clients:
            status = await client.receive_type("session.status")
            assert status["status"] == "ended"
            assert await client.wait_closed() == 4410, client
        # The facilitator's own frame got its one reply before the close.
        assert [f for f in dana.frames if f.get("ref") == "end"] == [{"type": "ack", "ref": "end"}]

        # The room stays closed: a new connection is refused with 4410.
        late = await e2e.ws_connect(server.base_url, clinic.session_id, cookies["sam"], name="late")
        assert late.close_code == 4410
    finally:
        await e2e.close_all(people.values())

    e2e.assert_no_traceback(server.log_text(), name=server.name)
    assert server.healthz()[0] == 200
