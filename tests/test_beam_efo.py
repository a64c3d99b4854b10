"""ReadFromKinesis with enhanced fan-out (``consumer_name``): SubscribeToShard instead of GetRecords.

Runs on the DirectRunner against kinesis-local (127.0.0.1), no mocks: a client wrapper only counts
calls, to prove which API read each shard. Events the emulator cannot produce are scripted in
test_beam_efo_scripted.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable, List

import pytest

beam = pytest.importorskip("apache_beam")

from apache_beam.io.watermark_estimators import ManualWatermarkEstimator  # noqa: E402

from beam_transforms import efo  # noqa: E402
from beam_transforms.reader import ReadSettings, _ReadStreamFn  # noqa: E402
from beam_transforms.restriction import ShardCursor, ShardInfo, StreamShards  # noqa: E402
from beam_transforms import subscription  # noqa: E402
from beam_transforms.retry import RetryPolicy  # noqa: E402
from beam_transforms.shards import list_shards  # noqa: E402
from pyflink_kinesis import KinesisIngressSpec, KinesisIngressStartupPosition  # noqa: E402
from pyflink_kinesis.testing import consumers, wait_until  # noqa: E402
from tests.beam_support import (  # noqa: E402
    check_exactly_once_in_key_order,
    counter,
    drive,
    kpl_as_tuples,
    kpl_entries,
    kpl_expected,
    put,
    read_while,
    run_read,
    spec_for,
    write_kpl,
)

pytestmark = [pytest.mark.integration, pytest.mark.beam]
NewStream = Callable[..., str]
SHARD0 = "shardId-000000000000"


class _CountingClient:
    """The real emulator client; counts calls per operation (and shard, when the call names one)."""

    calls: Counter = Counter()
    _lock = threading.Lock()

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if not callable(attr) or name.startswith("_") or name in ("can_paginate", "get_paginator", "get_waiter"):
            return attr

        def call(**kwargs: Any) -> Any:
            with _CountingClient._lock:
                _CountingClient.calls[(name, kwargs.get("ShardId", ""))] += 1
                _CountingClient.calls[(name, "*")] += 1
            return attr(**kwargs)

        return call


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Every client the reader creates counts its calls into the returned Counter."""
    real_create_client = KinesisIngressSpec.create_client
    monkeypatch.setattr(KinesisIngressSpec, "create_client",
                        lambda self, session=None: _CountingClient(real_create_client(self, session)))
    _CountingClient.calls.clear()
    return _CountingClient.calls


# ---------------------------------------------------------------- on the emulator


def test_records_arrive_byte_exact_with_metadata_through_subscribe_to_shard(
    kinesis: Any, client: Any, new_stream: NewStream, counted: Counter
) -> None:
    stream = new_stream(shards=2)
    payloads = [bytes([i % 256, 0, 255 - i % 256]) + b"\r\n\x00" * (i % 3) for i in range(60)]
    written = put(client, stream, [(f"key-{i % 7}", p) for i, p in enumerate(payloads)])
    truth = {}  # what GetRecords (the test's own client) says about each record
    for shard in {s for s, _ in written}:
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for r in client.get_records(ShardIterator=iterator)["Records"]:
            truth[r["SequenceNumber"]] = (shard, r["PartitionKey"], bytes(r["Data"]), r["ApproximateArrivalTimestamp"])

    out, result = run_read(spec_for(kinesis, stream), consumer_name="efo-app", stop_when_caught_up=True)

    assert len(out) == 60 and len(truth) == 60
    for record, timestamp in out:
        shard, key, data, arrival = truth[record.sequence_number]
        assert (record.stream, record.shard_id, record.partition_key, record.data) == (stream, shard, key, data)
        assert record.approximate_arrival_timestamp == arrival
        assert record.sub_sequence_number is None
        assert timestamp.micros == int(arrival.timestamp() * 1e6)
    assert sorted(r.data for r, _ in out) == sorted(payloads)
    # The EFO path read them: events counted, one subscription per shard, no GetRecords at all.
    assert counter(result, "efo_events") >= 2
    assert counter(result, "efo_subscriptions") == 2
    assert counted[("subscribe_to_shard", "*")] >= 2
    assert counted[("get_records", "*")] == 0 and counted[("get_shard_iterator", "*")] == 0
    assert counter(result, "efo_fallbacks") == 0
    # self-managed (the default): the consumer stays registered.
    assert [(c["ConsumerName"], c["ConsumerStatus"]) for c in consumers(client, stream)] == [("efo-app", "ACTIVE")]


