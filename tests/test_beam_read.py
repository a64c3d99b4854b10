"""ReadFromKinesis on the DirectRunner (FnApiRunner) against the local Kinesis emulator.

No mocks: every test reads real records from kinesis-local. The only fakes are the
fault injections of the throttling/expired-iterator test (a client wrapper that raises
the errors no emulator produces; stated there).
"""

from __future__ import annotations

import pickle
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

beam = pytest.importorskip("apache_beam")

from apache_beam.io.watermark_estimators import ManualWatermarkEstimator  # noqa: E402
from apache_beam.utils.timestamp import Timestamp  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from beam_transforms.read import ReadFromKinesis  # noqa: E402
from beam_transforms.reader import ReadSettings, _ReadStreamFn  # noqa: E402
from beam_transforms import retry  # noqa: E402
from beam_transforms.retry import RetryPolicy  # noqa: E402
from beam_transforms.shards import KinesisReadError  # noqa: E402
from pyflink_kinesis import (  # noqa: E402
    ConfigError,
    IngressRecord,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    KinesisIngressStartupPosition,
    load_module,
)

from tests.beam_support import SINK, Collect, counter, drive, put, run_read, spec_for, stream_element  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]
NewStream = Callable[..., str]

# ---------------------------------------------------------------- helpers

# ---------------------------------------------------------------- payloads and metadata


def test_binary_payloads_and_metadata_round_trip(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=2)
    payloads = [b"\xff\xfe\xfd", b"\x00", b"\x80abc\xc3\x28", bytes(range(256)), b"x" * 100_000]
    payloads.append("üñí".encode("utf-16"))
    payloads += [f"plain-{i}".encode() for i in range(20)]
    records = [(f"key-{i}", data) for i, data in enumerate(payloads)]
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    written = put(client, stream, records)
    after = datetime.now(timezone.utc) + timedelta(seconds=5)

    out, result = run_read(spec_for(kinesis, stream), stop_when_caught_up=True, poll_interval=0.2)

    assert len(out) == len(records)
    by_position = {(r.shard_id, r.sequence_number): (r, ts) for r, ts in out}
    assert len(by_position) == len(records)  # each record once
    for (key, data), position in zip(records, written):
        record, ts = by_position[position]  # sequence numbers are exactly what PutRecords returned
        assert isinstance(record, IngressRecord)
        assert record.data == data and type(record.data) is bytes
        assert record.partition_key == key
        assert record.stream == stream
        assert record.sub_sequence_number is None
        arrival = record.approximate_arrival_timestamp
        assert arrival.tzinfo is not None and arrival.utcoffset() == timedelta(0)
        assert before <= arrival <= after
        assert ts == Timestamp.from_utc_datetime(arrival)  # element timestamp = arrival time
    assert counter(result, "records_read") == len(records)


# ---------------------------------------------------------------- startup positions


def test_earliest_reads_records_written_before_the_start(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("k", f"old-{i}".encode()) for i in range(25)])
    spec = spec_for(kinesis, stream, KinesisIngressStartupPosition.from_earliest())
    out, _ = run_read(spec, stop_when_caught_up=True)
    assert [r.data for r, _ in out] == [f"old-{i}".encode() for i in range(25)]


