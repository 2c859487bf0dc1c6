"""The room's shared state. Written only by rooms.actions (and the other apps' actions)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    GROUP = "group", _("Group")
    INDIVIDUAL = "individual", _("Individual")


class Status(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")
    # Called off before it started (program.actions.do_cancel_session): its socket is refused with 4410.
    CANCELLED = "cancelled", _("Cancelled")


# A room in one of these can no longer be entered (4410), spoken in, or invited to.
CLOSED_STATUSES = frozenset({Status.ENDED, Status.CANCELLED})


class Mode(models.TextChoices):
    OPEN = "open", _("Open")
    MODERATED = "moderated", _("Moderated")
    ROUND = "round", _("Round")


class GoalStatus(models.TextChoices):
    """A goal's status in the clinical record (record.models.Goal): a word of the protocol, hence here."""

    ACTIVE = "active", "Active"
    MET = "met", "Met"
    REVISED = "revised", "Revised"
    DROPPED = "dropped", "Dropped"


class ParticipantRole(models.TextChoices):
    FACILITATOR = "facilitator", _("Facilitator")
    PATIENT = "patient", _("Patient")
    GUEST = "guest", _("Guest")


class GroupSession(models.Model):
    """One scheduled group (or individual) session and its live room state.

    The row is also the room's lock: every action that changes who may speak
    or allocates a message `seq` locks it first (select_for_update), so workers
    agree on one floor, one queue and one sequence.
    """

    title = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.GROUP)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=60)
    allow_guests = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.MODERATED)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    floor_holder = models.ForeignKey(
        "rooms.Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    floor_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    floor_granted_at = models.DateTimeField(null=True, blank=True)
    round_seconds = models.PositiveIntegerField(null=True, blank=True)
    current_prompt = models.ForeignKey(
        "rooms.Prompt", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    slowmode_seconds = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M})"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


