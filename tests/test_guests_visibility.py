"""What a guest may read: only messages sent while admitted, in session.state, ?since= and every reconnect;
other people's names and roles and nothing more; one session only; purged after the retention period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Member
from rooms.actions.lifecycle import do_schedule_session
from rooms.models import AuditEntry, GroupSession, Participant
from tests.guests_support import ainvite_and_redeem, invite_and_redeem

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    """These tests send more than 5 messages in 10 seconds on purpose."""
    settings.CIRCLE = {**settings.CIRCLE, "RATE_LIMIT_COUNT": 1000}


async def say(peer, text):
    reply = await peer.request("chat.send", text=text)
    assert reply["type"] == "ack", reply
    return reply["seq"]


async def admitted_guest(connect, session, dana_peer, patient, name="Maria"):
    _, redeemed, guest = await ainvite_and_redeem(session, patient, name)
    peer, closed = await connect(redeemed.cookie, session.pk)
    assert closed is None
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    await peer.receive_type("session.state")
    return peer, guest, redeemed


async def test_reconnecting_with_an_old_since_shows_only_the_admitted_spans(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    before = [await say(dana_peer, f"before {n}") for n in range(3)]
    guest_peer, guest, redeemed = await admitted_guest(connect, live_group, dana_peer, alex)
    first_span = [await say(dana_peer, f"first span {n}") for n in range(2)]
    await dana_peer.request("lobby.return", participant_id=guest.pk)
    while_waiting = [await say(dana_peer, f"while waiting {n}") for n in range(2)]
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    second_span = [await say(dana_peer, f"second span {n}") for n in range(2)]
    await guest_peer.close()

    for since in (None, 0, before[0]):
        peer, closed = await connect(redeemed.cookie, live_group.pk, since=since)
        assert closed is None
        seqs = [m["seq"] for m in peer.state["messages"]]
        assert seqs == first_span + second_span, (since, seqs)
        assert not set(seqs) & set(before + while_waiting)
        await peer.close()
    # ?since= inside the first span: the rest of it and the second span, never the lobby time.
    peer, _ = await connect(redeemed.cookie, live_group.pk, since=first_span[0])
    assert [m["seq"] for m in peer.state["messages"]] == first_span[1:] + second_span


async def test_a_returned_guest_reconnecting_sees_nothing(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    guest_peer, guest, redeemed = await admitted_guest(connect, live_group, dana_peer, alex)
    await say(dana_peer, "seen while admitted")
    await dana_peer.request("lobby.return", participant_id=guest.pk)
    await say(dana_peer, "said while waiting")
    await guest_peer.close()
    peer, _ = await connect(redeemed.cookie, live_group.pk, since=0)
    assert peer.state["messages"] == [] and peer.state["me"]["admitted"] is False


async def test_a_guest_sees_names_and_roles_and_nothing_private(connect, live_group, dana, alex, sam):
    dana_peer, _ = await connect(dana, live_group.pk)
    sam_peer, _ = await connect(sam, live_group.pk)
    guest_peer, _, redeemed = await admitted_guest(connect, live_group, dana_peer, alex)
    sam_id = (await Participant.objects.aget(session=live_group, member=sam)).pk
    await dana_peer.request("private.send", participant_id=sam_id, text="Private to Sam")
    await say(dana_peer, "To everyone")
    await sam_peer.send(type="chat.send", to="facilitators", text="Only for Dana")
    while (await dana_peer.receive_type("chat.message"))["text"] != "Only for Dana":
        pass
    assert (await guest_peer.receive_type("chat.message"))["text"] == "To everyone"
    assert await guest_peer.nothing_more(), "neither the private line nor the facilitators' line reaches a guest"

    await guest_peer.close()
    peer, _ = await connect(redeemed.cookie, live_group.pk, since=0)
    state = peer.state
    assert [m["text"] for m in state["messages"]] == ["To everyone"]
    assert state["invites"] is None and state["crisis_resources"] is None
    assert state.get("agenda") is None and state.get("stats") is None
    people = {p["display_name"]: p for p in state["participants"]}
    assert people["Dana"]["role"] == "facilitator" and people["Sam"]["role"] == "patient"
    assert "sam" not in str(state).replace("Sam", "") and "dana" not in str(state).replace("Dana", "")


async def test_a_guest_cookie_opens_no_other_session(connect, live_group, dana, alex, sam):
    other = await sync_to_async(do_schedule_session)(
        title="Thursday group",
        facilitator="dana",
        patients=["alex", "sam"],
        starts_at=timezone.now(),
        allow_guests=True,
    )
    _, redeemed, _ = await ainvite_and_redeem(live_group, alex)
    _, closed = await connect(redeemed.cookie, other.pk)
    assert closed == 4403
    _, closed = await connect(redeemed.cookie, live_group.pk)
    assert closed is None


def test_guest_cookie_gets_no_data_from_member_pages(live_group, dana, alex, sam, client):
    _, redeemed, _ = invite_and_redeem(live_group, alex)
    guest = redeemed.client
    for path in (
        "/",
        "/admin/",
        f"/sessions/{live_group.pk}/attendance/",
        f"/sessions/{live_group.pk}/invites/",
        f"/sessions/{live_group.pk}/transcript/",
        f"/sessions/{live_group.pk}/audit/",
    ):
        response = guest.get(path)
        assert response.status_code in {302, 403, 404}, (path, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith(("/accounts/login/", "/admin/login/")), path
        body = response.content.decode()
        assert "Sam" not in body and "Tuesday group" not in body, path
    # The room page of its own session still opens.
    assert guest.get(f"/sessions/{live_group.pk}/").status_code == 200


def test_guest_cookie_opens_no_other_sessions_room_page(live_group, dana, alex):
    other = do_schedule_session(
        title="Thursday group", facilitator="dana", patients=["alex"], starts_at=timezone.now(), allow_guests=True
    )
    _, redeemed, _ = invite_and_redeem(live_group, alex)
    response = redeemed.client.get(f"/sessions/{other.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_guest_cookie_expires_with_its_session(live_group, dana, alex):
    _, redeemed, _ = invite_and_redeem(live_group, alex)
    expiry = redeemed.client.session.get_expiry_date()
    assert live_group.ends_at < expiry <= live_group.ends_at + timedelta(hours=2)
    GroupSession.objects.filter(pk=live_group.pk).update(status="ended", ended_at=timezone.now())
    response = redeemed.client.get(f"/sessions/{live_group.pk}/")
    assert response.status_code == 410
    # The cookie was dropped with it: the next request is simply signed out.
    response = redeemed.client.get(f"/sessions/{live_group.pk}/")
    assert response.status_code == 302


async def test_after_the_session_ends_the_guest_is_closed_4410(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    guest_peer, _, redeemed = await admitted_guest(connect, live_group, dana_peer, alex)
    await dana_peer.send(type="session.end")  # everyone, Dana too, is closed with 4410 right after
    status = await guest_peer.receive_type("session.status")
    assert status["status"] == "ended"
    assert await guest_peer.communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4410}
    _, closed = await connect(redeemed.cookie, live_group.pk)
    assert closed == 4410


def test_purge_expired_forgets_guest_names_and_relationships_after_retention(live_group, dana, alex, settings):
    guest_pass, _, guest = invite_and_redeem(live_group, alex, "Maria", "spouse")
    ended_at = timezone.now() - timedelta(days=settings.RETENTION_DAYS - 1)
    GroupSession.objects.filter(pk=live_group.pk).update(status="ended", ended_at=ended_at)
    other_guest_row = Participant.objects.get(pk=guest.pk)

    call_command("purge_expired")  # within the retention period: kept
    other_guest_row.refresh_from_db()
    assert other_guest_row.display_name == "Maria" and other_guest_row.relationship == "spouse"

    GroupSession.objects.filter(pk=live_group.pk).update(ended_at=ended_at - timedelta(days=2))
    call_command("purge_expired")
    guest.refresh_from_db()
    guest_pass.refresh_from_db()
    assert guest.display_name != "Maria" and "Maria" not in guest.display_name
    assert guest.relationship == ""
    assert guest_pass.name == ""
    audit = AuditEntry.objects.filter(session=live_group)
    assert not any("Maria" in f"{e.actor_label} {e.target_label} {e.detail}" for e in audit)
    # Members are untouched.
    assert Member.objects.get(username="alex").display_name == "Alex"
    assert Participant.objects.get(session=live_group, member__username="alex").display_name == "Alex"