def test_latest_reads_only_records_written_after_the_start(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=2)
    put(client, stream, [(f"k{i}", f"old-{i}".encode()) for i in range(40)])
    written: List[int] = []
    stop = threading.Event()
    key = uuid.uuid4().hex
    sink = SINK.setdefault(key, [])

    def writer() -> None:
        # Writes new-0, new-1, ... while the pipeline starts, until it has read new records for 1 s
        # (so however slowly the pipeline starts, some records arrive after it listed the shards).
        writer_client = kinesis.client()
        i = 0
        first_seen: Optional[float] = None
        give_up = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < give_up:
            put(writer_client, stream, [(f"k{i}", f"new-{i}".encode())])
            written.append(i)
            i += 1
            if sink and first_seen is None:
                first_seen = time.monotonic()
            if first_seen is not None and time.monotonic() - first_seen > 1.0:
                return
            time.sleep(0.1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        # The read lasts 6 s from the shard listing; the writer stops about 1.5 s after it.
        out, _ = run_read(spec_for(kinesis, stream, KinesisIngressStartupPosition.from_latest()), key=key,
                          max_read_time=6.0, poll_interval=0.2)
    finally:
        stop.set()
        thread.join()
    data = [r.data.decode() for r, _ in out]
    assert not [d for d in data if d.startswith("old-")]
    read = sorted(int(d.split("-")[1]) for d in data)
    assert read, "records written after the start must be read"
    assert len(read) == len(set(read))
    # Everything from the first record after the start to the last one written was read, with no gap.
    assert read == list(range(read[0], written[-1] + 1))


def test_date_starts_at_the_first_record_at_or_after_it(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=2)
    put(client, stream, [(f"k{i}", f"before-{i}".encode()) for i in range(30)])
    time.sleep(0.3)
    date = datetime.now(timezone.utc)
    time.sleep(0.3)
    after = put(client, stream, [(f"k{i}", f"after-{i}".encode()) for i in range(30)])
    spec = spec_for(kinesis, stream, KinesisIngressStartupPosition.from_date(date))
    out, _ = run_read(spec, stop_when_caught_up=True)
    assert sorted((r.shard_id, r.sequence_number) for r, _ in out) == sorted(after)
    assert all(r.approximate_arrival_timestamp >= date for r, _ in out)


# ---------------------------------------------------------------- bounded modes


def test_max_records_stops_after_exactly_n_records(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("k", f"r-{i}".encode()) for i in range(30)])
    out, result = run_read(spec_for(kinesis, stream), max_records=12)
    assert [r.data for r, _ in out] == [f"r-{i}".encode() for i in range(12)]
    assert counter(result, "records_read") == 12


def test_max_read_time_ends_an_idle_read(kinesis: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=2)
    started = time.monotonic()
    out, _ = run_read(spec_for(kinesis, stream), max_read_time=1.5, poll_interval=0.2)
    assert out == []
    assert time.monotonic() - started < 30


# ---------------------------------------------------------------- resume from a checkpoint


def test_resume_from_a_checkpoint_emits_the_next_record_and_none_twice(
    kinesis: Any, client: Any, new_stream: NewStream
) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("k", f"r-{i}".encode()) for i in range(50)])
    spec = spec_for(kinesis, stream)
    settings = ReadSettings(stop_when_caught_up=True, poll_interval=0.05)
    element = stream_element(client, stream)
    fn = _ReadStreamFn(spec, settings)
    fn.setup()

    first, tracker, (primary, residual) = drive(fn, element, fn.initial_restriction(element), take=17)
    assert [r.data for r in first] == [f"r-{i}".encode() for i in range(17)]
    assert primary.complete and not residual.complete
    assert tracker.current_restriction() == primary
    cursor = residual.shards[0]
    assert cursor.sequence_number == first[-1].sequence_number and cursor.sub_sequence_number is None

    # The residual survives encoding, and a fresh DoFn (another worker) resumes from it.
    residual = pickle.loads(pickle.dumps(residual))
    coder = fn.restriction_coder()
    assert coder.decode(coder.encode(residual)) == residual
    fn2 = _ReadStreamFn(spec, settings)
    fn2.setup()
    second, _, _ = drive(fn2, element, residual)
    assert second[0].data == b"r-17"
    assert [r.data for r in first + second] == [f"r-{i}".encode() for i in range(50)]