class Participant(models.Model):
    """One person in one session: a rostered member or an invited guest."""

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="participants")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="participations"
    )
    role = models.CharField(max_length=16, choices=ParticipantRole.choices)
    display_name = models.CharField(max_length=60)
    roster_position = models.PositiveIntegerField(default=0)
    guest_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="guests")
    relationship = models.CharField(max_length=20, blank=True)
    admitted = models.BooleanField(default=True)
    muted = models.BooleanField(default=False)
    muted_until = models.DateTimeField(null=True, blank=True)
    hand_raised_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Set when the person's last connection closes; cleared when they return.
    offline_since = models.DateTimeField(null=True, blank=True)
    # Presence is debounced (issue 22, class 5): when their last connection closes, the departure is
    # announced at this time (the absence grace period later), unless they came back before it.
    leaving_at = models.DateTimeField(null=True, blank=True)
    # Their latest hand.raise/hand.lower frames (epoch seconds, at most the rate limit's count): the
    # hand rate limit (rooms.rules.hand_toggle_refusal) reads them under the room lock, on any worker.
    hand_toggles = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # What the participation stats count (messages to the room, not removed), kept by the
    # actions that change it (chat.send, message.remove) so that the stats ticker reads
    # one row per person instead of every message of an hour-long session.
    room_messages = models.PositiveIntegerField(default=0)
    room_characters = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["roster_position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "member"],
                condition=models.Q(member__isnull=False),
                name="one_participant_per_member",
            )
        ]
        # Every worker looks for lapsed timed mutes four times a second (rooms.hub): an index
        # of the few muted people, so the look does not read every participant ever rostered.
        indexes = [
            models.Index(fields=["muted_until"], condition=models.Q(muted=True), name="participant_muted_until"),
            # The same for the few people whose departure waits to be announced (the departures duty).
            models.Index(
                fields=["leaving_at"], condition=models.Q(leaving_at__isnull=False), name="participant_leaving_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.role}) in session {self.session_id}"

    def is_muted(self, now: datetime) -> bool:
        return self.muted and (self.muted_until is None or self.muted_until > now)


class GuestAdmission(models.Model):
    """A span of messages a guest may see: after `from_seq`, up to `until_seq` when sent back to the lobby."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="admissions")
    from_seq = models.PositiveBigIntegerField()
    until_seq = models.PositiveBigIntegerField(null=True, blank=True)
    admitted_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["from_seq"]


class Audience(models.TextChoices):
    ROOM = "room", _("Everyone in the room")
    FACILITATORS = "facilitators", _("Facilitators only")
    PRIVATE = "private", _("One participant and the facilitators")


class Message(models.Model):
    # Every message's INSERT updates each of this table's indexes, so it has no index that
    # another already serves: lookups by session use unique_seq_per_session, by participant
    # message_sender_recent, and the prompt and the recipient (mostly empty) are indexed
    # only where set.
    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="messages", db_index=False)
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="messages", db_index=False)
    seq = models.PositiveBigIntegerField()
    text = models.TextField()
    html = models.TextField()
    sent_at = models.DateTimeField()
    prompt = models.ForeignKey("rooms.Prompt", null=True, blank=True, on_delete=models.SET_NULL, db_index=False)
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.ROOM)
    recipient = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="private_messages", db_index=False
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    text_purged_at = models.DateTimeField(null=True, blank=True)
    # The client's own id for the message (chat.send's `txn_id`): a resend with it stores nothing and
    # gets this message's ack. The constraint below is the arbiter between two resends that race.
    txn_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="unique_seq_per_session"),
            # Only messages that carry one: the private line and older clients send none.
            models.UniqueConstraint(
                fields=["session", "participant", "txn_id"],
                condition=models.Q(txn_id__isnull=False),
                name="unique_txn_per_sender",
            ),
        ]
        indexes = [
            models.Index(fields=["participant", "sent_at"], name="message_sender_recent"),
            models.Index(fields=["prompt"], condition=models.Q(prompt__isnull=False), name="message_prompt"),
            models.Index(fields=["recipient"], condition=models.Q(recipient__isnull=False), name="message_recipient"),
            # The room's shown messages by seq (rooms.visibility.visible_messages: the state's newest, a
            # ?since catch-up) and its removed ones (rooms.state.removed_before). unique_seq_per_session
            # has the same order, but a table never analysed (autovacuum off) makes PostgreSQL guess the
            # IS NULL filters keep 1 row in 40,000, so it read and sorted the room's whole history at each
            # connect (144 ms for 10,000 messages, issue 25). With the filters in the index's condition
            # the plan walks the index's last 100 entries whatever the statistics say
            # (tests/test_chat_plans.py).
            models.Index(
                fields=["session", "seq"],
                condition=models.Q(removed_at__isnull=True, text_purged_at__isnull=True),
                name="message_shown",
            ),
            models.Index(
                fields=["session", "seq"], condition=models.Q(removed_at__isnull=False), name="message_removed"
            ),
        ]


class Connection(models.Model):
    """One open WebSocket: presence is "has at least one row", across every worker.

    Each worker refreshes `seen_at` for its own rows; rows of a dead worker go
    stale and the sweep in the surviving workers removes them.
    """

    id = models.CharField(primary_key=True, max_length=32)
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="connections")
    worker_id = models.CharField(max_length=32, db_index=True)
    opened_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)


class GuestPass(models.Model):
    """A one-time family invitation. Only a hash of the token is stored."""

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="guest_passes")
    for_participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="invitations")
    name = models.CharField(max_length=60)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    redeemed_at = models.DateTimeField(null=True, blank=True)
    guest = models.OneToOneField(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="guest_pass"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    declined = models.BooleanField(default=False)
    consent_accepted_at = models.DateTimeField(null=True, blank=True)
    # The confidentiality agreement exactly as the guest accepted it (the clinic may change it later).
    consent_text = models.TextField(blank=True)
    # The language of that text (settings.LANGUAGES): the agreement the join page showed (issue 26).
    consent_language = models.CharField(max_length=8, blank=True)


# The three models below were born in facilitator and moderation and moved down into the
# core (rooms/migrations/0006) because the room's topic, its floor/queue version and the
# audit log are core room behaviour; `db_table` keeps the tables they were created with.


class PromptCategory(models.TextChoices):
    STRESS = "stress", _("Stress")
    TRIGGERS = "triggers", _("Triggers")
    MEDICATION = "medication", _("Medication")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    COPING = "coping", _("Coping")
    FAMILY = "family", _("Family and relationships")
    GOALS = "goals", _("Goals")
    # The individual session's motivational-interviewing panel (issue 23).
    WITHDRAWAL = "withdrawal", _("Withdrawal and cravings")
    MOTIVATION = "motivation", _("Motivation")


class Prompt(models.Model):
    """A topic the facilitator puts to the group.

    Library prompts (session is null) are seeded by facilitator's data migrations and edited
    in the admin; a custom prompt typed during a session belongs to that session.
    """

    category = models.CharField(max_length=20, choices=PromptCategory.choices)
    text = models.CharField(max_length=500)
    session = models.ForeignKey(
        GroupSession, null=True, blank=True, on_delete=models.CASCADE, related_name="custom_prompts"
    )
    active = models.BooleanField(default=True, help_text="Inactive prompts are hidden from the picker.")
    # A library prompt's text in the other languages of settings.LANGUAGES ({"es": "..."}), each written
    # for the same purpose rather than word for word (facilitator.prompt_library); a custom prompt has
    # none: it stays as it was typed (issue 26). The database's own default too: the older migrations'
    # seeds (0003, rooms/0008) write rows without the column.
    translations = models.JSONField(default=dict, blank=True, db_default={})
    position = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "facilitator_prompt"
        ordering = ["category", "position", "id"]

    def __str__(self) -> str:
        return f"[{self.category}] {self.text[:60]}"

    @property
    def texts(self) -> dict[str, str]:
        """The text in each language it exists in: the library's is English, then its translations."""
        return {"en": self.text, **self.translations} if self.translations else {}

    @property
    def localized_text(self) -> str:
        """The text in the active language (the reader's), where the prompt has one."""
        return self.translations.get(translation.get_language() or "", self.text)


class RoomClock(models.Model):
    """A per-room counter bumped under the room lock for every floor or queue change.

    `floor.changed` and `queue.updated` carry it as `version` (and `session.state`
    too), so a client that hears two workers' events out of order keeps the newer one.
    """

    session = models.OneToOneField(GroupSession, on_delete=models.CASCADE, primary_key=True, related_name="clock")
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "facilitator_roomclock"


# What the retention purge writes over a guest's name in an audit entry's labels.
REDACTED_GUEST_LABEL = "(guest)"


class AppendOnlyError(Exception):
    """The audit log is append-only: rows are never changed or deleted by the application."""


def is_permitted_redaction(field: str, value: object) -> bool:
    """The only changes a stored audit entry may undergo (mirrored by the database trigger):

    * the retention purge blanks `removed_text` and writes REDACTED_GUEST_LABEL over an
      expired guest's name in `actor_label` / `target_label`;
    * deleting a session or participant elsewhere sets the foreign keys to NULL (the
      labels keep who it was).
    """
    if field == "removed_text":
        return value == ""
    if field in {"actor_label", "target_label"}:
        return value == REDACTED_GUEST_LABEL
    if field in {"session", "session_id", "actor", "actor_id", "target", "target_id"}:
        return value is None
    return False


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        refused = [field for field, value in kwargs.items() if not is_permitted_redaction(field, value)]
        if refused:
            raise AppendOnlyError(f"Audit entries cannot be changed ({', '.join(sorted(refused))}).")
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries cannot be deleted.")

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


class AuditEntry(models.Model):
    """Append-only record of a facilitation or moderation action.

    Rows are created by the actions (rooms.audit.record) and never changed by
    the application; the one exception is purge_expired, which blanks
    `removed_text` (and an expired guest's name in the labels) once the retention
    period has passed. Enforced three times: here (save/delete), in the queryset
    (update/delete), and by a database trigger (moderation/migrations/0002, on the
    table this model keeps) that refuses any other UPDATE, and on PostgreSQL any
    DELETE, whoever sends it.
    """

    session = models.ForeignKey(GroupSession, null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_actions"
    )
    actor_label = models.CharField(max_length=120)
    action = models.CharField(max_length=40)
    target = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_targets"
    )
    target_label = models.CharField(max_length=120, blank=True)
    message_seq = models.PositiveBigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    removed_text = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    objects: ClassVar[AuditEntryQuerySet] = AuditEntryQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        db_table = "moderation_auditentry"
        ordering = ["created_at", "id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit entries cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries cannot be deleted.")
