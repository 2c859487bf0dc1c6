"""The agenda and the participation stats (issue 3): facilitators see them, nobody else ever does."""

from __future__ import annotations

import importlib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models import F
from django.utils import timezone

from facilitator import prompt_library
from facilitator import stats as stats_module
from facilitator.models import AgendaItem, FloorTurn
from facilitator.stats import STATS_SLICES, STATS_TICK, stats_slice
from rooms.hub import get_hub
from rooms.models import GroupSession, Prompt, PromptCategory
from tests import facilitation_support
from tests.conftest import connect_all, pid, set_room
from tests.facilitation_support import ask, frames_for, make_guest, of_type

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_layer")]
in_process_layer = facilitation_support.in_process_layer


async def test_agenda_is_planned_before_the_session_and_posted_in_order(connect, group, dana, alex):
    first = await Prompt.objects.acreate(category="stress", text="What is weighing on you today?")
    second = await Prompt.objects.acreate(category="goals", text="One small goal for this week?")
    dana_peer, alex_peer = await connect_all(connect, group, dana, alex)

    # Planned while the session is still scheduled.
    a = await ask(dana_peer, "agenda.add", prompt_id=first.pk)
    assert a["type"] == "ack" and a["position"] == 0 and a["prompt_id"] == first.pk
    custom = await ask(dana_peer, "agenda.add", category="coping", text="Check-in: one word for how you arrive?")
    assert custom["position"] == 1
    b = await ask(dana_peer, "agenda.add", prompt_id=second.pk, position=0)
    assert b["position"] == 0
    assert (await ask(dana_peer, "agenda.move", item_id=custom["item_id"], position=0))["type"] == "ack"
    assert (await ask(dana_peer, "agenda.remove", item_id=b["item_id"]))["type"] == "ack"

    frames = await frames_for(dana_peer)
    updates = of_type(frames, "agenda.updated")
    assert len(updates) == 5
    assert [(i["item_id"], i["position"]) for i in updates[-1]["agenda"]] == [
        (custom["item_id"], 0),
        (a["item_id"], 1),
    ]
    assert updates[-1]["agenda"][0]["prompt"]["text"] == "Check-in: one word for how you arrive?"
    fresh, _ = await connect(dana, group.pk)
    assert [i["item_id"] for i in fresh.state["agenda"]] == [custom["item_id"], a["item_id"]]
    assert all(i["posted_at"] is None for i in fresh.state["agenda"])

    # Live: agenda.next posts them one by one, in order.
    await ask(dana_peer, "session.start")
    reply = await ask(dana_peer, "agenda.next")
    assert (reply["item_id"], reply["prompt_id"]) == (custom["item_id"], custom["prompt_id"])
    reply = await ask(dana_peer, "agenda.next")
    assert (reply["item_id"], reply["prompt_id"]) == (a["item_id"], first.pk)
    assert (await ask(dana_peer, "agenda.next"))["code"] == "not_found"

    posted = of_type(await frames_for(alex_peer), "prompt.posted")
    assert [p["prompt"]["prompt_id"] for p in posted] == [custom["prompt_id"], first.pk]
    last = of_type(await frames_for(dana_peer), "agenda.updated")[-1]["agenda"]
    assert all(i["posted_at"] is not None for i in last)
    session = await GroupSession.objects.aget(pk=group.pk)
    assert session.current_prompt_id == first.pk

    # Patients never see the agenda.
    again, _ = await connect(alex, group.pk)
    assert again.state["agenda"] is None and again.state["prompt"]["prompt_id"] == first.pk
    assert of_type(await frames_for(alex_peer), "agenda.updated") == []


