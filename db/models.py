"""Tables of the roadmap bot.

History that matters is append-only: status updates and deadline changes are never updated
in place, and an item's current state is derived from its newest update. Timestamps are aware
datetimes stored as UTC (SQLModel's UTCDateTime). Enumerations are stored as short strings
so that SQLite and PostgreSQL share one schema without database enum types.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig  # defined there; sqlmodel.main only imports it


class Table(SQLModel):
    """The base of every table. Rows are built and read through SQLAlchemy, never validated
    or serialized by pydantic, so the pydantic schemas are not built at import (about 15 ms
    of every start); one that is ever needed is built on its first use."""

    model_config = SQLModelConfig(from_attributes=True, defer_build=True)


class Role(StrEnum):
    SECRETARIAT = "secretariat"
    CHAIR = "chair"
    MEMBER = "member"


class ItemStatus(StrEnum):
    DONE = "done"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BLOCKED = "blocked"


class Department(Table, table=True):
    __tablename__ = "department"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=sa.String(32), unique=True, index=True)
    name_kk: str = Field(sa_type=sa.String(300))
    name_ru: str = Field(sa_type=sa.String(300))
    # What buttons, the summary and the chart show; the secretariat sets them with /shortname.
    short_name_kk: str | None = Field(default=None, sa_type=sa.String(80))
    short_name_ru: str | None = Field(default=None, sa_type=sa.String(80))
    created_at: datetime


class Person(Table, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_type=sa.BigInteger, unique=True, index=True)
    display_name: str = Field(sa_type=sa.String(200))
    # As the secretariat registered them (/invite ... Name Surname, position): alerts and
    # answers say "name, position"; None for those invited without one.
    full_name: str | None = Field(default=None, sa_type=sa.String(200))
    position: str | None = Field(default=None, sa_type=sa.String(200))
    username: str | None = Field(default=None, sa_type=sa.String(64))
    locale: str | None = Field(default=None, sa_type=sa.String(8))
    role: str = Field(sa_type=sa.String(16))
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    active: bool = True
    blocked_bot: bool = False
    # Time away (/away): back on `away_until`; meanwhile requests go to the deputy, if any.
    away_until: date | None = None
    deputy_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime
    updated_at: datetime


class RoadmapItem(Table, table=True):
    __tablename__ = "roadmap_item"
    __table_args__ = (
        # A department's open items in the worklist's order, with their newest report's time:
        # the dialog's next waiting item is the first match of one walk inside this index.
        sa.Index(
            "ix_roadmap_item_department_waiting",
            "department_id",
            "archived",
            "last_update_done",
            "deadline",
            "code",
            "last_update_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=sa.String(32), unique=True, index=True)
    title_kk: str = Field(sa_type=sa.Text)
    title_ru: str = Field(sa_type=sa.Text)
    department_id: int = Field(foreign_key="department.id", index=True)
    deadline: date = Field(index=True)
    year: int = Field(index=True)
    target: str = Field(default="", sa_type=sa.Text)
    # The deadline as the Road Map words it («IV тоқсан»), when that is less precise than a day.
    deadline_text: str = Field(default="", sa_type=sa.String(200))
    # Columns of the state's action-plan table, kept as the plan writes them.
    completion_form: str = Field(default="", sa_type=sa.Text)  # «Форма завершения»
    costs: str = Field(default="", sa_type=sa.String(300))  # «Предполагаемые расходы»
    funding: str = Field(default="", sa_type=sa.String(300))  # «Источники финансирования»
    archived: bool = False
    # Someone asked for an update ([Ask for an update]) and waits for the department's answer:
    # read with the item on the department's Save path, so a Save wakes the asker's answer
    # without a statement of its own.
    awaiting_answer: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # What item buttons show, set by the secretariat with /short; None: shortened by a rule.
    short_title_kk: str | None = Field(default=None, sa_type=sa.String(80))
    short_title_ru: str | None = Field(default=None, sa_type=sa.String(80))
    created_at: datetime
    # The newest update (created_at, then id) and whether it says "done": written only by the
    # database's trigger on every insert into status_update (migration 0014), never by the
    # application, which reads them only in SQL (a loaded item's copy may be older).
    last_update_id: int | None = None
    last_update_at: datetime | None = None
    last_update_done: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class DepartmentAlias(Table, table=True):
    """What a Road Map calls a department («УО»), kept by the secretariat for every import."""

    __tablename__ = "department_alias"

    id: int | None = Field(default=None, primary_key=True)
    alias: str = Field(sa_type=sa.String(64), unique=True, index=True)  # lower case
    department_id: int = Field(foreign_key="department.id", index=True)
    created_at: datetime


class ItemCoExecutor(Table, table=True):
    """A department that shares an item with its lead department (listed after it in the file)."""

    __tablename__ = "item_co_executor"

    item_id: int = Field(foreign_key="roadmap_item.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True, index=True)


class DeadlineChange(Table, table=True):
    """Every move of an item's deadline: a postponed deadline is a risk signal."""

    __tablename__ = "deadline_change"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True)
    old_deadline: date
    new_deadline: date
    changed_by_id: int | None = Field(default=None, foreign_key="person.id")
    changed_at: datetime
    # How the secretariat moved it: "command" (/deadline) or "import" (a spreadsheet).
    via: str = Field(
        default="command", sa_type=sa.String(16), sa_column_kwargs={"server_default": "command"}
    )
    # Why, in the secretariat's words (/deadline's reason, an import's reason column).
    reason: str | None = Field(default=None, sa_type=sa.Text)


