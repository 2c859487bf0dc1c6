"""Sign-in security: throttling, password rules, the facilitators' second factor, sign-out and automatic logoff.

Must hold (issue 9): the throttle locks after the set number of failures; logout
closes the socket; the idle timeout ends the session.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from accounts.actions import do_create_member, do_enroll_totp
from accounts.idle import LAST_ACTIVITY_KEY, SIGNED_IN_AT_KEY
from accounts.models import SecurityEvent
from accounts.provisioning import ProvisioningError
from rooms.actions.lifecycle import do_schedule_session
from tests.conftest import PASSWORD, after_the_grace, pid
from tests.security_support import logged_in_client, make_guest, session_store

LOCKED_TEXT = "Too many failed sign-in attempts"


def attempt(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


# ---------------------------------------------------------------- the contract's form still works


@pytest.mark.django_db
def test_login_form_with_csrf_signs_in_and_logout_signs_out(alex):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    token = page.context["csrf_token"]
    response = client.post(
        "/accounts/login/", {"username": "alex", "password": PASSWORD, "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in(client)
    logout_token = client.cookies["csrftoken"].value
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": logout_token})
    assert response.status_code == 302
    assert not signed_in(client)
    kinds = list(SecurityEvent.objects.values_list("kind", flat=True))
    assert kinds == ["login.succeeded", "logout"]


# ---------------------------------------------------------------- throttling


@pytest.mark.django_db
def test_throttle_locks_the_username_after_the_set_number_of_failures(client, alex, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    for n in range(4):
        response = attempt(client, "alex", f"wrong-{n}")
        assert response.status_code == 200 and LOCKED_TEXT not in response.content.decode()
    fifth = attempt(client, "alex", "wrong-5")
    assert fifth.status_code == 429 and LOCKED_TEXT in fifth.content.decode()
    # Locked: even the right password is refused, with the same clear message, and not checked.
    right = attempt(client, "Alex ", PASSWORD)  # however the name is typed
    assert right.status_code == 429 and LOCKED_TEXT in right.content.decode()
    assert not signed_in(client)
    events = list(SecurityEvent.objects.values_list("kind", "username", "address"))
    assert events == [("login.failed", "alex", "10.0.0.1")] * 5 + [("login.locked", "alex", "10.0.0.1")]
    # The audit trail never holds what was typed as a password.
    assert not SecurityEvent.objects.filter(detail__icontains="wrong").exists()
    # Another member at the same address is not locked out by Alex's lock.
    other = Client()
    make = do_create_member("sam2", "patient", "Sam", PASSWORD)
    assert attempt(other, make.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_lock_lifts_when_the_failures_age_out(client, alex, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        attempt(client, "alex", f"wrong-{n}")
    assert attempt(client, "alex", PASSWORD).status_code == 429
    SecurityEvent.objects.update(created_at=timezone.now() - timedelta(minutes=settings.LOGIN_LOCK_MINUTES + 1))
    assert attempt(client, "alex", PASSWORD).status_code == 302
    assert signed_in(client)


@pytest.mark.django_db
def test_a_successful_sign_in_resets_the_username_count(client, alex, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    attempt(client, "alex", "wrong-1")
    attempt(client, "alex", "wrong-2")
    assert attempt(client, "alex", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    attempt(client, "alex", "wrong-3")
    attempt(client, "alex", "wrong-4")
    assert attempt(client, "alex", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_throttle_locks_an_address_spraying_many_usernames(client, alex, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    for n in range(4):
        attempt(client, f"nobody{n}", "guess", address="203.0.113.9")
    refused = attempt(client, "alex", PASSWORD, address="203.0.113.9")
    assert refused.status_code == 429 and "this network address" in refused.content.decode()
    # The same member from elsewhere signs in.
    assert attempt(Client(), "alex", PASSWORD, address="198.51.100.7").status_code == 302


@pytest.mark.django_db
def test_the_admin_login_is_throttled_too(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    from accounts.models import Member

    Member.objects.create_superuser("root", password=PASSWORD, role="facilitator", display_name="Root")
    for n in range(2):
        client.post("/admin/login/", {"username": "root", "password": f"x{n}"}, REMOTE_ADDR="10.0.0.2")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2"
    )
    assert response.status_code == 200  # the form again, not the redirect of a sign-in
    assert client.get("/admin/").status_code == 302


# ---------------------------------------------------------------- password rules


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["short1", "password123", "12345678901", "alexander-alex"])
def test_password_validators_refuse_weak_passwords(password):
    with pytest.raises(ProvisioningError, match="password refused"):
        do_create_member("alexander", "patient", "Alex", password)


def test_password_validators_are_configured(settings):
    names = {v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert names == {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }


# ---------------------------------------------------------------- second factor (TOTP) for facilitators


def current_code(username: str) -> str:
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.mark.django_db
def test_enroll_totp_command(dana, alex, capsys):
    call_command("enroll_totp", "dana")
    uri = capsys.readouterr().out.strip().splitlines()[-1]
    assert uri.startswith("otpauth://totp/Circle%3Adana?secret=")
    with pytest.raises(CommandError, match="already has"):
        call_command("enroll_totp", "dana")
    call_command("enroll_totp", "dana", "--replace")
    with pytest.raises(CommandError, match="only facilitators"):
        call_command("enroll_totp", "alex")
    with pytest.raises(CommandError, match="no member"):
        call_command("enroll_totp", "nobody")
    assert SecurityEvent.objects.filter(kind="otp.enrolled", username="dana").count() == 2


@pytest.mark.django_db
def test_facilitator_must_pass_the_second_factor_when_required(client, dana, settings):
    settings.FACILITATOR_2FA = True
    do_enroll_totp("dana", timezone.now())
    assert attempt(client, "dana", PASSWORD).status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/verify/")
    wrong = client.post("/accounts/verify/", {"token": "000000" if current_code("dana") != "000000" else "111111"})
    assert wrong.status_code == 400 and "did not match" in wrong.content.decode()
    assert client.get("/").status_code == 302
    # Guessing is throttled: right after a failure even the right code must wait.
    hurried = client.post("/accounts/verify/", {"token": current_code("dana")})
    assert hurried.status_code == 429 and "wait" in hurried.content.decode()
    time.sleep(1.1)
    right = client.post("/accounts/verify/", {"token": current_code("dana"), "next": "/"})
    assert right.status_code == 302 and right["Location"] == "/"
    assert client.get("/").status_code == 200
    kinds = list(SecurityEvent.objects.filter(username="dana").values_list("kind", flat=True))
    assert kinds == ["otp.enrolled", "login.succeeded", "otp.failed", "otp.succeeded"]


@pytest.mark.django_db
def test_an_unenrolled_facilitator_is_told_to_ask_staff(client, dana, settings):
    settings.FACILITATOR_2FA = True
    attempt(client, "dana", PASSWORD)
    page = client.get("/accounts/verify/")
    assert page.status_code == 200 and "enroll_totp" in page.content.decode()
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_patients_and_unrequired_facilitators_have_no_second_step(client, dana, alex, settings):
    settings.FACILITATOR_2FA = True
    attempt(client, "alex", PASSWORD)
    assert client.get("/").status_code == 200
    settings.FACILITATOR_2FA = False
    other = Client()
    attempt(other, "dana", PASSWORD)
    assert other.get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_a_facilitators_socket_needs_the_second_factor(connect, group, dana, settings):
    settings.FACILITATOR_2FA = True
    await sync_to_async(do_enroll_totp)("dana", timezone.now())
    client = Client()
    await sync_to_async(attempt)(client, "dana", PASSWORD)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    _, closed = await connect(cookie, group.pk)
    assert closed == 4401
    code = await sync_to_async(current_code)("dana")
    await sync_to_async(client.post)("/accounts/verify/", {"token": code})
    peer, closed = await connect(cookie, group.pk)
    assert closed is None and peer.state["me"]["role"] == "facilitator"


# ---------------------------------------------------------------- logout closes sockets


@pytest.mark.django_db(transaction=True)
async def test_logout_closes_that_persons_sockets_at_once(connect, live_group, dana, alex, sam):
    other_room = await sync_to_async(do_schedule_session)(
        title="Thursday", facilitator="dana", patients=["alex"], starts_at=timezone.now()
    )
    client, cookie = await sync_to_async(logged_in_client)(alex)
    tab, _ = await connect(cookie, live_group.pk)
    second_tab, _ = await connect(alex, live_group.pk)  # another sign-in of Alex (another device)
    elsewhere, _ = await connect(cookie, other_room.pk)
    sam_peer, _ = await connect(sam, live_group.pk)
    response = await sync_to_async(client.post)("/accounts/logout/")
    assert response.status_code == 302
    for peer in (tab, second_tab, elsewhere):
        frames, code = await peer.until_close(timeout=3)
        assert code == 4401
        assert frames[-1] == {"type": "auth.signed_out", "reason": "logout"}
        await peer.close()  # the browser's side of the close handshake (daphne reports it to the consumer)
    # Sam is untouched and hears that Alex left (once the absence grace has passed: presence is debounced).
    await after_the_grace()
    left = await sam_peer.receive_type("participant.left")
    assert left["participant_id"] == await pid(live_group, alex)
    assert (await sam_peer.request("hand.lower"))["type"] == "ack"
    # The old cookie opens nothing.
    _, closed = await connect(cookie, live_group.pk)
    assert closed == 4401
    assert await SecurityEvent.objects.filter(kind="logout", username="alex").aexists()


@pytest.mark.django_db(transaction=True)
async def test_a_guest_signing_out_closes_the_guests_socket(connect, live_group, dana, alex):
    guest = await sync_to_async(make_guest)(live_group, alex, "Pat", admitted=True)
    peer, closed = await connect(guest.cookie, live_group.pk)
    assert closed is None
    alex_peer, _ = await connect(alex, live_group.pk)
    client = Client()
    client.cookies["sessionid"] = guest.cookie.split("=", 1)[1]
    await sync_to_async(client.post)("/accounts/logout/")
    _, code = await peer.until_close()
    assert code == 4401
    assert (await alex_peer.request("hand.lower"))["type"] == "ack"


# ---------------------------------------------------------------- automatic logoff


def age_session(cookie: str, seconds: float) -> str:
    key = cookie.split("=", 1)[1]
    store = session_store(key)
    store[LAST_ACTIVITY_KEY] = time.time() - seconds
    store.save()
    return key


@pytest.mark.django_db
def test_idle_http_session_is_signed_out(client, alex, settings):
    client.force_login(alex)
    assert client.get("/").status_code == 200
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    age_session(cookie, settings.IDLE_TIMEOUT_SECONDS - 60)  # not yet
    assert client.get("/").status_code == 200
    key = age_session(cookie, settings.IDLE_TIMEOUT_SECONDS + 1)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not session_store(key).exists(key)
    assert not signed_in(client)
    assert SecurityEvent.objects.filter(kind="idle.timeout", username="alex").exists()


@pytest.mark.django_db
def test_a_sign_in_ends_after_session_max_hours_however_active(client, alex, settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert attempt(client, "alex", PASSWORD).status_code == 302
    key = client.cookies["sessionid"].value
    store = session_store(key)
    assert store[SIGNED_IN_AT_KEY] == store[LAST_ACTIVITY_KEY]  # both set at sign-in
    store[SIGNED_IN_AT_KEY] = time.time() - settings.SESSION_COOKIE_AGE - 1
    store.save()
    response = client.get("/")  # active a moment ago, but signed in too long ago
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not session_store(key).exists(key)
    assert SecurityEvent.objects.filter(kind="session.expired", username="alex").exists()


@pytest.mark.django_db(transaction=True)
async def test_a_socket_closes_when_its_sign_in_is_too_old(connect, live_group, alex, settings):
    settings.SOCKET_RECHECK_SECONDS = 0.2
    client = Client()
    await sync_to_async(attempt)(client, "alex", PASSWORD)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    peer, _ = await connect(cookie, live_group.pk)
    assert (await peer.request("ping"))["type"] == "ack"
    settings.SESSION_COOKIE_AGE = 1
    _, code = await peer.until_close(timeout=4)
    assert code == 4401
    assert await SecurityEvent.objects.filter(kind="session.expired", username="alex").aexists()


def test_idle_timeout_defaults_to_30_minutes_and_reads_the_environment(monkeypatch):
    import subprocess
    import sys

    code = "import django; django.setup(); from django.conf import settings; print(settings.IDLE_TIMEOUT_SECONDS)"
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"}
    default = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert default.stdout.strip() == "1800"
    custom = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "IDLE_TIMEOUT_MINUTES": "5"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert custom.stdout.strip() == "300"


@pytest.mark.django_db(transaction=True)
async def test_an_http_idle_timeout_closes_the_persons_open_sockets(connect, live_group, alex, settings):
    client, cookie = await sync_to_async(logged_in_client)(alex)
    peer, _ = await connect(cookie, live_group.pk)
    await sync_to_async(age_session)(cookie, settings.IDLE_TIMEOUT_SECONDS + 1)
    response = await sync_to_async(client.get)("/")
    assert response.status_code == 302
    frames, code = await peer.until_close()
    assert code == 4401 and frames[-1] == {"type": "auth.signed_out", "reason": "idle"}


@pytest.mark.django_db(transaction=True)
async def test_an_idle_socket_ends_the_session(connect, live_group, alex, settings):
    settings.IDLE_TIMEOUT_SECONDS = 1
    settings.SOCKET_RECHECK_SECONDS = 0.2
    client, cookie = await sync_to_async(logged_in_client)(alex)
    peer, _ = await connect(cookie, live_group.pk)
    started = time.monotonic()
    _, code = await peer.until_close(timeout=4)
    assert code == 4401 and time.monotonic() - started < 3
    # The session itself ended: the cookie opens neither a socket nor a page.
    _, closed = await connect(cookie, live_group.pk)
    assert closed == 4401
    assert (await sync_to_async(client.get)("/")).status_code == 302
    event = await SecurityEvent.objects.filter(kind="idle.timeout").afirst()
    assert event is not None and event.username == "alex" and event.detail == {"via": "websocket"}


@pytest.mark.django_db(transaction=True)
async def test_frames_from_the_client_are_activity(connect, live_group, alex, settings):
    settings.IDLE_TIMEOUT_SECONDS = 1
    settings.SOCKET_RECHECK_SECONDS = 0.2
    settings.SESSION_ACTIVITY_WRITE_SECONDS = 0
    client, cookie = await sync_to_async(logged_in_client)(alex)
    peer, _ = await connect(cookie, live_group.pk)
    began = time.time()
    for _ in range(10):  # 3 s of pings, three times the timeout
        assert (await peer.request("ping"))["type"] == "ack"
        await asyncio.sleep(0.3)
    # The socket's activity was written to the session: the HTTP side sees it as active too.
    key = cookie.split("=", 1)[1]
    stored = (await sync_to_async(session_store(key).load)())[LAST_ACTIVITY_KEY]
    assert stored > began + 2
    assert (await sync_to_async(client.get)("/")).status_code == 200
    # Then nothing: it times out.
    _, code = await peer.until_close(timeout=4)
    assert code == 4401


@pytest.mark.django_db(transaction=True)
async def test_a_socket_whose_session_was_deleted_elsewhere_is_closed(connect, live_group, alex, settings):
    """Say, the stolen laptop's session is ended by staff (or the cookie's session is flushed): its socket closes."""
    settings.SOCKET_RECHECK_SECONDS = 0.2
    _, cookie = await sync_to_async(logged_in_client)(alex)
    peer, _ = await connect(cookie, live_group.pk)
    key = cookie.split("=", 1)[1]
    await sync_to_async(session_store(key).delete)()
    _, code = await peer.until_close()
    assert code == 4401


@pytest.mark.django_db(transaction=True)
async def test_deactivating_an_account_closes_its_sockets(connect, live_group, alex, settings):
    settings.SOCKET_RECHECK_SECONDS = 0.2
    peer, _ = await connect(alex, live_group.pk)
    alex.is_active = False
    await alex.asave(update_fields=["is_active"])
    _, code = await peer.until_close()
    assert code == 4401


@pytest.mark.django_db(transaction=True)
async def test_a_guest_waiting_in_the_lobby_is_not_timed_out(connect, live_group, alex, settings):
    settings.IDLE_TIMEOUT_SECONDS = 1
    settings.SOCKET_RECHECK_SECONDS = 0.2
    guest = await sync_to_async(make_guest)(live_group, alex, "Pat")
    peer, closed = await connect(guest.cookie, live_group.pk)
    assert closed is None
    await asyncio.sleep(2.5)
    assert (await peer.request("ping"))["type"] == "ack"
