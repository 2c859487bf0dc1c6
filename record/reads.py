"""The record's read side: what the notes page prefills for each patient, and what the patient's record page
shows. Each patient's figures are read for that patient's seat alone."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext

from accounts.models import Member
from facilitator.attendance import SeatReading, attended, seat_statuses
from facilitator.models import FloorTurn, SeatStatus
from record.models import Goal, GoalReview, NoteFormat, ProgressNote
from record.rules import (
    PREFILL_FIELD,
    ChartPoint,
    ChartSeries,
    GroupFigures,
    PatientFigures,
    ReviewFigure,
    group_prefill_text,
    note_fields,
    prefill_text,
)
from rooms.models import AuditEntry, GroupSession, Kind, Participant, ParticipantRole, Prompt


def actual_minutes(session: GroupSession) -> int | None:
    if session.started_at is None or session.ended_at is None:
        return None
    return int((session.ended_at - session.started_at).total_seconds() // 60)


def topics_posted(session: GroupSession) -> tuple[str, ...]:
    """The prompts pinned for the room, in order (the facilitators' words, the same for every patient)."""
    posted = AuditEntry.objects.filter(session=session, action="prompt.post").order_by("created_at", "pk")
    ids = [entry.detail.get("prompt_id") for entry in posted]
    texts = dict(Prompt.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "text"))
    return tuple(texts[i] for i in ids if i in texts)


def floor_seconds(session: GroupSession, seat: Participant, now: datetime) -> int:
    until = session.ended_at or now
    total = 0.0
    for turn in FloorTurn.objects.filter(session=session, participant=seat):
        total += max(0.0, ((turn.ended_at or until) - turn.started_at).total_seconds())
    return int(total)


def readiness(reviews: list[GoalReview]) -> tuple[int | None, int | None]:
    """The session's ruler: the last importance and the last confidence given in its reviews."""
    importance = next((r.importance for r in reversed(reviews) if r.importance is not None), None)
    confidence = next((r.confidence for r in reversed(reviews) if r.confidence is not None), None)
    return importance, confidence


def status_word(reading: SeatReading | None) -> str:
    if reading is None or reading.status is None:
        return gettext("not held yet")
    return str(SeatStatus(reading.status).label)