async def test_agenda_refusals(connect, group, dana):
    (dana_peer,) = await connect_all(connect, group, dana)
    assert (await ask(dana_peer, "agenda.add", prompt_id=987_654))["code"] == "not_found"
    assert (await ask(dana_peer, "agenda.add", category="coping"))["code"] == "invalid"
    assert (await ask(dana_peer, "agenda.remove", item_id=987_654))["code"] == "not_found"
    assert (await ask(dana_peer, "agenda.move", item_id=987_654, position=0))["code"] == "not_found"
    assert (await ask(dana_peer, "agenda.move", item_id=1, position=-1))["code"] == "invalid"
    assert (await ask(dana_peer, "agenda.next"))["code"] == "not_found", "an empty agenda has nothing next"
    # Another session's prompt or item is not reachable from this room.
    other = await GroupSession.objects.acreate(title="Other", starts_at=timezone.now())
    theirs = await Prompt.objects.acreate(category="goals", text="Private to the other group", session=other)
    item = await AgendaItem.objects.acreate(session=other, prompt=theirs, position=0)
    assert (await ask(dana_peer, "agenda.add", prompt_id=theirs.pk))["code"] == "not_found"
    assert (await ask(dana_peer, "agenda.remove", item_id=item.pk))["code"] == "not_found"
    assert await AgendaItem.objects.filter(session=other).aexists()


async def tick_stats(times: int = STATS_SLICES) -> None:
    """The stats duty, ticked by the test at the present time: `times` slices (STATS_SLICES: every room once)."""
    for _ in range(times):
        await get_hub().run_duties([STATS_TICK], timezone.now())


async def test_stats_reach_facilitators_only(connect, live_group, dana, alex, sam, monkeypatch):
    # The hub's own ticker never comes round during the test: the test ticks the stats duty itself.
    monkeypatch.setattr(stats_module, "STATS_SECONDS", 3600.0)
    await set_room(live_group, mode="open")
    guest_id, guest_cookie = await database_sync_to_async(make_guest)(live_group, admitted=True)
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    guest_peer, closed = await connect(guest_cookie, live_group.pk)
    assert closed is None
    dana_id, alex_id, sam_id = [await pid(live_group, m) for m in (dana, alex, sam)]
    jordan_id, riley_id = [
        p.pk async for p in live_group.participants.filter(display_name__in=["Jordan", "Riley"]).order_by("pk")
    ]

    # session.state: stats for facilitators, None for everyone else.
    assert dana_peer.state["stats"]["not_spoken"] == [alex_id, sam_id, jordan_id, riley_id, guest_id]
    for peer in (alex_peer, sam_peer, guest_peer):
        assert peer.state["stats"] is None and peer.state["agenda"] is None

    assert (await ask(alex_peer, "chat.send", text="hello"))["type"] == "ack"
    assert (await ask(alex_peer, "chat.send", text="how are you"))["type"] == "ack"
    assert (await ask(dana_peer, "floor.grant", participant_id=sam_id, seconds=60))["type"] == "ack"
    assert (await ask(dana_peer, "floor.revoke"))["type"] == "ack"
    # Sam held the floor for a second and a half (moved back here rather than waited for).
    turn = FloorTurn.objects.filter(participant_id=sam_id)
    await turn.aupdate(started_at=F("started_at") - timedelta(seconds=1.5))
    for peer in (dana_peer, alex_peer, sam_peer, guest_peer):
        await frames_for(peer, 0.2)  # the chat and the floor's own events

    await tick_stats()
    stats = of_type(await frames_for(dana_peer, 0.2), "stats")
    assert len(stats) == 1, "the facilitator got the room's stats once in a run of slices"
    latest = {row["participant_id"]: row for row in stats[-1]["participants"]}
    assert (latest[alex_id]["messages"], latest[alex_id]["characters"]) == (2, len("hello") + len("how are you"))
    assert 1 <= latest[sam_id]["floor_seconds"] <= 2
    assert latest[dana_id]["messages"] == 0 and latest[alex_id]["floor_seconds"] == 0
    assert stats[-1]["not_spoken"] == [sam_id, jordan_id, riley_id, guest_id]

    # Unchanged stats are not sent again (the room has been still since the revoke).
    await tick_stats()
    assert of_type(await frames_for(dana_peer, 0.2), "stats") == []

    # Nobody else ever receives them, over many ticks.
    await ask(alex_peer, "chat.send", text="and now?")
    await tick_stats(3 * STATS_SLICES)
    assert of_type(await frames_for(dana_peer, 0.2), "stats"), "changed stats are sent again"
    for peer in (alex_peer, sam_peer, guest_peer):
        assert of_type(await frames_for(peer, 0.2), "stats") == []

    fresh, _ = await connect(dana, live_group.pk)
    assert {r["participant_id"]: r["messages"] for r in fresh.state["stats"]["participants"]}[alex_id] == 3


