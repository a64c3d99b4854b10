"""KPL-aggregated records (written with aws_kinesis_agg) come out of ReadFromKinesis as their user records.

Real kinesis-local streams; the aggregates are built by ``aws_kinesis_agg.aggregator.RecordAggregator``,
the library's own producer side, so the reader is checked against the real format.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any, Callable, List

import pytest

beam = pytest.importorskip("apache_beam")
aggregator = pytest.importorskip("aws_kinesis_agg.aggregator")

from apache_beam.io.watermark_estimators import ManualWatermarkEstimator  # noqa: E402
from apache_beam.runners.sdf_utils import RestrictionTrackerView, ThreadsafeRestrictionTracker  # noqa: E402

from beam_transforms.aggregation import MAGIC, deaggregate  # noqa: E402
from beam_transforms.read import ReadFromKinesis  # noqa: E402
from beam_transforms.reader import ReadSettings, _ReadStreamFn  # noqa: E402
from beam_transforms.restriction import StreamShards  # noqa: E402
from beam_transforms.retry import RetryPolicy  # noqa: E402
from beam_transforms.shards import list_shards  # noqa: E402
from pyflink_kinesis import IngressRecord  # noqa: E402

from tests.beam_support import (  # noqa: E402
    SINK,
    Collect,
    aggregate,
    kpl_as_tuples,
    kpl_entries,
    kpl_expected,
    spec_for,
    write_kpl,
)

pytestmark = [pytest.mark.integration, pytest.mark.beam]

def _read(spec: Any, **kwargs: Any) -> List[IngressRecord]:
    key = uuid.uuid4().hex
    SINK[key] = []
    with beam.Pipeline(runner="DirectRunner") as pipeline:
        _ = pipeline | ReadFromKinesis(spec, **kwargs) | beam.ParDo(Collect(key))
    return SINK.pop(key)


def test_aggregated_records_come_out_as_user_records_with_their_partition_keys(
    kinesis: Any, client: Any, new_stream: Callable[..., str]
) -> None:
    stream = new_stream(shards=1)
    entries = kpl_entries()
    written = write_kpl(client, stream, entries)
    out = _read(spec_for(kinesis, stream), stop_when_caught_up=True)
    assert kpl_as_tuples(out) == kpl_expected(written, entries)
    assert len(out) == 10 + 1 + 5 + 1 + 1


def test_max_records_can_stop_inside_an_aggregate(kinesis: Any, client: Any, new_stream: Callable[..., str]) -> None:
    stream = new_stream(shards=1)
    entries = kpl_entries()
    written = write_kpl(client, stream, entries)
    out = _read(spec_for(kinesis, stream), max_records=4)
    assert kpl_as_tuples(out) == kpl_expected(written, entries)[:4]


@pytest.mark.parametrize("take", [4, 10, 11, 13])  # inside, at the end of, after, inside the next aggregate
def test_resume_inside_an_aggregate_emits_the_next_user_record_once(
    kinesis: Any, client: Any, new_stream: Callable[..., str], take: int
) -> None:
    stream = new_stream(shards=1)
    entries = kpl_entries()
    expected = kpl_expected(write_kpl(client, stream, entries), entries)
    spec = spec_for(kinesis, stream)
    settings = ReadSettings(stop_when_caught_up=True, poll_interval=0.05)
    element = StreamShards(stream, tuple(list_shards(client, stream, RetryPolicy())), time.time())

    fn = _ReadStreamFn(spec, settings)
    fn.setup()
    tracker = ThreadsafeRestrictionTracker(fn.create_tracker(fn.initial_restriction(element)))
    first: List[IngressRecord] = []
    split = None
    view = RestrictionTrackerView(tracker)
    gen = fn.process(element, tracker=view, watermark_estimator=ManualWatermarkEstimator(None))
    for out in gen:
        first.append(out.value)
        if len(first) == take:
            split = tracker.try_split(0)
            break
    assert list(gen) == [] and split is not None
    _, residual = split
    cursor = residual.shards[0]
    last = expected[take - 1]
    assert cursor.sequence_number == last[2]
    inside = last[3] is not None and (take == len(expected) or expected[take][2] == last[2])
    assert cursor.sub_sequence_number == (last[3] if inside else None)

    fn2 = _ReadStreamFn(spec, settings)  # a fresh worker, no cached iterator
    fn2.setup()
    tracker2 = ThreadsafeRestrictionTracker(fn2.create_tracker(residual))
    second = [o.value for o in fn2.process(element, tracker=RestrictionTrackerView(tracker2),
                                           watermark_estimator=ManualWatermarkEstimator(None))]
    tracker2.check_done()
    assert kpl_as_tuples(second)[:1] == expected[take : take + 1]
    assert kpl_as_tuples(first + second) == expected


def test_deaggregate_rejects_corrupt_aggregates() -> None:
    key, _, data = aggregate([("a", b"1"), ("b", b"2")])
    assert [(u.partition_key, u.data) for u in deaggregate(data)] == [("a", b"1"), ("b", b"2")]
    flipped = data[:-17] + bytes([data[-17] ^ 1]) + data[-16:]
    assert deaggregate(flipped) is None  # checksum mismatch: a plain record
    body = b"\x1a\x05\x08\x07\x1a\x01x"  # a record whose partition key index points nowhere
    assert deaggregate(MAGIC + body + hashlib.md5(body).digest()) is None
    assert deaggregate(b"plain") is None