def patient_figures(
    session: GroupSession, seat: Participant, reading: SeatReading | None, topics: tuple[str, ...], now: datetime
) -> PatientFigures:
    reviews = list(
        GoalReview.objects.filter(session=session, goal__patient_id=seat.member_id)
        .select_related("goal")
        .order_by("at", "pk")
    )
    return PatientFigures(
        scheduled_minutes=session.duration_minutes,
        actual_minutes=actual_minutes(session),
        attended_minutes=(reading.seconds // 60) if reading else 0,
        status=status_word(reading),
        messages=seat.room_messages,
        floor_seconds=floor_seconds(session, seat, now),
        topics=topics,
        reviews=tuple(ReviewFigure(r.goal.text, r.progress, r.importance, r.confidence) for r in reviews),
        readiness=readiness(reviews),
    )


@dataclass
class NoteRow:
    """One note of the notes page: a roster patient's (seat set) or the group summary (seat None)."""

    key: str  # the form's participant_id: the seat's id, "" for the group summary
    label: str
    seat: Participant | None
    reading: SeatReading | None
    note: ProgressNote | None
    prefill: str
    format: NoteFormat = NoteFormat.DAP
    values: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return self.reading.seconds // 60 if self.reading else 0

    @property
    def status(self) -> str:
        return status_word(self.reading)

    @property
    def absent(self) -> bool:
        return self.reading is not None and self.reading.status == SeatStatus.ABSENT

    @property
    def fields(self) -> tuple[str, ...]:
        return note_fields(self.format)

    def show(self, note_format: NoteFormat) -> None:
        """Fill the form in `note_format`: the note's own words, else the room's figures where they belong."""
        self.format = note_format
        saved = self.note.fields if self.note is not None and self.note.format == note_format else {}
        self.values = {name: saved.get(name, "") for name in note_fields(note_format)}
        if self.note is None or self.note.format != note_format:
            self.values[PREFILL_FIELD[note_format]] = self.prefill


def note_rows(session: GroupSession, now: datetime) -> list[NoteRow]:
    """The group summary (group sessions) and one note per roster patient, each prefilled with their own figures."""
    seats = list(
        Participant.objects.filter(session=session, role=ParticipantRole.PATIENT, member__isnull=False)
        .select_related("session", "member")
        .order_by("roster_position", "pk")
    )
    readings = seat_statuses(seats)
    saved = ProgressNote.objects.filter(session=session).prefetch_related("amendments")
    notes = {note.patient_id: note for note in saved}
    topics = topics_posted(session)
    rows = []
    if session.kind == Kind.GROUP:
        counted = [readings.get(seat.pk) for seat in seats]
        figures = GroupFigures(
            scheduled_minutes=session.duration_minutes,
            actual_minutes=actual_minutes(session),
            attended=sum(1 for r in counted if r is not None and attended(r.status)),
            absent=sum(1 for r in counted if r is not None and r.status == SeatStatus.ABSENT),
            topics=topics,
        )
        rows.append(NoteRow("", "", None, None, notes.get(None), group_prefill_text(figures)))
    for seat in seats:
        reading = readings.get(seat.pk)
        prefill = prefill_text(patient_figures(session, seat, reading, topics, now))
        rows.append(NoteRow(str(seat.pk), seat.display_name, seat, reading, notes.get(seat.member_id), prefill))
    for row in rows:
        row.show(NoteFormat(row.note.format) if row.note else NoteFormat.DAP)
    return rows


# ------------------------------------------------------------------ the patient's record page


@dataclass(frozen=True)
class SessionLine:
    session: GroupSession
    reading: SeatReading | None
    removed: bool

    @property
    def status(self) -> str:
        return status_word(self.reading)

    @property
    def minutes(self) -> int:
        return self.reading.seconds // 60 if self.reading else 0


def patient_sessions(patient: Member) -> list[SessionLine]:
    seats = list(
        Participant.objects.filter(member=patient, role=ParticipantRole.PATIENT)
        .select_related("session")
        .order_by("-session__starts_at", "-pk")
    )
    readings = seat_statuses(seats)
    return [SessionLine(seat.session, readings.get(seat.pk), seat.removed_at is not None) for seat in seats]


def goals_with_reviews(patient: Member) -> list[tuple[Goal, list[GoalReview]]]:
    goals = list(Goal.objects.filter(patient=patient).select_related("set_in").order_by("set_at", "pk"))
    reviews: dict[int, list[GoalReview]] = defaultdict(list)
    for review in GoalReview.objects.filter(goal__in=goals).select_related("session").order_by("at", "pk"):
        reviews[review.goal_id].append(review)
    return [(goal, reviews[goal.pk]) for goal in goals]


def chart_series(goals: list[tuple[Goal, list[GoalReview]]]) -> list[ChartSeries]:
    """Progress (every review, of any goal), importance and confidence over time."""
    everything = sorted((r for _, rs in goals for r in rs), key=lambda r: (r.at, r.pk))
    return [
        ChartSeries("progress", gettext("Progress"), tuple(ChartPoint(r.at, r.progress) for r in everything)),
        ChartSeries(
            "importance",
            gettext("Importance"),
            tuple(ChartPoint(r.at, r.importance) for r in everything if r.importance is not None),
        ),
        ChartSeries(
            "confidence",
            gettext("Confidence"),
            tuple(ChartPoint(r.at, r.confidence) for r in everything if r.confidence is not None),
        ),
    ]


def patient_notes(patient: Member) -> list[ProgressNote]:
    return list(
        ProgressNote.objects.filter(patient=patient)
        .select_related("session")
        .prefetch_related("amendments")
        .order_by("-session__starts_at", "-pk")
    )
