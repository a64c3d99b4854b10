"""Helpers shared by the Beam tests: a collecting DoFn, ingress specs for the local Kinesis, writing records
(plain and KPL-aggregated), running reads and driving the reader's process() as the SDK harness does."""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.sdf_utils import RestrictionTrackerView, ThreadsafeRestrictionTracker
from apache_beam.utils.timestamp import Timestamp

from beam_transforms.aggregation import MAGIC
from beam_transforms.read import ReadFromKinesis
from beam_transforms.reader import _ReadStreamFn
from beam_transforms.restriction import StreamShards
from beam_transforms.retry import RetryPolicy
from beam_transforms.shards import list_shards

from pyflink_kinesis import (
    IngressRecord,
    KinesisEgressBuilder,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    KinesisIngressStartupPosition,
)

# Outputs by key: the DirectRunner runs DoFns in this process, so a module-level dict collects them.
SINK: Dict[str, List[Any]] = {}


class Collect(beam.DoFn):
    """Appends each value, or ``(value, element timestamp)`` with ``timestamps=True``, to ``SINK[key]`` in emit order."""

    def __init__(self, key: str, timestamps: bool = False) -> None:
        super().__init__()
        self.key = key
        self.timestamps = timestamps

    def process(self, value: Any, timestamp: Any = beam.DoFn.TimestampParam) -> None:
        SINK[self.key].append((value, timestamp) if self.timestamps else value)


def spec_for(kinesis: Any, stream: str, position: Optional[KinesisIngressStartupPosition] = None,
             deserializer: Any = None) -> KinesisIngressSpec:
    """An ingress spec reading ``stream`` of the local Kinesis, from the earliest record by default."""
    builder = (
        KinesisIngressBuilder.for_identifier("t/in")
        .with_aws_region(kinesis.region)
        .with_aws_credentials(kinesis.credentials)
        .with_stream(stream)
        .with_startup_position(position or KinesisIngressStartupPosition.from_earliest())
    )
    if deserializer is not None:
        builder = builder.with_deserializer(deserializer)
    return builder.build()


Collected = List[Tuple[Any, Timestamp]]


def run_read(spec: KinesisIngressSpec, key: Optional[str] = None, **kwargs: Any) -> Tuple[Collected, Any]:
    """Run ReadFromKinesis(spec, **kwargs) to completion; return [(value, timestamp)] and the result.

    ``SINK[key]`` fills while it runs (pass ``key`` to watch it from another thread).
    """
    key = key or uuid.uuid4().hex
    SINK.setdefault(key, [])
    pipeline = beam.Pipeline(runner="DirectRunner")
    _ = pipeline | ReadFromKinesis(spec, **kwargs) | beam.ParDo(Collect(key, timestamps=True))
    result = pipeline.run()
    result.wait_until_finish()
    return SINK.pop(key), result


def counter(result: Any, name: str) -> int:
    found = result.metrics().query(MetricsFilter().with_namespace("kinesis").with_name(name))["counters"]
    return sum(c.committed or 0 for c in found)


def put(client: Any, stream: str, records: Sequence[Tuple[Any, ...]], **extra: Any) -> List[Tuple[str, str]]:
    """PutRecords ``(key, data)`` or ``(key, data, explicit hash key or None)`` records in batches of 500, each
    entry with ``extra`` fields too; returns (shard id, sequence number) per record, in order."""
    out: List[Tuple[str, str]] = []
    for i in range(0, len(records), 500):
        batch = []
        for key, data, *hash_key in records[i : i + 500]:
            entry = {"PartitionKey": key, "Data": data, **extra}
            if hash_key and hash_key[0] is not None:
                entry["ExplicitHashKey"] = hash_key[0]
            batch.append(entry)
        response = client.put_records(StreamName=stream, Records=batch)
        assert response.get("FailedRecordCount", 0) == 0
        out.extend((r["ShardId"], r["SequenceNumber"]) for r in response["Records"])
    return out


def stream_element(client: Any, stream: str) -> StreamShards:
    """The element a read of ``stream`` starts from: its shards, listed now."""
    return StreamShards(stream, tuple(list_shards(client, stream, RetryPolicy())), time.time())


def drive(fn: _ReadStreamFn, element: StreamShards, restriction: Any, take: Optional[int] = None,
          watermark: Optional[ManualWatermarkEstimator] = None) -> Tuple[List[Any], ThreadsafeRestrictionTracker, Any]:
    """Call the SDF's process() with a tracker, as the SDK harness does.

    With ``take``, checkpoint (try_split(0)) after ``take`` outputs and return the split as
    the third value; otherwise run until process() returns (a stop or a self-checkpoint).
    """
    tracker = ThreadsafeRestrictionTracker(fn.create_tracker(restriction))
    watermark = watermark or ManualWatermarkEstimator(None)
    outputs: List[Any] = []
    split = None
    gen = fn.process(element, tracker=RestrictionTrackerView(tracker), watermark_estimator=watermark)
    for out in gen:
        outputs.append(out.value)
        if take is not None and len(outputs) == take:
            split = tracker.try_split(0)
            assert split is not None
            break
    rest = list(gen)  # after a checkpoint, process() must claim nothing more
    assert rest == []
    tracker.check_done()
    return outputs, tracker, split if take is not None else tracker.deferred_status()