def test_resume_across_two_shards_reads_each_record_once(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=2)
    written = put(client, stream, [(f"k{i}", f"r-{i}".encode()) for i in range(80)])
    spec = spec_for(kinesis, stream)
    settings = ReadSettings(stop_when_caught_up=True, poll_interval=0.05, max_records_per_call=7)
    element = stream_element(client, stream)
    fn = _ReadStreamFn(spec, settings)
    fn.setup()
    restriction = fn.initial_restriction(element)
    seen: List[IngressRecord] = []
    for take in (5, 11, 23):  # three checkpoints, each resumed by a fresh DoFn
        out, _, (_, restriction) = drive(fn, element, restriction, take=take)
        seen += out
        fn = _ReadStreamFn(spec, settings)
        fn.setup()
    out, _, _ = drive(fn, element, restriction)
    seen += out
    assert sorted((r.shard_id, r.sequence_number) for r in seen) == sorted(written)


def test_self_checkpoint_when_no_shard_has_data(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=2)
    put(client, stream, [("k", b"only")])
    spec = spec_for(kinesis, stream)
    fn = _ReadStreamFn(spec, ReadSettings(poll_interval=0.3))  # unbounded: no stop condition
    fn.setup()
    element = stream_element(client, stream)
    out, tracker, deferred = drive(fn, element, fn.initial_restriction(element))
    assert [r.data for r in out] == [b"only"]
    assert deferred is not None  # process() deferred the remainder itself
    residual, delay = deferred
    assert not residual.complete and delay.micros <= 300_000
    assert not tracker.is_bounded()
    assert fn.truncate(element, residual) is None  # an unbounded read is dropped on drain
    # Resuming the deferred residual emits nothing old.
    again, _, deferred_again = drive(fn, element, residual)
    assert again == [] and deferred_again is not None


# ---------------------------------------------------------------- watermark


def test_watermark_follows_arrival_times_and_idle_shards(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=2)
    # Everything goes to the first shard (explicit hash key 0); the second shard stays empty.
    put(client, stream, [("k", f"r-{i}".encode()) for i in range(10)], ExplicitHashKey="0")
    spec = spec_for(kinesis, stream)
    element = stream_element(client, stream)

    fn = _ReadStreamFn(spec, ReadSettings(stop_when_caught_up=True, poll_interval=0.05, idle_timeout=0.0))
    fn.setup()
    wm = ManualWatermarkEstimator(None)
    out, _, _ = drive(fn, element, fn.initial_restriction(element), watermark=wm)
    assert len(out) == 10
    # The idle shard's mark is now - 0 s: it does not hold the watermark behind the busy shard's last arrival
    # (whether the caught-up busy shard counts as idle too by the end depends on the emulator's paging).
    last_arrival = Timestamp.from_utc_datetime(out[-1].approximate_arrival_timestamp)
    assert last_arrival <= wm.current_watermark() <= Timestamp.now()

    fn = _ReadStreamFn(spec, ReadSettings(stop_when_caught_up=True, poll_interval=0.05, idle_timeout=3600.0))
    fn.setup()
    wm = ManualWatermarkEstimator(None)
    drive(fn, element, fn.initial_restriction(element), watermark=wm)
    # With a one-hour idle threshold the empty shard holds the watermark an hour back.
    hour_ago = Timestamp.now() - 3600
    assert abs(float(wm.current_watermark() - hour_ago)) < 30


# ---------------------------------------------------------------- deserializers


def _upper(record: IngressRecord) -> Optional[str]:
    text = record.data.decode()
    return None if text.startswith("skip") else text.upper()


def _fragile(record: IngressRecord) -> str:
    if record.data == b"bad":
        raise ValueError("cannot parse")
    return record.data.decode()


def test_deserializer_values_and_skipped_records(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("k", b) for b in (b"a", b"skip-1", b"b", b"skip-2", b"c")])
    out, result = run_read(spec_for(kinesis, stream, deserializer=_upper), stop_when_caught_up=True)
    assert [v for v, _ in out] == ["A", "B", "C"]
    assert counter(result, "skipped_records") == 2
    assert counter(result, "records_read") == 5


