"""ReadFromKinesis on the DirectRunner (FnApiRunner) against the local Kinesis emulator.

No mocks: every test reads real records from kinesis-local. Faults, configuration and boundedness
are in test_beam_read_faults.py and test_beam_read_config.py.
"""

from __future__ import annotations

import pickle
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, List, Optional

import pytest

beam = pytest.importorskip("apache_beam")

from apache_beam.io.watermark_estimators import ManualWatermarkEstimator  # noqa: E402
from apache_beam.utils.timestamp import Timestamp  # noqa: E402

from beam_transforms.reader import ReadSettings, _ReadStreamFn  # noqa: E402
from pyflink_kinesis import IngressRecord, KinesisIngressStartupPosition  # noqa: E402

from tests.beam_support import SINK, counter, drive, put, run_read, spec_for, stream_element  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]
NewStream = Callable[..., str]


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
