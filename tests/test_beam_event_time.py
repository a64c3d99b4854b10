"""Event time in ReadFromKinesis: ``timestamp_fn`` and ``max_out_of_orderness`` (kinesis-local, DirectRunner).

The records are written before the read starts, out of order by the event time inside them, over two shards;
the reads are bounded (``stop_when_caught_up``), so every outcome is deterministic. The DirectRunner groups a
bounded read only once it ended, so it never drops late data: lateness is checked on the reader itself, whose
watermark estimator is read at every element it emits (an element behind the watermark is late).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Tuple

import pytest

beam = pytest.importorskip("apache_beam")

from apache_beam.io.watermark_estimators import ManualWatermarkEstimator  # noqa: E402
from apache_beam.transforms.window import FixedWindows  # noqa: E402
from apache_beam.utils.timestamp import Timestamp  # noqa: E402

from beam_transforms.read import ReadFromKinesis  # noqa: E402
from beam_transforms.reader import _ReadStreamFn  # noqa: E402
from beam_transforms.settings import read_settings  # noqa: E402
from pyflink_kinesis import AwsRegion, IngressRecord, KinesisIngressBuilder  # noqa: E402
from pyflink_kinesis.spec.errors import ConfigError  # noqa: E402

from tests.beam_support import SINK, collect, drive_to_end, put, run, spec_for, stream_element  # noqa: E402

pytestmark = [pytest.mark.beam]

BASE = 1_699_999_980  # epoch seconds at the start of a minute: the 60 s windows start at BASE + 60 * n
# Event-time offsets (seconds after BASE) in the order they are written to each shard: out of order by at
# most 25 s, and each shard ends with a record 25 s before its latest (late unless held back by that much).
OFFSETS = [5, 65, 40, 130, 105, 175, 150]
WINDOW = 60


def _from_json(record: IngressRecord) -> Dict[str, Any]:
    return json.loads(record.data)


def _event_time(record: IngressRecord, value: Dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(value["t"], timezone.utc)


def _write_out_of_order(client: Any, stream: str) -> Dict[str, int]:
    """Write OFFSETS to each of the stream's two shards (explicit hash keys); returns id -> event time."""
    shards = client.list_shards(StreamName=stream)["Shards"]
    assert len(shards) == 2
    events: Dict[str, int] = {}
    for i, offset in enumerate(OFFSETS):
        batch = []
        for shard in shards:
            event_id = f"{shard['ShardId'][-1]}-{i}"
            events[event_id] = BASE + offset
            body = json.dumps({"id": event_id, "t": BASE + offset}).encode()
            batch.append((event_id, body, shard["HashKeyRange"]["StartingHashKey"]))
        put(client, stream, batch)
    return events