def test_kpl_aggregates_and_checkpoints_resume_on_the_same_subscription_then_a_new_one(
    kinesis: Any, client: Any, new_stream: NewStream, counted: Counter
) -> None:
    stream = new_stream(shards=1)
    entries = kpl_entries()
    expected = kpl_expected(write_kpl(client, stream, entries), entries)
    spec = spec_for(kinesis, stream)
    settings = ReadSettings(stop_when_caught_up=True, consumer_name="resumer")
    element = StreamShards(stream, tuple(list_shards(client, stream, RetryPolicy())), time.time())

    fn = _ReadStreamFn(spec, settings)
    fn.setup()
    first, _, (_, residual) = drive(fn, element, fn.initial_restriction(element), take=4)  # inside an aggregate
    assert residual.shards[0].sub_sequence_number == 3
    second, _, (_, residual) = drive(fn, element, residual, take=8)  # the same worker resumes...
    assert counted[("subscribe_to_shard", SHARD0)] == 1  # ...on the same event stream
    fn.teardown()  # the worker goes away: its subscription is closed

    fn2 = _ReadStreamFn(spec, settings)  # a new worker subscribes from the cursor (AT_SEQUENCE_NUMBER)
    fn2.setup()
    third, _, _ = drive(fn2, element, residual)
    fn2.teardown()
    assert kpl_as_tuples(first + second + third) == expected  # each user record once, in order
    assert counted[("subscribe_to_shard", SHARD0)] >= 2  # (more if the emulator still held the first one)
    assert counted[("get_records", "*")] == 0


def test_an_idle_read_waits_on_its_subscription_and_keeps_it_across_self_checkpoints(
    kinesis: Any, client: Any, new_stream: NewStream, counted: Counter
) -> None:
    stream = new_stream(shards=1)
    fn = _ReadStreamFn(spec_for(kinesis, stream), ReadSettings(checkpoint_interval=2.0, consumer_name="idler"))
    fn.setup()
    element = StreamShards(stream, (ShardInfo(SHARD0),), time.time())
    begun = time.monotonic()
    outputs, _, deferred = drive(fn, element, fn.initial_restriction(element))
    # No defer on the first empty event (GetRecords would defer after poll_interval): it waited its checkpoint_interval.
    assert outputs == [] and deferred is not None and time.monotonic() - begun >= 2.0
    put(client, stream, [("k", b"late")])
    outputs, _, deferred = drive(fn, element, deferred[0])  # the residual of the self-checkpoint, same worker
    fn.teardown()
    assert [r.data for r in outputs] == [b"late"] and deferred is not None
    assert counted[("subscribe_to_shard", SHARD0)] == 1  # one event stream served both calls


def test_at_timestamp_start_and_the_idle_watermark(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("old", b"before")])
    time.sleep(0.3)
    start = datetime.now(timezone.utc)
    written = put(client, stream, [("new", b"after-1"), ("new", b"after-2")])
    spec = spec_for(kinesis, stream, KinesisIngressStartupPosition.from_date(start))
    fn = _ReadStreamFn(spec, ReadSettings(max_read_time=3.5, idle_timeout=0.0, consumer_name="clock"))
    fn.setup()
    element = StreamShards(stream, (ShardInfo(SHARD0),), time.time())
    watermark = ManualWatermarkEstimator(None)
    outputs, _, _ = drive(fn, element, fn.initial_restriction(element), watermark=watermark)
    fn.teardown()
    assert [(r.data, r.sequence_number) for r in outputs] == [(b"after-1", written[0][1]), (b"after-2", written[1][1])]
    # Empty caught-up events after the records moved the watermark past their arrival times, to about now.
    last_arrival = outputs[-1].approximate_arrival_timestamp.timestamp()
    assert watermark.current_watermark().micros / 1e6 > last_arrival + 0.5


