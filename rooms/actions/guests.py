"""Family guests: one-time passes, consent, the lobby, admission.

A pass token carries 192 random bits and only its SHA-256 is stored; a guest
sees messages only from the spans in which they were admitted (GuestAdmission).

Who hears what:
- `invite.updated {invite}` goes to the facilitators and to the patient the
  invitation is for, whenever a pass is created or changes state (redeemed,
  arrived in or left the lobby, admitted, returned, revoked, declined).
- Guests in the lobby are not in the room: their arrival, departure and
  removal reach the facilitators only; `lobby.message` reaches only them (and
  the facilitators).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.mail import Mail, checked, send, site_link, when
from config.text import clean_line, clean_text, has_visible_text
from rooms.actions import (
    check_not_ended,
    load_target,
    lock_room,
    refuse,
    room_as_facilitator,
    room_as_participant,
)
from rooms.actions.floor import broadcast_queue, lower_hand, release_floor
from rooms.actions.guest_announcements import announce_guest_presence, announce_invite
from rooms.actions.presence import drop_connections
from rooms.audit import record
from rooms.broadcast import send_event_on_commit
from rooms.errors import NOT_ON_ROSTER, ActionError
from rooms.models import (
    CLOSED_STATUSES,
    Connection,
    GroupSession,
    GuestAdmission,
    GuestPass,
    Participant,
    ParticipantRole,
)
from rooms.rules import text_refusal
from rooms.schemas import LobbyMessage, LobbyWaiting, ParticipantRemoved, ParticipantUpdated
from rooms.serializers import participant_out

RELATIONSHIPS = ("spouse", "parent", "child", "sibling", "friend", "other")
LOBBY_SAY_MAX_CHARS = 500


class PassUnknown(Exception):
    """No pass has this token: 404."""


class PassGone(Exception):
    """Redeemed, revoked, declined, or its session ended: 410."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def join_path(token: str) -> str:
    return f"/join/{token}/"


# ------------------------------------------------------------------ invitations


def check_invite(session: GroupSession, patient: Participant) -> None:
    if not session.allow_guests:
        raise ActionError("not_allowed", _("This session was not scheduled to allow guests."))
    if session.status in CLOSED_STATUSES:
        raise ActionError("not_live", _("This session has ended."))
    if patient.role != ParticipantRole.PATIENT or patient.removed_at is not None:
        raise ActionError("not_found", _("Guests can only be invited for a patient on this session's roster."))


def check_guest_email(email: str) -> str:
    """An invitation's address as given, checked; empty: the link is not mailed."""
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ActionError("invalid", _("That is not an email address.")) from None
    return email


def invitation_mail(session: GroupSession, token: str) -> Mail:
    """The guest's link, the time, nothing else: no title, no patient's name (config.mail, discretion)."""
    values = {"at": when(session.starts_at, ZoneInfo(settings.TIME_ZONE)), "link": site_link(join_path(token))}
    return checked(
        Mail(
            gettext("An invitation to join a session"),
            gettext(
                "You are invited to join a session on %(at)s.\n\nYour personal link (it works once): %(link)s\n\n"
                "You will wait in a waiting room until you are let in.\n"
            )
            % values,
        )
    )


def mail_invitation_on_commit(session: GroupSession, guest_pass: GuestPass, token: str, email: str) -> None:
    """Sent at once, not by send_reminders: the token is never stored, so a later run could not send it."""
    mail = invitation_mail(session, token)
    transaction.on_commit(lambda: send(mail, email, what=f"invitation invite={guest_pass.pk}"), robust=True)


def create_pass(
    session: GroupSession,
    patient: Participant,
    name: str,
    now: datetime,
    created_by: Participant | None,
    email: str = "",
) -> tuple[GuestPass, str]:
    token = secrets.token_urlsafe(24)
    guest_pass = GuestPass.objects.create(
        session=session,
        for_participant=patient,
        name=clean_line(name)[:60],
        token_hash=hash_token(token),
        created_at=now,
        created_by=created_by,
    )
    record(session, created_by, "invite.create", now, target=patient, invite_id=guest_pass.pk, emailed=bool(email))
    announce_invite(session, guest_pass)
    if email:
        mail_invitation_on_commit(session, guest_pass, token, email)
    return guest_pass, token


def do_create_invite(
    session_id: int, facilitator_id: int, for_participant_id: int, name: str, now: datetime, email: str = ""
) -> tuple[GuestPass, str]:
    if not has_visible_text(clean_line(name)):
        raise ActionError("invalid", _("Give the guest's name."))
    email = check_guest_email(email)
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        patient = load_target(session, for_participant_id)
        check_invite(session, patient)
        return create_pass(session, patient, name, now, actor, email)


