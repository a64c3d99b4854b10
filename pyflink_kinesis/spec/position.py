"""Where a Kinesis ingress starts reading on a fresh start (never on restore)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

from .errors import ConfigError

# StateFun's 'yyyy-MM-dd HH:mm:ss.SSS Z', the seed document's '... .00 Z', and ISO 8601.
_DATE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<frac>\d{1,9}))?"
    r"\s*(?P<tz>Z|z|UTC|[+-]\d{2}(?::?\d{2})?)$"
)
DATE_FORMATS = "'2020-02-01 04:15:00.000 +0000', '2020-02-01 04:15:00.00 Z' or ISO 8601 '2020-02-01T04:15:00Z'"


def parse_date(text: object) -> datetime:
    """Parse a startup date into an aware datetime.

    Accepts StateFun's pattern (``2020-02-01 04:15:00.000 +0000``), the StateFun
    documentation's example (``2020-02-01 04:15:00.00 Z``) and ISO 8601. The time
    zone is required: a date without one is ambiguous across machines.
    """
    if isinstance(text, datetime):
        return _aware(text)
    if not isinstance(text, str):
        raise ConfigError(f"expected a date string such as {DATE_FORMATS}, got {text!r}")
    match = _DATE.match(text.strip())
    if not match:
        raise ConfigError(f"'{text}' is not a date with a time zone; expected {DATE_FORMATS}")
    frac = (match["frac"] or "").ljust(6, "0")[:6]
    clock = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
    tz = match["tz"].upper()
    if tz in ("Z", "UTC"):
        offset = timezone.utc
    else:
        digits = tz[1:].replace(":", "").ljust(4, "0")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise ConfigError(f"'{text}' has an invalid time zone offset '{match['tz']}'; expected {DATE_FORMATS}")
        delta = timedelta(hours=hours, minutes=minutes)
        offset = timezone(delta if tz[0] == "+" else -delta)
    try:
        naive = datetime.fromisoformat(f"{match['date']}T{clock}.{frac}")
    except ValueError as e:
        raise ConfigError(f"'{text}' is not a valid date ({e}); expected {DATE_FORMATS}") from None
    return naive.replace(tzinfo=offset)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigError(
            f"the date {value.isoformat()} has no time zone; pass an aware datetime, "
            "e.g. datetime(2020, 2, 1, 4, 15, tzinfo=timezone.utc)",
            field="date",
        )
    return value


@dataclass(frozen=True)
class KinesisIngressStartupPosition:
    """The position an ingress starts from when it has no saved state.

    Attributes:
        kind: ``"latest"``, ``"earliest"`` or ``"date"``.
        date: The aware datetime of a ``"date"`` position, else ``None``.
    """

    kind: str
    date: Optional[datetime] = None

    @classmethod
    def from_latest(cls) -> "KinesisIngressStartupPosition":
        """Start at the head of each shard: only records written after the start (the default)."""
        return cls("latest")

    @classmethod
    def from_earliest(cls) -> "KinesisIngressStartupPosition":
        """Start at the oldest record each shard still retains (``TRIM_HORIZON``)."""
        return cls("earliest")

    @classmethod
    def from_date(cls, date: datetime) -> "KinesisIngressStartupPosition":
        """Start at the first record that arrived at or after ``date``.

        Args:
            date: A timezone-aware datetime; a naive one raises ConfigError.
        """
        if not isinstance(date, datetime):
            raise ConfigError(f"expected a timezone-aware datetime, got {type(date).__name__}", field="date")
        return cls("date", _aware(date))

    @property
    def iterator_type(self) -> str:
        """The Kinesis shard iterator type this position starts with."""
        return {"latest": "LATEST", "earliest": "TRIM_HORIZON", "date": "AT_TIMESTAMP"}[self.kind]