def test_max_records_and_max_read_time_end_the_read(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [(f"k{i}", f"r{i}".encode()) for i in range(10)])
    out, result = run_read(spec_for(kinesis, stream), consumer_name="bounded", max_records=4)
    assert [r.data for r, _ in out] == [b"r0", b"r1", b"r2", b"r3"]
    assert counter(result, "efo_events") >= 1
    idle = new_stream(shards=1)
    # max_read_time ends a read of an idle stream whose subscription stays open (whether an empty event
    # arrived before the deadline depends on the machine's load, so it is not asserted). 4 s: Beam 2.77's
    # DirectRunner starts the read about 1 s later after the listing than 2.61's did.
    out, _ = run_read(spec_for(kinesis, idle), consumer_name="bounded", max_read_time=4)
    assert out == []


def test_split_while_reading_parent_before_children(kinesis: Any, client: Any, new_stream: NewStream,
                                                    counted: Counter) -> None:
    stream = new_stream(shards=1)
    # Record i is the (i // 20)-th record of key i % 20: 200 before the split, 200 after it (to the children).
    records = [(f"key-{i % 20}", f"key-{i % 20}:{i // 20}".encode(), None) for i in range(400)]
    parent = client.list_shards(StreamName=stream)["Shards"][0]
    middle = (int(parent["HashKeyRange"]["StartingHashKey"]) + int(parent["HashKeyRange"]["EndingHashKey"])) // 2
    put(client, stream, records[:200])

    def split_then_write(sink: List[Any]) -> None:
        writer = kinesis.client()
        # the pipeline is reading: split under its feet
        wait_until(lambda: len(sink) > 0, 30, "the first records read", interval=0.05)
        writer.split_shard(StreamName=stream, ShardToSplit=SHARD0, NewStartingHashKey=str(middle))
        wait_until(lambda: writer.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
                    ["StreamStatus"] == "ACTIVE", 30, "the stream to be ACTIVE", interval=0.05)
        put(writer, stream, records[200:])

    out = read_while(spec_for(kinesis, stream), split_then_write, consumer_name="splitter", max_records=400,
                      max_read_time=60, shard_discovery_interval=0.5)
    assert len(out) == 400
    check_exactly_once_in_key_order(out, {f"key-{k}": 20 for k in range(20)})
    assert len({r.shard_id for r in out}) == 3
    last_parent = max(i for i, r in enumerate(out) if r.shard_id == SHARD0)
    assert last_parent < min(i for i, r in enumerate(out) if r.shard_id != SHARD0)
    # The children were read through subscriptions; only the closed parent's end was read with GetRecords
    # (the emulator never ends a subscription at a shard's end).
    children = {r.shard_id for r in out} - {SHARD0}
    assert all(counted[("subscribe_to_shard", c)] >= 1 for c in children)
    assert counted[("get_shard_iterator", SHARD0)] >= 1
    assert all(counted[("get_shard_iterator", c)] == 0 for c in children)


