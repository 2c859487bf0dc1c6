"""Family guests: one-time passes, the lobby, admission.

A pass token carries 192 random bits and only its SHA-256 is stored; a guest
sees messages only from the spans in which they were admitted (GuestAdmission).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from django.db import transaction

from moderation.audit import record
from rooms.actions import check_facilitator, load_actor, load_target, lock_room
from rooms.broadcast import send_event_on_commit
from rooms.errors import NOT_ON_ROSTER, ActionError
from rooms.models import Connection, GroupSession, GuestAdmission, GuestPass, Participant
from rooms.schemas import ParticipantRemoved, ParticipantUpdated
from rooms.serializers import participant_out

RELATIONSHIPS = ("spouse", "parent", "child", "sibling", "friend", "other")


class PassUnknown(Exception):
    """No pass has this token: 404."""


class PassGone(Exception):
    """Redeemed, revoked, declined, or its session ended: 410."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def join_path(token: str) -> str:
    return f"/join/{token}/"


def check_invite(session: GroupSession, patient: Participant) -> None:
    if not session.allow_guests:
        raise ActionError("not_allowed", "This session was not scheduled to allow guests.")
    if session.status == "ended":
        raise ActionError("not_live", "This session has ended.")
    if patient.role != "patient" or patient.removed_at is not None:
        raise ActionError("not_found", "Guests can only be invited for a patient on this session's roster.")


def create_pass(
    session: GroupSession, patient: Participant, name: str, now: datetime, created_by: Participant | None
) -> tuple[GuestPass, str]:
    token = secrets.token_urlsafe(24)
    guest_pass = GuestPass.objects.create(
        session=session,
        for_participant=patient,
        name=name.strip()[:60],
        token_hash=hash_token(token),
        created_at=now,
        created_by=created_by,
    )
    record(session, created_by, "invite.create", now, target=patient, invite_id=guest_pass.pk)
    return guest_pass, token


def do_create_invite(
    session_id: int, facilitator_id: int, for_participant_id: int, name: str, now: datetime
) -> tuple[GuestPass, str]:
    if not name.strip():
        raise ActionError("invalid", "Give the guest's name.")
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        patient = load_target(session, for_participant_id)
        check_invite(session, patient)
        return create_pass(session, patient, name, now, actor)


def find_pass(token: str) -> GuestPass:
    guest_pass = GuestPass.objects.select_related("session", "for_participant").filter(
        token_hash=hash_token(token)
    ).first()
    # The lookup is by hash; compare again in constant time as a second lock on the door.
    if guest_pass is None or not hmac.compare_digest(guest_pass.token_hash, hash_token(token)):
        raise PassUnknown
    return guest_pass


def check_pass_usable(guest_pass: GuestPass) -> None:
    if guest_pass.redeemed_at or guest_pass.revoked_at or guest_pass.session.status == "ended":
        raise PassGone


def do_redeem_pass(token: str, display_name: str, relationship: str, now: datetime) -> Participant:
    """Spend the pass once: a guest participant waiting in the lobby."""
    guest_pass = find_pass(token)
    with transaction.atomic():
        lock_room(guest_pass.session_id)
        guest_pass = GuestPass.objects.select_related("session", "for_participant").get(pk=guest_pass.pk)
        check_pass_usable(guest_pass)
        guest = Participant.objects.create(
            session=guest_pass.session,
            role="guest",
            display_name=display_name.strip()[:60] or guest_pass.name,
            guest_of=guest_pass.for_participant,
            relationship=relationship if relationship in RELATIONSHIPS else "other",
            admitted=False,
            roster_position=10_000,
        )
        guest_pass.redeemed_at = now
        guest_pass.consent_accepted_at = now
        guest_pass.guest = guest
        guest_pass.save(update_fields=["redeemed_at", "consent_accepted_at", "guest"])
        record(guest_pass.session, None, "invite.redeem", now, target=guest, actor_label="guest pass",
               invite_id=guest_pass.pk)
        return guest


def load_lobby_guest(session: GroupSession, participant_id: int) -> Participant:
    guest = load_target(session, participant_id)
    if guest.role != "guest":
        raise ActionError("invalid", "Only guests wait in the lobby.")
    return guest


def do_admit_guest(session_id: int, facilitator_id: int, guest_id: int, now: datetime) -> None:
    """Let a guest in: they see only what is said from now on, in a fresh session.state."""
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        guest = load_lobby_guest(session, guest_id)
        if guest.admitted:
            return
        guest.admitted = True
        guest.save(update_fields=["admitted"])
        GuestAdmission.objects.create(participant=guest, from_seq=session.last_seq, admitted_at=now)
        record(session, actor, "lobby.admit", now, target=guest)
        send_event_on_commit(
            session.pk,
            ParticipantUpdated(participant=participant_out(guest, now=now)),
            ids=[guest.pk],
            effects_for={guest.pk: "refresh"},
        )


def do_deny_guest(session_id: int, facilitator_id: int, guest_id: int, now: datetime) -> None:
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        guest = load_lobby_guest(session, guest_id)
        guest.removed_at = now
        guest.save(update_fields=["removed_at"])
        GuestPass.objects.filter(guest=guest).update(revoked_at=now)
        Connection.objects.filter(participant=guest).delete()
        record(session, actor, "lobby.deny", now, target=guest)
        send_event_on_commit(
            session.pk,
            ParticipantRemoved(participant_id=guest.pk),
            to="members" if guest.admitted else "facilitators",
            ids=[guest.pk],
            effects_for={guest.pk: f"close:{NOT_ON_ROSTER}"},
        )


def do_invite_by_username(session_id: int, patient_username: str, name: str, now: datetime) -> tuple[GuestPass, str]:
    """invite_guest (the clinic's command line): the same rules as invite.create, named by username."""
    if not name.strip():
        raise ActionError("invalid", "the guest's name must not be empty")
    with transaction.atomic():
        try:
            session = lock_room(session_id)
        except ActionError:
            raise ActionError("not_found", f"no session with id {session_id}") from None
        patient = Participant.objects.filter(session=session, member__username=patient_username, role="patient").first()
        if patient is None:
            raise ActionError("not_found", f"{patient_username!r} is not a patient on this session's roster")
        check_invite(session, patient)
        return create_pass(session, patient, name, now, created_by=None)
