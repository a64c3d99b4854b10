"""Startup dates: StateFun's pattern, the seed document's example and ISO 8601 all name the same instant."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pyflink_kinesis import (
    AwsRegion,
    ConfigError,
    KinesisIngressBuilder,
    KinesisIngressStartupPosition,
    load_module,
    parse_date,
)

INSTANT = datetime(2020, 2, 1, 4, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "text",
    [
        "2020-02-01 04:15:00.000 +0000",  # StateFun's yyyy-MM-dd HH:mm:ss.SSS Z
        "2020-02-01 04:15:00.00 Z",  # the StateFun documentation's example
        "2020-02-01 04:15:00 Z",
        "2020-02-01 04:15:00.000+0000",
        "2020-02-01 04:15:00 UTC",
        "2020-02-01T04:15:00Z",  # ISO 8601
        "2020-02-01T04:15:00z",
        "2020-02-01T04:15Z",
        "2020-02-01T04:15:00.000000Z",
        "2020-02-01T04:15:00+00:00",
        "2020-02-01T05:15:00+01:00",
        "2020-02-01T05:15:00.000+0100",
        "2020-02-01T05:15:00+01",
        "2020-01-31T23:15:00-05:00",
        "2020-02-01 09:45:00.000 +0530",
        "  2020-02-01T04:15:00Z  ",
    ],
)
def test_formats_parse_to_the_same_instant(text: str) -> None:
    parsed = parse_date(text)
    assert parsed.tzinfo is not None
    assert parsed == INSTANT
    assert parsed.astimezone(timezone.utc).replace(tzinfo=None) == datetime(2020, 2, 1, 4, 15)


def test_offset_is_kept() -> None:
    parsed = parse_date("2020-02-01T05:15:00+01:00")
    assert parsed.utcoffset() == timedelta(hours=1)
    assert parse_date("2020-01-31T23:15:00-05:00").utcoffset() == timedelta(hours=-5)


def test_fractions_to_microseconds() -> None:
    assert parse_date("2020-02-01 04:15:00.5 Z").microsecond == 500000
    assert parse_date("2020-02-01 04:15:00.123 Z").microsecond == 123000
    assert parse_date("2020-02-01 04:15:00.123456789 Z").microsecond == 123456  # nanoseconds truncated


def test_aware_datetime_passes_through() -> None:
    assert parse_date(INSTANT) is INSTANT


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("2020-02-01 04:15:00", "not a date with a time zone"),  # no zone: ambiguous
        ("2020-02-01T04:15:00", "not a date with a time zone"),
        ("2020-02-01", "not a date with a time zone"),
        ("yesterday", "not a date with a time zone"),
        ("", "not a date with a time zone"),
        ("2020-02-30 04:15:00 Z", "not a valid date"),
        ("2020-13-01 04:15:00 Z", "not a valid date"),
        ("2020-02-01 25:15:00 Z", "not a valid date"),
        ("2020-02-01 04:15:00 +2500", "invalid time zone offset"),
        ("2020-02-01 04:15:00 +0160", "invalid time zone offset"),
        ("2020-02-01 04:15:00 PST", "not a date with a time zone"),
    ],
)
def test_invalid_dates(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as info:
        parse_date(text)
    assert "2020-02-01 04:15:00.000 +0000" in str(info.value)  # says which formats work


@pytest.mark.parametrize("value", [20200201, None, 1.5])
def test_non_text_dates(value: object) -> None:
    with pytest.raises(ConfigError, match="expected a date string"):
        parse_date(value)


def test_naive_datetime_rejected_everywhere() -> None:
    naive = datetime(2020, 2, 1, 4, 15)
    with pytest.raises(ConfigError, match="no time zone"):
        parse_date(naive)
    with pytest.raises(ConfigError, match="no time zone"):
        KinesisIngressStartupPosition.from_date(naive)


def _yaml_date(tmp_path: Path, date: str) -> Path:
    path = tmp_path / "module.yaml"
    path.write_text(textwrap.dedent(f"""\
        kind: io.statefun.kinesis.v1/ingress
        spec:
          id: example/in
          startupPosition:
            type: date
            date: {date}
          streams:
            - stream: s
              valueType: example/T
              targets: [example/f]
        """))
    return path


@pytest.mark.parametrize(
    "date",
    ["2020-02-01 04:15:00.000 +0000", "2020-02-01 04:15:00.00 Z", "2020-02-01T04:15:00Z", "'2020-02-01T05:15:00+01:00'"],
)
def test_yaml_dates_are_text_not_yaml_timestamps(tmp_path: Path, date: str) -> None:
    spec = load_module(_yaml_date(tmp_path, date)).ingresses["example/in"]
    assert spec.startup_position.kind == "date"
    assert spec.startup_position.date == INSTANT


def test_yaml_bad_date_located(tmp_path: Path) -> None:
    path = _yaml_date(tmp_path, "2020-02-01 04:15:00")
    with pytest.raises(ConfigError) as info:
        load_module(path)
    message = str(info.value)
    assert message.startswith(f"{path}:6: ")
    assert "document[0].spec.startupPosition.date" in message
    assert "not a date with a time zone" in message
    assert (info.value.file, info.value.line, info.value.field) == (str(path), 6, "document[0].spec.startupPosition.date")


def test_yaml_date_missing(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("kind: io.statefun.kinesis.v1/ingress\nspec:\n  id: a/b\n  startupPosition:\n    type: date\n"
                    "  streams: [{stream: s, valueType: a/T, targets: [a/f]}]\n")
    with pytest.raises(ConfigError, match="missing required key 'date'") as info:
        load_module(path)
    assert info.value.line == 4 and info.value.field == "document[0].spec.startupPosition"  # the block's line


@pytest.mark.parametrize(
    "date, expected",
    [
        (INSTANT, "2020-02-01T04:15:00.000Z"),
        (datetime(2020, 2, 1, 5, 15, 0, 123999, tzinfo=timezone(timedelta(hours=1))), "2020-02-01T04:15:00.123Z"),
        (datetime(2019, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-2))), "2020-01-01T01:59:59.000Z"),
    ],
)
def test_translated_timestamp_is_utc_millis(date: datetime, expected: str) -> None:
    spec = (
        KinesisIngressBuilder.for_identifier("a/b").with_stream("s").with_aws_region(AwsRegion.of("us-east-1"))
        .with_startup_position(KinesisIngressStartupPosition.from_date(date)).build()
    )
    props = spec.source_properties()
    assert props["source.init.position"] == "AT_TIMESTAMP"
    assert props["source.init.timestamp"] == expected
    assert props["source.init.timestamp.format"] == "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"
    assert parse_date(expected) == date.replace(microsecond=date.microsecond // 1000 * 1000)