def load_pass(session: GroupSession, invite_id: int) -> GuestPass:
    guest_pass = GuestPass.objects.select_related("guest").filter(pk=invite_id, session=session).first()
    if guest_pass is None:
        raise ActionError("not_found", _("No such invitation in this session."))
    return guest_pass


def withdraw_pass(session: GroupSession, guest_pass: GuestPass, now: datetime, *, declined: bool) -> None:
    """Revoke a pass; a guest who already used it leaves the room (or the lobby) for good."""
    guest_pass.revoked_at = guest_pass.revoked_at or now
    guest_pass.declined = guest_pass.declined or declined
    guest_pass.save(update_fields=["revoked_at", "declined"])
    guest = guest_pass.guest
    if guest is not None and guest.removed_at is None:
        expel_guest(session, guest, now)


def do_revoke_invite(session_id: int, facilitator_id: int, invite_id: int, now: datetime) -> None:
    """invite.revoke: the link stops working (410) and a guest who used it is closed with 4403."""
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        guest_pass = load_pass(session, invite_id)
        if guest_pass.revoked_at is not None:
            return
        check_not_ended(session)
        withdraw_pass(session, guest_pass, now, declined=False)
        record(session, actor, "invite.revoke", now, target=guest_pass.guest, invite_id=guest_pass.pk)
        announce_invite(session, guest_pass)


def do_decline_invite(session_id: int, patient_id: int, invite_id: int, now: datetime) -> None:
    """invite.decline: the patient does not consent; the pass is revoked and the facilitators are told."""
    with room_as_participant(session_id, patient_id) as (session, actor):
        guest_pass = load_pass(session, invite_id)
        if guest_pass.for_participant_id != actor.pk or actor.removed_at is not None:
            raise ActionError("not_allowed", _("Only the person this invitation is for can decline it."))
        if guest_pass.declined:
            return
        check_not_ended(session)
        withdraw_pass(session, guest_pass, now, declined=True)
        record(session, actor, "invite.decline", now, target=guest_pass.guest, invite_id=guest_pass.pk)
        announce_invite(session, guest_pass)


def do_invite_by_username(
    session_id: int, patient_username: str, name: str, now: datetime, email: str = ""
) -> tuple[GuestPass, str]:
    """invite_guest (the clinic's command line): the same rules as invite.create, named by username."""
    if not has_visible_text(clean_line(name)):
        raise ActionError("invalid", "the guest's name must not be empty")
    email = check_guest_email(email)
    with transaction.atomic():
        try:
            session = lock_room(session_id)
        except ActionError:
            raise ActionError("not_found", f"no session with id {session_id}") from None
        patient = Participant.objects.filter(
            session=session, member__username=patient_username, role=ParticipantRole.PATIENT
        ).first()
        if patient is None:
            raise ActionError("not_found", f"{patient_username!r} is not a patient on this session's roster")
        check_invite(session, patient)
        return create_pass(session, patient, name, now, created_by=None, email=email)


# ------------------------------------------------------------------ redeeming a pass (the join page)


def find_pass(token: str) -> GuestPass:
    guest_pass = (
        GuestPass.objects.select_related("session", "for_participant").filter(token_hash=hash_token(token)).first()
    )
    # The lookup is by hash; compare again in constant time as a second lock on the door.
    if guest_pass is None or not hmac.compare_digest(guest_pass.token_hash, hash_token(token)):
        raise PassUnknown
    return guest_pass


def check_pass_usable(guest_pass: GuestPass) -> None:
    """Spent, revoked (or declined), the session over, or the patient no longer on the roster: 410."""
    if guest_pass.redeemed_at or guest_pass.revoked_at or guest_pass.session.status in CLOSED_STATUSES:
        raise PassGone
    if guest_pass.for_participant.removed_at is not None:
        raise PassGone


def do_redeem_pass(
    token: str,
    display_name: str,
    relationship: str,
    now: datetime,
    *,
    agreement: str | None = None,
    agreement_language: str = "",
) -> Participant:
    """Spend the pass once: a guest participant waiting in the lobby.

    The caller has had the guest accept the group's confidentiality agreement;
    the acceptance is kept with the pass (time, the exact text and its language).
    """
    guest_pass = find_pass(token)
    with transaction.atomic():
        session = lock_room(guest_pass.session_id)
        guest_pass = GuestPass.objects.select_related("session", "for_participant").get(pk=guest_pass.pk)
        check_pass_usable(guest_pass)
        guest = Participant.objects.create(
            session=guest_pass.session,
            role=ParticipantRole.GUEST,
            display_name=clean_line(display_name)[:60] or guest_pass.name,
            guest_of=guest_pass.for_participant,
            relationship=relationship if relationship in RELATIONSHIPS else "other",
            admitted=False,
            roster_position=10_000,
        )
        guest_pass.redeemed_at = now
        guest_pass.consent_accepted_at = now
        guest_pass.consent_text = settings.CONFIDENTIALITY_AGREEMENT if agreement is None else agreement
        guest_pass.consent_language = agreement_language
        guest_pass.guest = guest
        guest_pass.save(
            update_fields=["redeemed_at", "consent_accepted_at", "consent_text", "consent_language", "guest"]
        )
        record(
            guest_pass.session,
            None,
            "invite.redeem",
            now,
            target=guest,
            actor_label="guest pass",
            invite_id=guest_pass.pk,
            consent_accepted_at=now.isoformat(),
            consent_language=agreement_language,
        )
        announce_invite(session, guest_pass)
        return guest