def test_an_existing_consumer_is_reused_by_name_and_by_arn(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("k", b"one")])
    stream_arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    registered = client.register_stream_consumer(StreamARN=stream_arn, ConsumerName="shared")["Consumer"]
    wait_until(lambda: consumers(client, stream)[0]["ConsumerStatus"] == "ACTIVE", 30, "the consumer to be ACTIVE",
               interval=0.05)

    out, _ = run_read(spec_for(kinesis, stream), consumer_name="shared", stop_when_caught_up=True)
    assert [r.data for r, _ in out] == [b"one"]
    out, _ = run_read(spec_for(kinesis, stream), consumer_arn=registered["ConsumerARN"], stop_when_caught_up=True)
    assert [r.data for r, _ in out] == [b"one"]
    listed = consumers(client, stream)
    assert [(c["ConsumerARN"], c["ConsumerStatus"]) for c in listed] == [(registered["ConsumerARN"], "ACTIVE")]


def test_job_managed_consumer_is_deregistered_at_the_end(kinesis: Any, client: Any, new_stream: NewStream,
                                                         counted: Counter) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("k", b"x"), ("k", b"y")])
    out, _ = run_read(spec_for(kinesis, stream), consumer_name="ephemeral", consumer_lifecycle="job-managed",
                      stop_when_caught_up=True)
    assert [r.data for r, _ in out] == [b"x", b"y"]
    assert counted[("register_stream_consumer", "*")] == 1 and counted[("deregister_stream_consumer", "*")] == 1
    assert all(c["ConsumerStatus"] == "DELETING" for c in consumers(client, stream))  # or already gone


def test_job_managed_consumer_is_deregistered_when_the_read_fails(kinesis: Any, client: Any,
                                                                   new_stream: NewStream, counted: Counter) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("k", b"bad")])

    def fail(record: Any) -> Any:
        raise ValueError("cannot parse")

    spec = spec_for(kinesis, stream, deserializer=fail)
    with pytest.raises(Exception, match="deserializer failed"):
        run_read(spec, consumer_name="fragile", consumer_lifecycle="job-managed", stop_when_caught_up=True)
    assert counted[("register_stream_consumer", "*")] == 1 and counted[("deregister_stream_consumer", "*")] == 1
    assert all(c["ConsumerStatus"] == "DELETING" for c in consumers(client, stream))


def test_a_missing_stream_fails_naming_the_consumer(kinesis: Any) -> None:
    with pytest.raises(Exception, match=r"consumer 'ghost-reader': stream no-such-stream does not exist"):
        run_read(spec_for(kinesis, "no-such-stream"), consumer_name="ghost-reader", stop_when_caught_up=True)


def test_a_shard_held_by_another_subscription_falls_back_to_get_records(
    kinesis: Any, client: Any, new_stream: NewStream, counted: Counter, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = new_stream(shards=1)
    written = put(client, stream, [("k", f"r{i}".encode()) for i in range(5)])
    stream_arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    consumer = client.register_stream_consumer(StreamARN=stream_arn, ConsumerName="contended")["Consumer"]
    wait_until(lambda: consumers(client, stream)[0]["ConsumerStatus"] == "ACTIVE", 30, "the consumer to be ACTIVE",
               interval=0.05)
    holder_client = kinesis.client()
    efo.tolerate_missing_initial_response(holder_client)
    holder = efo.Subscription(holder_client, consumer["ConsumerARN"], ShardCursor(SHARD0), RetryPolicy())
    wait_until(lambda: holder.peek() is not None, 30, "another reader to hold the shard", interval=0.05)
    monkeypatch.setattr(subscription, "SUBSCRIBE_POLICY", RetryPolicy(max_attempts=3, initial_backoff=0.1,
                                                                      max_backoff=0.2))
    try:
        out, result = run_read(spec_for(kinesis, stream), consumer_name="contended", stop_when_caught_up=True,
                               poll_interval=0.1)
    finally:
        holder.close()
    assert [(r.sequence_number, r.data) for r, _ in out] == [(s, f"r{i}".encode()) for i, (_, s) in enumerate(written)]
    assert counter(result, "efo_fallbacks") == 1
    assert counted[("subscribe_to_shard", SHARD0)] == 3
    assert counted[("get_records", "*")] >= 1
