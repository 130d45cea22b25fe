"""The store: SCIM resources, their search index, tokens, the outbox and per-object sync state.

SQLite (embedded default) and PostgreSQL both run this schema; nothing here is dialect-specific.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db

# SQLite only auto-increments an INTEGER PRIMARY KEY, so BigInteger is INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every dialect (SQLite keeps no zone of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class ScimUser(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "scim_user"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(256))
    # RFC 7643 §4.1.1: userName is unique and not case-exact, so uniqueness is on its lower case.
    user_name_key: Mapped[str] = mapped_column(String(256), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(256), index=True)
    display_name: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    user_type: Mapped[str | None] = mapped_column(String(64))
    # The resource's attributes as stored (no id, meta or password): unknown extensions kept.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The SCIM password, encrypted with the app's key; Graph needs it on the first create.
    password_enc: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScimGroup(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "scim_group"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(256))
    # Groups are linked to Entra by displayName, so two local groups may not share one.
    display_name_key: Mapped[str] = mapped_column(String(256), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(256), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(db.Model):  # type: ignore[name-defined,misc]
    """Direct members of a group; kept apart from `data` so large groups diff cheaply."""

    __tablename__ = "membership"

    group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("scim_group.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    member_type: Mapped[str] = mapped_column(String(8))  # "User" or "Group"


class ScimAttr(db.Model):  # type: ignore[name-defined,misc]
    """Search index: one row per leaf value, so any SCIM filter becomes SQL on both dialects.

    `path` is the canonical attribute path in lower case (`emails.value`,
    `urn:…:enterprise:2.0:user:manager.value`); `elem` numbers the element of a multi-valued
    attribute so that a value filter (`emails[type eq "work" and value co "x"]`) can require
    both conditions on one element. Strings that are not caseExact are stored lower-cased.
    """

    __tablename__ = "scim_attr"

    # The natural key is the primary key: no sequence and one index fewer to maintain for
    # the 30-odd rows every write inserts.
    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    elem: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    resource_type: Mapped[str] = mapped_column(String(8))
    value_str: Mapped[str | None] = mapped_column(String(1024))
    value_num: Mapped[float | None] = mapped_column(Float)
    value_bool: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (Index("ix_scim_attr_lookup", "resource_type", "path", "value_str"),)


class ScimToken(db.Model):  # type: ignore[name-defined,misc]
    """A bearer token for SCIM clients; only its SHA-256 is stored."""

    __tablename__ = "scim_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxEntry(db.Model):  # type: ignore[name-defined,misc]
    """Work acknowledged to a SCIM client and not yet synced, committed with the resource."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # "user" or "group"
    object_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(16))  # "upsert" or "delete"
    # For deletes: the Entra object to deprovision, carried so it never depends on local rows.
    entra_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_outbox_object", "kind", "object_id"),
        Index("ix_outbox_open", "done_at", "created_at"),
    )


class SyncState(db.Model):  # type: ignore[name-defined,misc]
    """The link between a local object and its Entra object, and how its last sync went."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    object_id: Mapped[str] = mapped_column(String(36))
    entra_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    remote_attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    skipped_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_locally: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set (and committed) before a create leaves; a later run then looks before creating.
    create_attempted: Mapped[bool] = mapped_column(Boolean, default=False)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("kind", "object_id", name="uq_sync_state_object"),)


class PushedMember(db.Model):  # type: ignore[name-defined,misc]
    """Members we know a linked Entra group has: the base of the membership diff."""

    __tablename__ = "pushed_member"

    group_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # local group id
    member_entra_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class SyncAttempt(db.Model):  # type: ignore[name-defined,misc]
    """One sync attempt of one object: the history behind the state and the activity chart."""

    __tablename__ = "sync_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    object_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # synced/unchanged/skipped/error/retry/…
    action: Mapped[str | None] = mapped_column(String(16))  # created/updated/linked/…
    message: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_sync_attempt_object", "kind", "object_id"),)


class PlanEntry(db.Model):  # type: ignore[name-defined,misc]
    """A Graph write that dry-run planned instead of sending (secrets masked)."""

    __tablename__ = "plan_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str | None] = mapped_column(String(8))
    object_id: Mapped[str | None] = mapped_column(String(36))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    body: Mapped[Any] = mapped_column(JSON, nullable=True)


class SyncControl(db.Model):  # type: ignore[name-defined,misc]
    """Sync-wide switches: a mapping error that paused the sync, stopped credentials, …"""

    __tablename__ = "sync_control"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