# ------------------------------------------------------------------ the lobby


def load_lobby_guest(session: GroupSession, participant_id: int) -> Participant:
    guest = load_target(session, participant_id)
    if guest.role != ParticipantRole.GUEST:
        raise ActionError("invalid", _("Only guests wait in the lobby."))
    return guest


def do_admit_guest(session_id: int, facilitator_id: int, guest_id: int, now: datetime) -> None:
    """Let a guest in: they see only what is said from now on, in a fresh session.state."""
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
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
        announce_guest_presence(session, guest)


def expel_guest(session: GroupSession, guest: Participant, now: datetime) -> None:
    """The guest leaves for good: pass revoked, connections closed with 4403 (room locked by the caller)."""
    was_admitted = guest.admitted
    if lower_hand(session, guest, now):
        broadcast_queue(session)
    release_floor(session, guest, now, reason="removed")
    guest.removed_at = now
    guest.save(update_fields=["removed_at"])
    GuestPass.objects.filter(guest=guest, revoked_at__isnull=True).update(revoked_at=now)
    GuestAdmission.objects.filter(participant=guest, until_seq__isnull=True).update(
        until_seq=session.last_seq, returned_at=now
    )
    drop_connections(session, guest, now)
    send_event_on_commit(
        session.pk,
        ParticipantRemoved(participant_id=guest.pk),
        to="members" if was_admitted else "facilitators",
        ids=[guest.pk],
        effects_for={guest.pk: f"close:{NOT_ON_ROSTER}"},
    )


def do_deny_guest(session_id: int, facilitator_id: int, guest_id: int, now: datetime) -> None:
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        guest = load_lobby_guest(session, guest_id)
        expel_guest(session, guest, now)
        record(session, actor, "lobby.deny", now, target=guest)
        announce_guest_presence(session, guest)


def do_return_to_lobby(session_id: int, facilitator_id: int, guest_id: int, now: datetime) -> None:
    """lobby.return: an admitted guest goes back to the lobby.

    Their admission span closes at the room's current seq, so nothing said
    while they wait is ever visible to them (not in session.state, not with
    ?since=); they get a fresh session.state without messages, and the
    facilitators see them waiting again.
    """
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        guest = load_lobby_guest(session, guest_id)
        if not guest.admitted:
            return
        if lower_hand(session, guest, now):
            broadcast_queue(session)
        release_floor(session, guest, now, reason="left")
        guest.admitted = False
        guest.save(update_fields=["admitted"])
        GuestAdmission.objects.filter(participant=guest, until_seq__isnull=True).update(
            until_seq=session.last_seq, returned_at=now
        )
        record(session, actor, "lobby.return", now, target=guest)
        shown = participant_out(guest, now=now)
        # Everyone in the room sees them leave it; they themselves get a fresh (lobby) session.state.
        send_event_on_commit(
            session.pk, ParticipantUpdated(participant=shown), ids=[guest.pk], effects_for={guest.pk: "refresh"}
        )
        if Connection.objects.filter(participant=guest).exists():
            send_event_on_commit(session.pk, LobbyWaiting(participant=shown), to="facilitators")
        announce_guest_presence(session, guest)


def do_lobby_say(session_id: int, facilitator_id: int, text: str, now: datetime) -> int:
    """lobby.say: a short note to the guests waiting; returns how many are waiting (online) now."""
    refuse(text_refusal(text, LOBBY_SAY_MAX_CHARS))
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        facilitators = list(
            Participant.objects.filter(
                session=session, role=ParticipantRole.FACILITATOR, removed_at__isnull=True
            ).values_list("pk", flat=True)
        )
        waiting = (
            Participant.objects.filter(
                session=session, role=ParticipantRole.GUEST, admitted=False, removed_at__isnull=True
            )
            .filter(connections__isnull=False)
            .distinct()
            .count()
        )
        body = clean_text(text)
        event = LobbyMessage(text=body, participant_id=actor.pk, display_name=actor.display_name, sent_at=now)
        send_event_on_commit(session.pk, event, to="lobby", ids=facilitators)
        # The note is logistics, not therapy; the audit keeps that it was sent, not its words.
        record(session, actor, "lobby.say", now, chars=len(body), waiting=waiting)
        return waiting
