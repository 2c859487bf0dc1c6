"""The clinical record's goals: the actions on the real database, session.state per viewer, and the frames
over the consumer (who may set, review and change what; who hears of it)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from record.actions import do_review_goal, do_set_goal, do_set_goal_status
from record.models import Goal, GoalReview
from record.state import goals_for, goals_state
from rooms.actions.lifecycle import do_schedule_session
from rooms.errors import ActionError
from rooms.models import AuditEntry, GoalStatus, GroupSession, Participant
from rooms.schemas import GoalOut
from tests.conftest import participant, pid
from tests.moderation_support import add_cofacilitator, collect, guest_cookie, make_guest

NOW = timezone.now()


def individual(patient: str = "alex", starts_at=None) -> GroupSession:
    return do_schedule_session(
        title="Alex 1:1", facilitator="dana", patients=[patient], kind="individual", starts_at=starts_at or NOW
    )


def seen(session: GroupSession, viewer: Participant) -> list[GoalOut]:
    goals = goals_for(session, viewer)
    assert goals is not None, "a member sees a list of goals"
    return goals


def record_rows() -> tuple[list, list, int]:
    return (
        list(Goal.objects.order_by("pk").values_list("pk", "text", "why", "status")),
        list(GoalReview.objects.order_by("pk").values_list("pk", "progress")),
        AuditEntry.objects.count(),
    )


# ---------------------------------------------------------------- actions on the real database


@pytest.mark.django_db
def test_a_goal_set_in_an_individual_session_is_in_the_next_sessions_state_with_its_reviews(dana, alex, group):
    first = individual()
    lead, me = participant(first, dana), participant(first, alex)
    goal = do_set_goal(first.pk, me.pk, me.pk, "  Call my sister   every Sunday ", "She keeps me going", NOW)
    assert goal.text == "Call my sister every Sunday" and goal.set_by_label == "Alex (patient)"
    do_review_goal(first.pk, lead.pk, goal.pk, NOW, progress=3, note="A start", importance=8, confidence=4)
    # The next session, of the other kind: the goal is there, with its last review, for Alex and for Dana.
    seat = participant(group, alex)
    (mine,) = seen(group, seat)
    assert (mine.goal_id, mine.participant_id, mine.status) == (goal.pk, seat.pk, GoalStatus.ACTIVE)
    assert [(r.progress, r.importance, r.confidence, r.session_id) for r in mine.reviews] == [(3, 8, 4, first.pk)]
    facilitator_view = seen(group, participant(group, dana))
    assert [g.goal_id for g in facilitator_view] == [goal.pk]
    do_review_goal(group.pk, seat.pk, goal.pk, NOW + timedelta(days=7), progress=6)
    (mine,) = seen(group, seat)
    assert [r.progress for r in mine.reviews] == [6], "the last review only"
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-3:] == ["goal.set", "goal.review", "goal.review"]


@pytest.mark.django_db
def test_state_holds_a_patients_own_goals_only_and_none_for_a_guest(group, dana, alex, sam):
    lead = participant(group, dana)
    alex_goal = do_set_goal(group.pk, lead.pk, participant(group, alex).pk, "Sleep by eleven", None, NOW)
    sam_goal = do_set_goal(group.pk, lead.pk, participant(group, sam).pk, "Walk daily", None, NOW)
    dropped = do_set_goal(group.pk, lead.pk, participant(group, sam).pk, "An old plan", None, NOW)
    do_set_goal_status(group.pk, lead.pk, dropped.pk, GoalStatus.DROPPED, NOW)
    assert [g.goal_id for g in seen(group, participant(group, alex))] == [alex_goal.pk]
    assert [g.goal_id for g in seen(group, participant(group, sam))] == [sam_goal.pk]
    assert {g.goal_id for g in seen(group, lead)} == {alex_goal.pk, sam_goal.pk}
    guest = make_guest(group, alex)
    assert goals_for(group, guest) is None and goals_state(group, guest, NOW) == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "attempt", "code"),
    [
        ("alex", lambda s, ids: do_set_goal(s.pk, ids["alex"], ids["alex"], "   ", None, NOW), "invalid"),
        ("alex", lambda s, ids: do_set_goal(s.pk, ids["alex"], ids["alex"], "\u200b\u202e", None, NOW), "invalid"),
        ("alex", lambda s, ids: do_set_goal(s.pk, ids["alex"], ids["sam"], "For Sam", None, NOW), "not_allowed"),
        ("alex", lambda s, ids: do_review_goal(s.pk, ids["alex"], ids["sam_goal"], NOW, progress=5), "not_allowed"),
        ("alex", lambda s, ids: do_review_goal(s.pk, ids["alex"], 999_999, NOW, progress=5), "not_found"),
        ("dana", lambda s, ids: do_review_goal(s.pk, ids["dana"], 999_999, NOW, progress=5), "not_found"),
        (
            "alex",
            lambda s, ids: do_set_goal_status(s.pk, ids["alex"], ids["alex_goal"], GoalStatus.MET, NOW),
            "not_allowed",
        ),
        ("guest", lambda s, ids: do_set_goal(s.pk, ids["guest"], ids["alex"], "Hi", None, NOW), "not_allowed"),
        ("dana", lambda s, ids: do_set_goal(s.pk, ids["dana"], ids["guest"], "Hi", None, NOW), "not_found"),
        ("dana", lambda s, ids: do_set_goal(s.pk, ids["dana"], ids["dana"], "Hi", None, NOW), "not_found"),
    ],
)
def test_bad_goal_actions_are_refused_and_change_nothing(group, dana, alex, sam, who, attempt, code):
    lead = participant(group, dana)
    ids = {
        "dana": lead.pk,
        "alex": participant(group, alex).pk,
        "sam": participant(group, sam).pk,
        "guest": make_guest(group, alex).pk,
    }
    ids["sam_goal"] = do_set_goal(group.pk, lead.pk, ids["sam"], "Walk daily", None, NOW).pk
    ids["alex_goal"] = do_set_goal(group.pk, lead.pk, ids["alex"], "Sleep by eleven", None, NOW).pk
    before = record_rows()
    with pytest.raises(ActionError) as refused:
        attempt(group, ids)
    assert refused.value.code == code and str(refused.value.message)
    assert record_rows() == before


@pytest.mark.django_db
def test_a_facilitator_outside_the_session_cannot_review_a_goal_of_a_patient_not_on_its_roster(dana, alex, sam):
    theirs = individual("alex")
    goal = do_set_goal(theirs.pk, participant(theirs, alex).pk, participant(theirs, alex).pk, "Rest", None, NOW)
    other = individual("sam")
    with pytest.raises(ActionError) as refused:
        do_review_goal(other.pk, participant(other, dana).pk, goal.pk, NOW, progress=1)
    assert refused.value.code == "not_found"
    assert not GoalReview.objects.exists()


# ---------------------------------------------------------------- frames over the consumer


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"progress": 11}, "invalid"),
        ({"progress": -1}, "invalid"),
        ({"progress": "5"}, "invalid"),
        ({"progress": 5.0}, "invalid"),
        ({"progress": True}, "invalid"),
        ({"progress": 5, "importance": 12}, "invalid"),
        ({"progress": 5, "note": "x" * 2001}, "invalid"),
    ],
)
async def test_out_of_range_reviews_are_invalid_with_a_clear_message(connect, live_group, dana, alex, frame, expected):
    me = await pid(live_group, alex)
    goal = await sync_to_async(do_set_goal)(live_group.pk, me, me, "Walk", None, NOW)
    peer, _ = await connect(alex, live_group.pk)
    before = await sync_to_async(record_rows)()
    answer = await peer.request("goal.review", goal_id=goal.pk, **frame)
    assert answer["type"] == "error" and answer["code"] == expected and answer["message"]
    assert await sync_to_async(record_rows)() == before


@pytest.mark.django_db(transaction=True)
async def test_goal_events_reach_the_facilitators_and_that_patient_only(connect, live_group, dana, alex, sam):
    morgan = await sync_to_async(add_cofacilitator)(live_group)
    guest = await sync_to_async(make_guest)(live_group, alex)
    waiting = await sync_to_async(make_guest)(live_group, sam, "Robin", admitted=False)
    who = {
        "dana": dana,
        "morgan": morgan,
        "alex": alex,
        "alex again": alex,
        "sam": sam,
        "guest": await sync_to_async(guest_cookie)(guest),
        "lobby": await sync_to_async(guest_cookie)(waiting),
    }
    peers = {name: (await connect(member, live_group.pk))[0] for name, member in who.items()}
    assert peers["alex"].state["goals"] == [] and peers["dana"].state["goals"] == []
    assert peers["guest"].state.get("goals") is None and peers["lobby"].state.get("goals") is None
    await asyncio.gather(*(collect(peer, 0.3) for peer in peers.values()))
    alex_id = await pid(live_group, alex)
    before_reply: dict[str, list] = {name: [] for name in peers}

    async def ask(name: str, frame_type: str, **fields) -> dict:
        reply, events = await peers[name].request_with_events(frame_type, **fields)
        before_reply[name].extend(events)  # events that reached the sender before its ack
        return reply

    ack = await ask("alex", "goal.set", participant_id=alex_id, text="Call my sister", why="She helps")
    assert ack["type"] == "ack" and ack["goal_id"]
    review = await ask("dana", "goal.review", goal_id=ack["goal_id"], progress=4, importance=9)
    assert review["type"] == "ack" and review["review_id"]
    status = await ask("morgan", "goal.status", goal_id=ack["goal_id"], status="met")
    assert status["type"] == "ack"
    later = await asyncio.gather(*(collect(p, 0.8) for p in peers.values()))
    got = {name: before_reply[name] + frames for name, frames in zip(peers, later, strict=True)}
    heard = {name: [f for f in frames if f["type"].startswith("goal.")] for name, frames in got.items()}
    for name in ("dana", "morgan", "alex", "alex again"):
        assert [f["goal"]["status"] for f in heard[name]] == ["active", "active", "met"], name
        assert heard[name][-1]["goal"]["participant_id"] == alex_id
        assert [r["progress"] for r in heard[name][-1]["goal"]["reviews"]] == [4]
    for name in ("sam", "guest", "lobby"):
        assert heard[name] == [], name
        assert "Call my sister" not in str(got[name])


@pytest.mark.django_db(transaction=True)
async def test_a_patient_cannot_set_a_goal_for_another_or_change_a_status(connect, live_group, dana, alex, sam):
    peer, _ = await connect(alex, live_group.pk)
    sam_peer, _ = await connect(sam, live_group.pk)
    answer = await peer.request("goal.set", participant_id=await pid(live_group, sam), text="For Sam")
    assert answer["type"] == "error" and answer["code"] == "not_allowed"
    empty = await peer.request("goal.set", participant_id=await pid(live_group, alex), text=" \n ")
    assert empty["type"] == "error" and empty["code"] == "invalid"
    too_long = await peer.request("goal.set", participant_id=await pid(live_group, alex), text="x" * 301)
    assert too_long["type"] == "error" and too_long["code"] == "invalid"
    unknown = await peer.request("goal.review", goal_id=123456, progress=3)
    assert unknown["type"] == "error" and unknown["code"] == "not_found"
    assert not await Goal.objects.aexists()
    assert not [f for f in await collect(sam_peer, 0.3) if f["type"].startswith("goal.")]