async def test_stats_tick_at_most_every_five_seconds_by_default():
    assert STATS_TICK.every_seconds() * STATS_SLICES == 5.0


@pytest.mark.parametrize("first_tick", [0, 3, 1_000_001])
def test_each_room_has_its_stats_once_in_every_run_of_slices_ticks(first_tick):
    rooms = [3, 7, 10, 11, 12, 25, 26, 40, 1_000]
    slices = [stats_slice(rooms, tick) for tick in range(first_tick, first_tick + STATS_SLICES)]
    assert sorted(room for part in slices for room in part) == sorted(rooms)
    assert max(len(part) for part in slices) < len(rooms)  # the work comes in pieces


# ---------------------------------------------------------------- the prompt library


SEED_MIGRATION = "facilitator.migrations.0003_seed_prompt_library"
# The individual session's categories (withdrawal, motivation) and their prompts, seeded later (issue 23).
MI_SEED_MIGRATION = "rooms.migrations.0008_prompt_category_withdrawal_motivation"


@pytest.mark.django_db
def test_library_migration_seeds_seven_categories_idempotently():
    seed_migration = importlib.import_module(SEED_MIGRATION)
    # The models as they stood when the migration was written, as `migrate` hands them to it.
    state = MigrationLoader(connection).project_state(("facilitator", "0003_seed_prompt_library"))
    Prompt.objects.filter(session__isnull=True).delete()  # seeded by migrate: seed into an empty library
    seed_migration.seed(state.apps, None)
    seed_migration.seed(state.apps, None)  # running it again adds nothing
    library = Prompt.objects.filter(session__isnull=True)
    assert library.count() == len(seed_migration.PROMPTS) == 65
    assert set(library.values_list("category", flat=True)) == set(PromptCategory.values) - {
        PromptCategory.WITHDRAWAL,
        PromptCategory.MOTIVATION,
    }
    assert len(PromptCategory.values) == 9  # and rooms/0008 seeds withdrawal and motivation


def test_the_live_library_is_valid_and_is_what_the_migrations_seed():
    """An edit of facilitator/prompt_library.py needs a new data migration that brings existing databases
    along (with its own frozen copy of the change); then compare with what the migrations seed together."""
    prompt_library.validate()
    seeded = importlib.import_module(SEED_MIGRATION).PROMPTS + importlib.import_module(MI_SEED_MIGRATION).PROMPTS
    assert seeded == prompt_library.PROMPTS


@pytest.mark.django_db
def test_the_migrations_seed_the_live_library_in_every_category():
    """After `migrate`, the library in the database is the live module's, each category at least ten deep where
    the individual session's panel reads it (withdrawal, motivation)."""
    library = Prompt.objects.filter(session__isnull=True)  # as migrate left it, whatever ran before (tests/flush.py)
    assert sorted(library.values_list("category", "text")) == sorted(prompt_library.PROMPTS)
    for category in (PromptCategory.WITHDRAWAL, PromptCategory.MOTIVATION):
        assert library.filter(category=category).count() >= 10


def test_library_migration_seeds_a_frozen_copy_not_the_live_library():
    """Editing facilitator/prompt_library.py must not change what an old migration seeds or unseeds."""
    probe = (
        "import importlib, sys; "
        f"importlib.import_module({SEED_MIGRATION!r}); "
        "print('facilitator.prompt_library' in sys.modules)"
    )
    repo = Path(__file__).resolve().parent.parent
    ran = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    assert ran.stdout.strip() == "False"
