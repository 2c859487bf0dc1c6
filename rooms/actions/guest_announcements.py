"""invite.updated: how a guest pass's state reaches the facilitators and the patient the invitation is for.

A leaf of the actions: presence (a guest arrived in or left the lobby) and the
guest actions (a pass created, redeemed, admitted, withdrawn) both announce
through it, and neither imports the other for it.
"""

from __future__ import annotations

from rooms.broadcast import send_event_on_commit
from rooms.models import Connection, GroupSession, GuestPass, Participant
from rooms.schemas import InviteUpdated
from rooms.serializers import invite_out


def announce_invite(session: GroupSession, guest_pass: GuestPass) -> None:
    """invite.updated to the facilitators and the patient the invitation is for (room locked by the caller)."""
    guest_pass = GuestPass.objects.select_related("for_participant", "guest").get(pk=guest_pass.pk)
    online = guest_pass.guest_id is not None and Connection.objects.filter(participant_id=guest_pass.guest_id).exists()
    event = InviteUpdated(invite=invite_out(guest_pass, session_status=session.status, guest_online=online))
    send_event_on_commit(session.pk, event, to="facilitators", ids=[guest_pass.for_participant_id])


def announce_guest_presence(session: GroupSession, guest: Participant) -> None:
    """A guest's pass changed state because they came online or went offline (called by presence)."""
    guest_pass = GuestPass.objects.filter(guest=guest).first()
    if guest_pass is not None:
        announce_invite(session, guest_pass)