@pytest.mark.integration
def test_fixed_event_time_windows_hold_each_record_by_its_own_time(
    kinesis: Any, client: Any, new_stream: Callable[..., str]
) -> None:
    stream = new_stream(shards=2)
    events = _write_out_of_order(client, stream)
    spec = spec_for(kinesis, stream, deserializer=_from_json)
    tokens: Dict[str, str] = {}

    def build(pipeline: Any) -> None:
        values = pipeline | ReadFromKinesis(spec, stop_when_caught_up=True, timestamp_fn=_event_time,
                                            max_out_of_orderness=timedelta(seconds=30), max_records_per_call=1)
        tokens["stamps"] = collect(values | beam.Map(
            lambda v, ts=beam.DoFn.TimestampParam: (v["id"], ts.micros // 1_000_000)), "stamps")
        windows = (values | beam.WindowInto(FixedWindows(WINDOW)) | beam.Map(lambda v: ("all", v["id"]))
                   | beam.GroupByKey()
                   | beam.Map(lambda kv, w=beam.DoFn.WindowParam: (int(w.start), sorted(kv[1]))))
        tokens["windows"] = collect(windows, "windows")

    run(build)
    assert dict(SINK.pop(tokens["stamps"])) == events  # every element carries its own event time
    expected: Dict[int, List[str]] = {}
    for event_id, t in sorted(events.items()):
        expected.setdefault(BASE + (t - BASE) // WINDOW * WINDOW, []).append(event_id)
    assert dict(SINK.pop(tokens["windows"])) == expected


def _read_watching_lateness(kinesis: Any, client: Any, stream: str, **read_args: Any) -> List[Tuple[str, int, int]]:
    """Read the stream with the reader's process() (as the SDK harness calls it); returns, per element in emit
    order, (id, its timestamp, the watermark when it was emitted), in microseconds."""
    spec = spec_for(kinesis, stream, deserializer=_from_json)
    fn = _ReadStreamFn(spec, read_settings(spec, stop_when_caught_up=True, max_records_per_call=1,
                                           timestamp_fn=_event_time, checkpoint_interval=600, **read_args))
    fn.setup()
    element = stream_element(client, stream)
    watermark = ManualWatermarkEstimator(None)
    seen: List[Tuple[str, int, int]] = []
    try:
        for out in drive_to_end(fn, element, fn.initial_restriction(element), watermark):
            mark = watermark.current_watermark()
            seen.append((out.value["id"], out.timestamp.micros, mark.micros if mark is not None else -2**62))
    finally:
        fn.teardown()
    return seen


@pytest.mark.integration
def test_no_element_within_max_out_of_orderness_is_late_and_the_watermark_follows_event_time(
    kinesis: Any, client: Any, new_stream: Callable[..., str]
) -> None:
    stream = new_stream(shards=2)
    events = _write_out_of_order(client, stream)
    held = _read_watching_lateness(kinesis, client, stream, max_out_of_orderness=25)
    assert sorted(i for i, _, _ in held) == sorted(events)
    assert [(i, ts) for i, ts, _ in held] == [(i, events[i] * 1_000_000) for i, _, _ in held]
    late = [(i, ts, mark) for i, ts, mark in held if ts < mark]
    assert late == []
    # The watermark followed the event times (not the arrival times, which are now, years later)...
    assert max(mark for _, _, mark in held) == (BASE + max(OFFSETS) - 25) * 1_000_000
    # ... and without holding back, the last out-of-order record of a shard is late: the check above can fail.
    stream_again = new_stream(shards=2)
    _write_out_of_order(client, stream_again)
    eager = _read_watching_lateness(kinesis, client, stream_again)
    assert [ts for _, ts, mark in eager if ts < mark]


def test_max_out_of_orderness_takes_seconds_a_timedelta_or_a_beam_duration() -> None:
    from apache_beam.utils.timestamp import Duration

    spec = KinesisIngressBuilder.for_identifier("t/in").with_aws_region(AwsRegion.of("us-east-1")).with_stream(
        "s").build()
    assert read_settings(spec).max_out_of_orderness == 0.0
    assert read_settings(spec, max_out_of_orderness=2.5).max_out_of_orderness == 2.5
    assert read_settings(spec, max_out_of_orderness=timedelta(minutes=1)).max_out_of_orderness == 60.0
    assert read_settings(spec, max_out_of_orderness=Duration(seconds=3)).max_out_of_orderness == 3.0
    with pytest.raises(ConfigError, match="max_out_of_orderness: must be at least 0"):
        read_settings(spec, max_out_of_orderness=timedelta(seconds=-1))
    with pytest.raises(ConfigError, match="timestamp_fn: expected a function"):
        read_settings(spec, timestamp_fn="t")


def test_event_times_are_datetimes_beam_timestamps_or_epoch_seconds() -> None:
    from beam_transforms.emit import event_micros

    assert event_micros(datetime(1970, 1, 1, 0, 0, 1)) == 1_000_000  # naive: UTC
    assert event_micros(datetime(1970, 1, 1, 1, 0, 1, tzinfo=timezone(timedelta(hours=1)))) == 1_000_000
    assert event_micros(Timestamp(micros=7)) == 7
    assert event_micros(1.5) == 1_500_000
    with pytest.raises(TypeError, match="expected a datetime, a Beam Timestamp or epoch seconds, got str"):
        event_micros("2024-01-01")