def test_failing_deserializer_names_stream_shard_and_sequence_number(
    kinesis: Any, client: Any, new_stream: NewStream
) -> None:
    stream = new_stream(shards=1)
    (_, (shard, sequence_number), _) = put(client, stream, [("k", b"ok"), ("k", b"bad"), ("k", b"fine")])
    with pytest.raises(Exception) as raised:
        run_read(spec_for(kinesis, stream, deserializer=_fragile), stop_when_caught_up=True)
    message = str(raised.value)
    assert f"stream {stream}" in message and f"shard {shard}" in message
    assert f"sequence number {sequence_number}" in message and "cannot parse" in message

    out, result = run_read(spec_for(kinesis, stream, deserializer=_fragile), stop_when_caught_up=True,
                           on_deserialize_error="skip")
    assert [v for v, _ in out] == ["ok", "fine"]
    assert counter(result, "deserialize_errors") == 1


# ---------------------------------------------------------------- faults (injected)


class _FaultyClient:
    """Wraps the real emulator client and injects the faults kinesis-local never produces.

    FAULT INJECTION (not a mock of Kinesis: every successful call reaches the emulator):
    every 3rd GetRecords raises ProvisionedThroughputExceededException, every 5th raises
    ExpiredIteratorException, the first GetShardIterator per shard raises LimitExceededException,
    and the first ListShards raises a 503 ServiceUnavailable. It also notes when each GetRecords
    call (failed ones too) hit which shard, to check the per-shard rate limit.
    """

    injected: Dict[str, int] = {}
    calls: Dict[str, List[float]] = {}

    def __init__(self, real: Any) -> None:
        self._real = real
        self._get_records = 0
        self._iterators: Dict[str, int] = {}
        self._list_shards = 0
        self._shard_of: Dict[str, str] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _error(code: str, operation: str, status: int = 400) -> ClientError:
        _FaultyClient.injected[code] = _FaultyClient.injected.get(code, 0) + 1
        return ClientError({"Error": {"Code": code, "Message": "injected"},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, operation)

    def get_records(self, **kwargs: Any) -> Any:
        with self._lock:
            shard = self._shard_of[kwargs["ShardIterator"]]
            _FaultyClient.calls.setdefault(shard, []).append(time.monotonic())
            self._get_records += 1
            n = self._get_records
        if n % 3 == 0:
            raise self._error("ProvisionedThroughputExceededException", "GetRecords")
        if n % 5 == 0:
            raise self._error("ExpiredIteratorException", "GetRecords")
        response = self._real.get_records(**kwargs)
        if response.get("NextShardIterator"):
            with self._lock:
                self._shard_of[response["NextShardIterator"]] = shard
        return response

    def get_shard_iterator(self, **kwargs: Any) -> Any:
        shard = kwargs["ShardId"]
        with self._lock:
            self._iterators[shard] = self._iterators.get(shard, 0) + 1
            first = self._iterators[shard] == 1
        if first:
            raise self._error("LimitExceededException", "GetShardIterator")
        response = self._real.get_shard_iterator(**kwargs)
        with self._lock:
            self._shard_of[response["ShardIterator"]] = shard
        return response

    def list_shards(self, **kwargs: Any) -> Any:
        self._list_shards += 1
        if self._list_shards == 1:
            raise self._error("ServiceUnavailable", "ListShards", 503)
        return self._real.list_shards(**kwargs)


def test_throttling_and_expired_iterators_are_recovered_exactly_once(
    kinesis: Any, client: Any, new_stream: NewStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = new_stream(shards=2)
    written = put(client, stream, [(f"k{i}", f"r-{i}".encode()) for i in range(120)])
    real_create_client = KinesisIngressSpec.create_client
    monkeypatch.setattr(KinesisIngressSpec, "create_client",
                        lambda self, session=None: _FaultyClient(real_create_client(self, session)))
    _FaultyClient.injected.clear()
    _FaultyClient.calls.clear()
    # Small batches force many GetRecords calls, so every fault fires several times.
    out, _ = run_read(spec_for(kinesis, stream), stop_when_caught_up=True, max_records_per_call=9, poll_interval=0.05)
    assert sorted((r.shard_id, r.sequence_number) for r, _ in out) == sorted(written)
    assert _FaultyClient.injected.get("ProvisionedThroughputExceededException", 0) >= 3
    assert _FaultyClient.injected.get("ExpiredIteratorException", 0) >= 2
    assert _FaultyClient.injected.get("LimitExceededException", 0) >= 2
    assert _FaultyClient.injected.get("ServiceUnavailable", 0) >= 1
    # No shard saw more than 5 GetRecords calls per second, retries after throttling included.
    assert len(_FaultyClient.calls) == 2
    for times in _FaultyClient.calls.values():
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert len(gaps) >= 10 and min(gaps) >= 0.195, gaps


def test_backoff_gives_up_on_persistent_throttling_and_not_on_other_errors() -> None:
    waits: List[float] = []
    policy = RetryPolicy(max_attempts=4, initial_backoff=0.1, max_backoff=1.0)
    calls = {"n": 0}

    def throttled() -> None:
        calls["n"] += 1
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetRecords")

    with pytest.raises(KinesisReadError, match="giving up after 4 attempts"):
        retry.call(policy, "GetRecords stream s shard x", throttled, sleep=waits.append)
    assert calls["n"] == 4 and len(waits) == 3
    assert all(0 <= w <= 0.1 * 2**i for i, w in enumerate(waits))  # exponential, full jitter

    def invalid() -> None:
        raise ClientError({"Error": {"Code": "InvalidArgumentException"}}, "GetRecords")

    with pytest.raises(ClientError):
        retry.call(policy, "x", invalid, sleep=waits.append)
    assert len(waits) == 3  # not retried


# ---------------------------------------------------------------- configuration


def test_ingress_id_is_looked_up_in_a_loaded_module(kinesis: Any, client: Any, new_stream: NewStream,
                                                     tmp_path: Any) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("k", b"from-yaml")])
    path = tmp_path / "module.yaml"
    path.write_text(
        "kind: io.statefun.kinesis.v1/ingress\n"
        "spec:\n"
        "  id: example/in\n"
        "  awsRegion:\n"
        "    type: custom-endpoint\n"
        f"    endpoint: {kinesis.endpoint}\n"
        "    id: us-east-1\n"
        "  awsCredentials:\n"
        "    type: basic\n"
        "    accessKeyId: local\n"
        "    secretAccessKey: local\n"
        "  startupPosition:\n"
        "    type: earliest\n"
        "  streams:\n"
        f"    - stream: {stream}\n"
        "      valueType: example/V\n"
        "      targets:\n"
        "        - example/f\n"
    )
    module = load_module(str(path))
    key = uuid.uuid4().hex
    SINK[key] = []
    with beam.Pipeline(runner="DirectRunner") as pipeline:
        _ = pipeline | ReadFromKinesis("example/in", module, stop_when_caught_up=True) | beam.ParDo(Collect(key, timestamps=True))
    # A routed YAML stream: the message carries the record's bytes to its target.
    assert [(m.target, m.payload) for m, _ in SINK.pop(key)] == [("example/f", b"from-yaml")]
    with pytest.raises(ConfigError, match="example/nope"):
        ReadFromKinesis("example/nope", module)
    with pytest.raises(ConfigError, match="module"):
        ReadFromKinesis("example/in")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"max_records": 0}, "max_records"),
        ({"max_records": 1.5}, "max_records"),
        ({"max_read_time": -1}, "max_read_time"),
        ({"on_deserialize_error": "ignore"}, "on_deserialize_error"),
        ({"max_records_per_call": 10_001}, "max_records_per_call"),
        ({"stop_when_caught_up": "yes"}, "stop_when_caught_up"),
    ],
)
def test_invalid_arguments_raise_config_errors_naming_the_field(kwargs: Dict[str, Any], field: str) -> None:
    spec = KinesisIngressBuilder.for_identifier("t/in").with_aws_region(
        __import__("pyflink_kinesis").AwsRegion.of("us-east-1")).with_stream("s").build()
    with pytest.raises(ConfigError) as raised:
        ReadFromKinesis(spec, **kwargs)
    assert raised.value.field == field