def drive_to_end(fn: _ReadStreamFn, element: StreamShards, restriction: Any,
                 watermark: Optional[ManualWatermarkEstimator] = None) -> Iterator[Any]:
    """Call the SDF's process() as the SDK harness does until the restriction is done, resuming each
    self-checkpoint's residual as a runner would; yields each output (a TimestampedValue) as it is emitted, so the
    caller may look at ``watermark`` then."""
    watermark = watermark or ManualWatermarkEstimator(None)
    while restriction is not None:
        tracker = ThreadsafeRestrictionTracker(fn.create_tracker(restriction))
        yield from fn.process(element, tracker=RestrictionTrackerView(tracker), watermark_estimator=watermark)
        tracker.check_done()
        _, residual = tracker.deferred_status() or (None, None)
        restriction = None if residual is None or residual.complete else residual


def read_while(spec: Any, background: Callable[[List[IngressRecord]], None], **kwargs: Any) -> List[IngressRecord]:
    """Run ReadFromKinesis(spec, **kwargs) while ``background(sink)`` runs in a thread; return the records read."""
    key = uuid.uuid4().hex
    sink: List[IngressRecord] = []
    SINK[key] = sink
    errors: List[BaseException] = []

    def run() -> None:
        try:
            background(sink)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        with beam.Pipeline(runner="DirectRunner") as pipeline:
            _ = pipeline | ReadFromKinesis(spec, **kwargs) | beam.ParDo(Collect(key))
    finally:
        thread.join()
        SINK.pop(key, None)
    assert not errors, errors
    return sink


def check_exactly_once_in_key_order(records: List[IngressRecord], expected: Dict[str, int]) -> None:
    seen: Dict[str, List[int]] = defaultdict(list)
    for r in records:
        key, counter = r.data.decode().split(":")
        assert key == r.partition_key
        seen[key].append(int(counter))
    assert set(seen) == set(expected)
    for key, counters in seen.items():
        assert counters == list(range(expected[key])), f"key {key}: {counters}"  # once each, in order


UserRecords = List[Tuple[str, bytes]]


def aggregate(users: UserRecords) -> Tuple[str, Optional[str], bytes]:
    from aws_kinesis_agg import aggregator

    agg = aggregator.RecordAggregator()
    for key, data in users:
        assert agg.add_user_record(key, data) is None  # all fit in one aggregate
    return agg.clear_and_get().get_contents()


def write_kpl(client: Any, stream: str, entries: List[Any]) -> List[Tuple[str, Optional[UserRecords]]]:
    """Write plain records ``(key, data)`` and aggregates ``[(key, data), ...]`` in one PutRecords.

    Returns (sequence number, user records or None) per Kinesis record.
    """
    batch = []
    for entry in entries:
        if isinstance(entry, list):
            key, hash_key, data = aggregate(entry)
            item = {"PartitionKey": key, "Data": data}
            if hash_key:
                item["ExplicitHashKey"] = hash_key
        else:
            item = {"PartitionKey": entry[0], "Data": entry[1]}
        batch.append(item)
    response = client.put_records(StreamName=stream, Records=batch)
    assert response.get("FailedRecordCount", 0) == 0
    return [(r["SequenceNumber"], e if isinstance(e, list) else None) for r, e in zip(response["Records"], entries)]


Expected = List[Tuple[str, bytes, str, Optional[int]]]


def kpl_expected(written: List[Tuple[str, Optional[UserRecords]]], entries: List[Any]) -> Expected:
    out = []
    for (sequence_number, users), entry in zip(written, entries):
        if users is None:
            out.append((entry[0], entry[1], sequence_number, None))
        else:
            out.extend((key, data, sequence_number, i) for i, (key, data) in enumerate(users))
    return out


def kpl_as_tuples(records: List[IngressRecord]) -> List[Tuple[str, bytes, str, Optional[int]]]:
    return [(r.partition_key, r.data, r.sequence_number, r.sub_sequence_number) for r in records]


def kpl_entries() -> List[Any]:
    return [
        [(f"user-{i}", f"first-{i}".encode()) for i in range(10)],
        ("plain-key", b"plain payload"),
        [(f"other-{i % 3}", bytes([0xFF, 0x00, i])) for i in range(5)],  # binary user records, repeated keys
        ("fake", MAGIC + b"not an aggregate" + bytes(16)),  # magic bytes, wrong checksum: a plain record
        [("single", b"alone")],
    ]


def egress_spec(region: Any, credentials: Any, serializer: Any, max_outstanding: Optional[int] = None) -> Any:
    """An egress spec with ``serializer`` (and ``max_outstanding_records`` if given) for ``region``."""
    builder = (
        KinesisEgressBuilder.for_identifier("t/out")
        .with_aws_region(region)
        .with_aws_credentials(credentials)
        .with_serializer(serializer)
    )
    if max_outstanding is not None:
        builder = builder.with_max_outstanding_records(max_outstanding)
    return builder.build()


def collect(pcoll: Any, label: str) -> str:
    """Collect ``pcoll``'s elements into ``SINK[token]`` (in this process: the DirectRunner runs bundles here);
    returns the token."""
    token = f"{label}-{uuid.uuid4().hex}"
    SINK[token] = []
    pcoll | f"Collect{label}" >> beam.ParDo(Collect(token))
    return token


def run(build: Any) -> Any:
    """Build a pipeline with ``build(pipeline)`` and run it to completion on the DirectRunner; returns its result."""
    pipeline = beam.Pipeline(runner="DirectRunner")
    build(pipeline)
    result = pipeline.run()
    result.wait_until_finish()
    return result


def distribution_max(result: Any, name: str) -> int:
    """The largest committed value of the ``kinesis`` distribution metric ``name``."""
    found = result.metrics().query(MetricsFilter().with_namespace("kinesis").with_name(name))["distributions"]
    return max(d.committed.max for d in found)
