"""The room socket's sign-in guard: the Django session behind a WebSocket stays valid, or the socket closes.

Checked when the socket opens and again every SOCKET_RECHECK_SECONDS while it
is open (a database read, not a per-frame cost):

- the session still signs in the same person: logged out elsewhere, flushed,
  expired, password changed or account deactivated -> close 4401;
- idle: no frame from this socket, no HTTP request and no other socket of the
  session for IDLE_TIMEOUT_SECONDS (or signed in longer than SESSION_COOKIE_AGE)
  -> the session ends (deleted) and the socket closes 4401. Frames the client sends are activity; a guest waiting in the
  lobby (who sees nothing confidential) is kept active;
- FACILITATOR_2FA: a facilitator's session must carry a verified TOTP device -> else 4401;
- the participant row: removed -> 4403 (even if the removal's broadcast was lost);
  role or admission changed -> a fresh session.state, so the fan-out filter
  never keeps serving a stale role.

The socket's own frames are written back to the session as its last activity
(at most once per check), so the HTTP side does not time out a person who is
busy in a room.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.actions import do_end_session
from accounts.idle import GUEST_SESSION_KEY, LAST_ACTIVITY_KEY, ending, has_identity, last_activity, session_store
from accounts.models import Member, Role
from rooms.errors import NOT_ON_ROSTER, NOT_SIGNED_IN

logger = logging.getLogger(__name__)

REFRESH = "refresh"


def db(function: Any) -> Any:
    return database_sync_to_async(function, thread_sensitive=False)


def second_factor_passed(data: dict[str, Any], member: Member) -> bool:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    persistent_id = data.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if isinstance(persistent_id, str) else None
    return device is not None and device.user_id == member.pk and bool(device.confirmed)


class SocketGuard:
    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer
        scope = consumer.scope
        session = scope.get("session")
        self.session_key: str | None = getattr(session, "session_key", None) if session is not None else None
        user = scope.get("user")
        self.member_id: int | None = user.pk if user is not None and user.is_authenticated else None
        guest = session.get(GUEST_SESSION_KEY) if session is not None and self.member_id is None else None
        self.guest_participant_id: int | None = guest.get("participant_id") if isinstance(guest, dict) else None
        client = scope.get("client") or [None]
        self.address: str | None = client[0]
        self.active_at: float | None = None  # the last frame from this socket (connecting is not activity)
        self.task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ called by the consumer

    async def admit(self) -> int | None:
        """At connect: a close code when the session may not open a room socket now, else None."""
        return await db(self._check_session)(None)  # type: ignore[no-any-return]

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._watch(), name="circle-socket-guard")

    def touch(self) -> None:
        self.active_at = time.time()

    def stop(self) -> None:
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    # ------------------------------------------------------------ the periodic check

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(settings.SOCKET_RECHECK_SECONDS)
            viewer = self.consumer.viewer
            if viewer is not None and viewer.role == "guest" and not viewer.admitted:
                self.touch()  # waiting in the lobby counts as being there
            try:
                verdict = await db(self._recheck)(self.active_at, viewer)
            except (DatabaseError, UpdateError):
                logger.warning("socket guard: could not check a session; will retry")
                continue
            if verdict == REFRESH:
                await self.consumer.send_catchup(since=None)
            elif isinstance(verdict, int):
                await self._close(verdict)
                return

    async def _close(self, code: int) -> None:
        consumer = self.consumer
        consumer.ready = False
        await consumer.hub.detach(consumer)
        await consumer.close(code)

    def _recheck(self, active_at: float | None, viewer: Any) -> int | str | None:
        code = self._check_session(active_at)
        if code is not None:
            return code
        from rooms.models import Participant

        row = (
            Participant.objects.filter(pk=self.consumer.participant_id).values("role", "admitted", "removed_at").first()
        )
        if row is None or row["removed_at"] is not None:
            return NOT_ON_ROSTER
        if viewer is not None and (row["role"] != viewer.role or row["admitted"] != viewer.admitted):
            return REFRESH
        return None

    def _check_session(self, active_at: float | None) -> int | None:
        if not self.session_key:
            return NOT_SIGNED_IN
        store = session_store(self.session_key)
        data = dict(store.items())  # loads (and caches) the stored session, {} when it is gone
        if not has_identity(data) or not self._same_person(data):
            return NOT_SIGNED_IN
        now = time.time()
        reason = ending(data, now, also_active_at=active_at)
        if reason is not None:
            do_end_session(store, reason, timezone.now(), member_id=self.member_id, address=self.address)
            return NOT_SIGNED_IN
        if self.member_id is not None and settings.FACILITATOR_2FA:
            member = Member.objects.filter(pk=self.member_id).first()
            if member is not None and member.role == Role.FACILITATOR and not second_factor_passed(data, member):
                return NOT_SIGNED_IN
        stored = last_activity(data)
        if active_at is not None and (stored is None or active_at > stored):
            store[LAST_ACTIVITY_KEY] = active_at
            try:
                store.save()
            except UpdateError:  # deleted meanwhile: signed out
                return NOT_SIGNED_IN
        return None

    def _same_person(self, data: dict[str, Any]) -> bool:
        if self.member_id is not None:
            if str(data.get(SESSION_KEY)) != str(self.member_id):
                return False
            member = Member.objects.filter(pk=self.member_id).first()
            # A password change or a deactivated account ends the sessions it signed.
            return (
                member is not None
                and member.is_active
                and constant_time_compare(str(data.get(HASH_SESSION_KEY, "")), member.get_session_auth_hash())
            )
        guest = data.get(GUEST_SESSION_KEY)
        return isinstance(guest, dict) and guest.get("participant_id") == self.guest_participant_id