class ItemQuestion(Table, table=True):
    """The chair's (or the secretariat's) [Ask for an update] on one item, with an optional
    question: the asker hears the department's next report on the item, or, once, that none
    came by `due_at` (the end of the next working day)."""

    __tablename__ = "item_question"
    __table_args__ = (sa.Index("ix_item_question_open", "item_id", "answered_at"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id")
    asked_by_id: int = Field(foreign_key="person.id")
    question: str | None = Field(default=None, sa_type=sa.Text)
    asked_at: datetime
    due_at: datetime
    answer_id: int | None = Field(default=None, foreign_key="status_update.id")
    answered_at: datetime | None = None
    overdue_told_at: datetime | None = None


class MemberQuestion(Table, table=True):
    """What a person typed to the bot outside a dialog (issue 22, #14): kept as it came, and
    sent on to the secretariat once they tap "send" (`sent_at`)."""

    __tablename__ = "member_question"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    text: str = Field(sa_type=sa.Text)  # empty for a voice message or a video note
    # The spoken message's file: a voice message, or a video note when media_kind says so.
    voice_file_id: str | None = Field(default=None, sa_type=sa.String(200))
    media_kind: str | None = Field(default=None, sa_type=sa.String(16))  # "video_note"; None: voice
    message_id: int | None = Field(default=None, sa_type=sa.BigInteger)  # in the person's chat
    asked_at: datetime
    sent_at: datetime | None = None


class QuestionReply(Table, table=True):
    """A secretariat member's Telegram reply to a question the bot passed on to them."""

    __tablename__ = "question_reply"

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="member_question.id", index=True)
    replied_by_id: int = Field(foreign_key="person.id")
    text: str = Field(sa_type=sa.Text)
    replied_at: datetime


class StatusUpdate(Table, table=True):
    """One report on an item; never updated in place."""

    __tablename__ = "status_update"
    __table_args__ = (
        # Down to the id: the newest update of an item is the last entry of its range.
        sa.Index("ix_status_update_item_created", "item_id", "created_at", "id"),
        # An edit of a saved comment finds its update by the author's chat message.
        sa.Index("ix_status_update_author_message", "author_id", "message_id"),
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name="ck_status_update_progress"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id")
    author_id: int = Field(foreign_key="person.id", index=True)
    status: str = Field(sa_type=sa.String(16))
    progress: int
    comment: str | None = Field(default=None, sa_type=sa.Text)
    cause: str | None = Field(default=None, sa_type=sa.String(32))
    evidence_kind: str | None = Field(default=None, sa_type=sa.String(16))
    evidence_file_id: str | None = Field(default=None, sa_type=sa.String(256))
    evidence_unique_id: str | None = Field(default=None, sa_type=sa.String(128))
    evidence_name: str | None = Field(default=None, sa_type=sa.String(256))  # a document's name
    # "No change": the author confirmed the previous status and progress (counts as a report).
    confirmation: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_at: datetime
    # The chat message the comment came from (an edit of it offers a correction).
    message_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    # A correction: the update it corrects (kept, marked `corrected`).
    corrects_id: int | None = Field(default=None, foreign_key="status_update.id")
    corrected: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class Invite(Table, table=True):
    """A one-time invitation link.

    Only the SHA-256 of the token is stored, so a leaked table grants nobody access.
    """

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True, index=True)
    role: str = Field(sa_type=sa.String(16))
    department_id: int | None = Field(default=None, foreign_key="department.id")
    # Who the link is for, as the secretariat typed it: the person's own once it is opened.
    full_name: str | None = Field(default=None, sa_type=sa.String(200))
    position: str | None = Field(default=None, sa_type=sa.String(200))
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime
    expires_at: datetime
    used_by_id: int | None = Field(default=None, foreign_key="person.id")
    used_at: datetime | None = None


class AuditLog(Table, table=True):
    """Every administrative change and every refusal, with who tried it."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    actor_telegram_id: int | None = Field(default=None, sa_type=sa.BigInteger, index=True)
    actor_person_id: int | None = Field(default=None, foreign_key="person.id")
    action: str = Field(sa_type=sa.String(64), index=True)
    target: str | None = Field(default=None, sa_type=sa.String(200))
    details: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(index=True)


class FsmRecord(Table, table=True):
    """aiogram FSM state and data per chat, kept in the database so dialogs survive a restart."""

    __tablename__ = "fsm_record"

    key: str = Field(sa_type=sa.String(200), primary_key=True)
    state: str | None = Field(default=None, sa_type=sa.String(200))
    data: str = Field(default="{}", sa_type=sa.Text)


class StatusRound(Table, table=True):
    """One request for updates, to every department with open items or to a single one."""

    __tablename__ = "status_round"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(index=True)
    started_by_id: int | None = Field(default=None, foreign_key="person.id")
    department_id: int | None = Field(default=None, foreign_key="department.id")
    trigger: str = Field(default="manual", sa_type=sa.String(16))  # manual | schedule
    # When its requests were put into the outbox; None: recorded, requests still to queue
    # (a crash in between is resumed at the next start).
    queued_at: datetime | None = None


class RoundRequest(Table, table=True):
    """A department's part in a round: which items were asked about, and when it answered.

    `answered_at` is set by the first status update from the department after the request;
    response statistics, nudges and stale-item rules read it.
    """

    __tablename__ = "round_request"
    __table_args__ = (sa.UniqueConstraint("round_id", "department_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="status_round.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    item_count: int
    people_count: int
    requested_at: datetime = Field(index=True)
    answered_at: datetime | None = None
    # Everybody in the department was away: the request is not a missed round.
    excused: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class RiskEvent(Table, table=True):
    """A saved update that declared a risk or moved progress backwards; chair alerts read it."""

    __tablename__ = "risk_event"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True)
    status_update_id: int = Field(foreign_key="status_update.id", unique=True)
    kind: str = Field(sa_type=sa.String(32))  # declared_at_risk | declared_blocked | progress_back
    previous_status: str | None = Field(default=None, sa_type=sa.String(16))
    previous_progress: int | None = None
    created_at: datetime = Field(index=True)
    handled_at: datetime | None = None


class Notification(Table, table=True):
    """The durable outbox: every outgoing notification is a row before it is a message.

    The unique idempotency key makes enqueueing the same notification twice a no-op; workers
    claim due rows (FOR UPDATE SKIP LOCKED on PostgreSQL) and a claim expires if its worker dies.
    """

    __tablename__ = "notification"
    __table_args__ = (
        # The claim walks the due rows in order ...
        sa.Index("ix_notification_due", "state", "not_before", "id"),
        # ... and for each asks "is an earlier message to this chat still on its way?"
        sa.Index("ix_notification_chat_order", "chat_id", "state", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(sa_type=sa.String(200), unique=True)
    kind: str = Field(sa_type=sa.String(32), index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    chat_id: int = Field(sa_type=sa.BigInteger)
    payload: str = Field(sa_type=sa.Text)  # JSON: {"method": ..., "params": {...}}
    state: str = Field(default="pending", sa_type=sa.String(16))  # pending|sent|failed|dropped
    attempts: int = 0
    not_before: datetime
    claimed_by: str | None = Field(default=None, sa_type=sa.String(64))
    claimed_until: datetime | None = None
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    telegram_message_id: int | None = None
    created_at: datetime
    sent_at: datetime | None = None


class RiskDismissal(Table, table=True):
    """The secretariat overrules a computed risk reason, with who and why.

    It holds only while the item's data (newest update, deadline, department) matches
    `item_fingerprint`; any change brings the reason back.
    """

    __tablename__ = "risk_dismissal"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True)
    reason: str = Field(sa_type=sa.String(32))
    text: str = Field(sa_type=sa.Text)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime
    item_fingerprint: str = Field(sa_type=sa.String(100))


class ItemRiskState(Table, table=True):
    """The risk level the chair was last told about, so an alert goes out once per transition.

    `episode` grows each time the item enters a risk state from none: a recovered item that
    falls back gets a fresh alert.
    """

    __tablename__ = "item_risk_state"

    item_id: int = Field(foreign_key="roadmap_item.id", primary_key=True)
    state: str = Field(sa_type=sa.String(16))
    reasons: str = Field(default="", sa_type=sa.String(200))
    episode: int = 0
    updated_at: datetime


class RiskDirty(Table, table=True):
    """An item, or every item of a department, whose risk inputs changed since the alert scan
    last looked at them.

    Written in the transaction of the change (an update, a deadline, an import, a round ...), so
    a crash before the scan loses nothing; the scan deletes exactly the rows it read, by id, so
    a mark added while it runs waits for the next one. Append-only and short-lived: no foreign
    keys, and AUTOINCREMENT so SQLite never hands a consumed id to a new mark.
    """

    __tablename__ = "risk_dirty"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    item_id: int | None = None
    department_id: int | None = None  # a round or its answer: every item of the department
    created_at: datetime


class ForecastCache(Table, table=True):
    """An item's forecast as the digest's "likely late" screen and the export need it,
    computed when its history changes (the alert scan's pass over marked items) so they read it.

    `inputs` fingerprints everything the forecast is computed from (the history, start,
    deadline, seed, the working-day calendar); a row is used only while no `risk_dirty` mark
    names its item and its deadline and calendar are still the item's. No foreign key: it is
    a cache, rebuilt from the reports.
    """

    __tablename__ = "forecast_cache"

    item_id: int = Field(primary_key=True)
    inputs: str = Field(sa_type=sa.String(64))
    calendar: str = Field(sa_type=sa.String(64))  # the calendar's fingerprint (with the zone)
    deadline: date
    screened_in: bool  # `may_be_unlikely`: False means known not to be, no forecast needed
    forecast: str | None = Field(default=None, sa_type=sa.Text)  # JSON, when screened in
    # The unscreened forecast on the item's own gains (None: done, or no reports) and those
    # weekly gains (None: too few updates to lend any), so the export reads every item's
    # forecast and rebuilds the pools a borrowing item needs without reading every report.
    own: str | None = Field(default=None, sa_type=sa.Text)
    gains: str | None = Field(default=None, sa_type=sa.Text)


class JobRun(Table, table=True):
    """One scheduled run of a job (the round, the daily scan, the digest, the alert scans),
    inserted before the run does anything: the unique (job, scheduled_for) is the fence that
    lets one run through when two leaders fire the same planned time."""

    __tablename__ = "job_run"
    __table_args__ = (
        sa.UniqueConstraint("job", "scheduled_for", name="uq_job_run_job_scheduled_for"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(sa_type=sa.String(32))
    scheduled_for: datetime  # the trigger's planned fire time, the same on every replica
    started_at: datetime
    runner: str = Field(sa_type=sa.String(80))  # the process that ran it (host:pid:tag)


class CalendarOverride(Table, table=True):
    """A date the secretariat declared a day off, or a working day, against the calendar."""

    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    day_off: bool
    set_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime


class AppSetting(Table, table=True):
    """Settings changed from the chat (the round schedule) that must survive a restart."""

    __tablename__ = "app_setting"

    key: str = Field(sa_type=sa.String(64), primary_key=True)
    value: str = Field(sa_type=sa.Text)
    updated_at: datetime


class ReminderLog(Table, table=True):
    """One row per deadline reminder step taken for an item: each step goes out once."""

    __tablename__ = "reminder_log"
    __table_args__ = (sa.UniqueConstraint("item_id", "step", "step_date"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True)
    step: str = Field(sa_type=sa.String(16))
    step_date: date
    created_at: datetime


class RiskSnapshot(Table, table=True):
    """The year's counts as the weekly digest saw them: the chart's trend reads these, so a
    past week is never recomputed with today's deadlines."""

    __tablename__ = "risk_snapshot"
    __table_args__ = (sa.UniqueConstraint("year", "day", name="uq_risk_snapshot_year_day"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int
    day: date
    total: int
    done: int
    on_track: int
    at_risk: int
    overdue: int
    not_reported: int
    created_at: datetime
