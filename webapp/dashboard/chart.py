"""Activity chart: sync attempts and errors per hour over the last 24 hours, as inline SVG.

One query with a conditional sum per hour (portable across SQLite and PostgreSQL, no date
functions), served by the index on sync_attempt.at; the SVG is drawn by the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select

from webapp.extensions import db
from webapp.models import SyncAttempt, utcnow

HOURS = 24


@dataclass(frozen=True)
class Bucket:
    start: datetime
    attempts: int
    errors: int


def hour_starts(now: datetime) -> list[datetime]:
    top = now.replace(minute=0, second=0, microsecond=0)
    return [top - timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]


def activity(now: datetime | None = None) -> list[Bucket]:
    starts = hour_starts(now or utcnow())
    ends = [*starts[1:], starts[-1] + timedelta(hours=1)]
    is_error = SyncAttempt.outcome == "error"
    columns = []
    for start, end in zip(starts, ends, strict=True):
        in_hour = and_(SyncAttempt.at >= start, SyncAttempt.at < end)
        columns.append(func.sum(case((in_hour, 1), else_=0)))
        columns.append(func.sum(case((and_(in_hour, is_error), 1), else_=0)))
    row = db.session.execute(
        select(*columns).where(SyncAttempt.at >= starts[0], SyncAttempt.at < ends[-1])).one()
    return [Bucket(start, int(row[2 * i] or 0), int(row[2 * i + 1] or 0))
            for i, start in enumerate(starts)]


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    attempts_height: float
    errors_height: float
    label: str
    bucket: Bucket


WIDTH, HEIGHT = 720.0, 160.0


def bars(buckets: list[Bucket]) -> tuple[list[Bar], int]:
    """Bar geometry for the template, and the scale's top value."""
    top = max([b.attempts for b in buckets] + [1])
    slot = WIDTH / len(buckets)
    result = []
    for i, bucket in enumerate(buckets):
        result.append(Bar(x=i * slot + 2, width=slot - 4,
                          attempts_height=HEIGHT * bucket.attempts / top,
                          errors_height=HEIGHT * bucket.errors / top,
                          label=bucket.start.strftime("%H:00"), bucket=bucket))
    return result, top
