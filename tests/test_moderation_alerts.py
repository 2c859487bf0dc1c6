"""Crisis alerts: the message is delivered as usual; facilitators, and only they, get an `alert`."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from rooms.models import AuditEntry, GroupSession
from tests.conftest import pid
from tests.moderation_support import add_cofacilitator, collect, guest_cookie, make_guest

pytestmark = pytest.mark.django_db(transaction=True)

RISKY = "Honestly some nights I want to kill myself, but I'm here"


async def room_with_everyone(connect, session, dana, alex, sam):
    await GroupSession.objects.filter(pk=session.pk).aupdate(mode="open")
    morgan = await sync_to_async(add_cofacilitator)(session)
    guest = await sync_to_async(make_guest)(session, sam)
    peers = {
        "dana": (await connect(dana, session.pk))[0],
        "morgan": (await connect(morgan, session.pk))[0],
        "alex": (await connect(alex, session.pk))[0],
        "sam": (await connect(sam, session.pk))[0],
        "guest": (await connect(await sync_to_async(guest_cookie)(guest), session.pk))[0],
    }
    await collect_all(peers, 0.3)  # arrivals
    return peers


async def collect_all(peers, seconds=1.0):
    frames = await asyncio.gather(*(collect(peer, seconds) for peer in peers.values()))
    return dict(zip(peers, frames, strict=True))


async def test_alert_reaches_facilitators_only_and_the_message_is_delivered_as_usual(
    connect, live_group, dana, alex, sam
):
    peers = await room_with_everyone(connect, live_group, dana, alex, sam)
    alex_id = await pid(live_group, alex)

    reply = await peers["alex"].request("chat.send", text=RISKY)
    assert reply["type"] == "ack", "a message is never blocked"

    frames = await collect_all(peers)
    for name in ("dana", "morgan", "sam", "guest"):
        delivered = [f for f in frames[name] if f["type"] == "chat.message"]
        assert [m["text"] for m in delivered] == [RISKY], name
        assert delivered[0]["message_id"] == reply["message_id"]
    for name in ("dana", "morgan"):
        alerts = [f for f in frames[name] if f["type"] == "alert"]
        assert len(alerts) == 1, name
        alert = alerts[0]
        assert alert["message_id"] == reply["message_id"]
        assert alert["participant_id"] == alex_id
        assert alert["kind"] == "suicide"
        assert alert["excerpt"] and alert["excerpt"].strip("…") in RISKY
        assert alert["resources"] == settings.CIRCLE["CRISIS_RESOURCES"]
    for name in ("alex", "sam", "guest"):
        assert [f for f in frames[name] if f["type"] == "alert"] == [], f"{name} must never see an alert"

    # The report records that an alert was raised, without the excerpt.
    entry = await AuditEntry.objects.aget(action="alert")
    assert entry.target_id == alex_id and entry.message_seq == reply["seq"] and entry.detail == {"kind": "suicide"}
    assert entry.actor_id is None and entry.removed_text == "" and "kill" not in str(entry.detail)


async def test_alert_on_the_private_line_and_none_for_ordinary_messages(connect, live_group, dana, alex, sam):
    peers = await room_with_everyone(connect, live_group, dana, alex, sam)
    await peers["sam"].request("chat.send", text="Had a good week, went for walks every evening")
    await peers["alex"].request("chat.send", text="I relapsed last night", to="facilitators")
    frames = await collect_all(peers)
    for name in ("dana", "morgan"):
        alerts = [f for f in frames[name] if f["type"] == "alert"]
        assert [a["kind"] for a in alerts] == ["relapse"], name
    assert [(f["type"], f.get("text")) for f in frames["guest"] if f["type"] in {"alert", "chat.message"}] == [
        ("chat.message", "Had a good week, went for walks every evening")
    ]
    assert [f for f in frames["sam"] if f["type"] == "alert" or f.get("audience") == "facilitators"] == []


async def test_only_facilitators_get_the_crisis_resources_in_session_state(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    alex_peer, _ = await connect(alex, live_group.pk)
    assert dana_peer.state["crisis_resources"] == settings.CIRCLE["CRISIS_RESOURCES"]
    assert alex_peer.state.get("crisis_resources") is None


def test_crisis_resources_default_to_988_and_come_from_the_environment():
    assert "988" in settings.CIRCLE["CRISIS_RESOURCES"]
    assert "Suicide & Crisis Lifeline" in settings.CIRCLE["CRISIS_RESOURCES"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "CRISIS_RESOURCES": "Call the clinic: 555-0100"}
    shown = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(settings.CIRCLE['CRISIS_RESOURCES'])"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "Call the clinic: 555-0100"