# ---------------------------------------------------------------- boundedness


def _key_one(record: IngressRecord) -> Tuple[str, int]:
    return record.partition_key, 1


def test_bounded_modes_give_bounded_pcollections_that_group(kinesis: Any, client: Any,
                                                            new_stream: NewStream) -> None:
    stream = new_stream(shards=2)
    put(client, stream, [(f"k{i % 3}", b"x") for i in range(30)])
    spec = spec_for(kinesis, stream)
    assert not (beam.Pipeline() | ReadFromKinesis(spec)).is_bounded  # no stop condition: unbounded
    key = uuid.uuid4().hex
    SINK[key] = []
    with beam.Pipeline(runner="DirectRunner") as pipeline:
        records = pipeline | ReadFromKinesis(spec, stop_when_caught_up=True)
        assert records.is_bounded
        _ = records | beam.Map(_key_one) | beam.CombinePerKey(sum) | beam.ParDo(Collect(key, timestamps=True))
    assert sorted(v for v, _ in SINK.pop(key)) == [("k0", 10), ("k1", 10), ("k2", 10)]


def test_a_spec_with_two_streams_reads_both(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    first, second = new_stream(shards=1), new_stream(shards=2)
    put(client, first, [("k", f"a-{i}".encode()) for i in range(10)])
    put(client, second, [(f"k{i}", f"b-{i}".encode()) for i in range(10)])
    spec = (KinesisIngressBuilder.for_identifier("t/in").with_aws_region(kinesis.region)
            .with_aws_credentials(kinesis.credentials).with_streams([first, second])
            .with_startup_position(KinesisIngressStartupPosition.from_earliest()).build())
    out, _ = run_read(spec, stop_when_caught_up=True, max_records=10)  # max_records counts per stream
    assert sorted((r.stream, r.data) for r, _ in out) == sorted(
        [(first, f"a-{i}".encode()) for i in range(10)] + [(second, f"b-{i}".encode()) for i in range(10)])


def test_a_missing_stream_fails_naming_it(kinesis: Any) -> None:
    with pytest.raises(Exception, match="stream no-such-stream does not exist"):
        run_read(spec_for(kinesis, "no-such-stream"), stop_when_caught_up=True)


# ---------------------------------------------------------------- the tracker's contract


def test_tracker_checkpoints_once_and_checks_claims() -> None:
    from beam_transforms.restriction import (
        RecordClaim, ShardCursor, StopClaim, StreamRestriction, StreamRestrictionTracker)

    restriction = StreamRestriction("s", (ShardCursor("a"), ShardCursor("b")))
    tracker = StreamRestrictionTracker(restriction)
    with pytest.raises(ValueError, match="unfinished"):
        tracker.check_done()  # returned without a checkpoint or stop: work would be lost
    assert tracker.try_claim(RecordClaim("a", "100"))
    with pytest.raises(ValueError, match="forward"):
        tracker.try_claim(RecordClaim("a", "99"))
    primary, residual = tracker.try_split(0)
    assert primary.complete and primary.cursor("a").sequence_number == "100"
    assert not residual.complete and residual.cursor("a").iterator_args() == {
        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": "100"}
    assert residual.cursor("b").iterator_args() == {"ShardIteratorType": "TRIM_HORIZON"}
    assert not tracker.try_claim(RecordClaim("b", "5"))  # nothing after a checkpoint
    assert tracker.try_split(0) is None
    tracker.check_done()

    bounded = StreamRestrictionTracker(StreamRestriction("s", (ShardCursor("a"),), records_left=1, bounded=True))
    assert bounded.is_bounded()
    assert bounded.try_claim(RecordClaim("a", "1"))
    assert not bounded.try_claim(RecordClaim("a", "2"))  # max_records reached
    bounded.check_done()
    stopped = StreamRestrictionTracker(StreamRestriction("s", (ShardCursor("a"),), bounded=True))
    assert stopped.try_claim(StopClaim("max_read_time")) and stopped.current_restriction().complete
    stopped.check_done()
