"""ReadFromKinesis with enhanced fan-out (``consumer_name``): SubscribeToShard instead of GetRecords.

The first part runs on the DirectRunner against kinesis-local (127.0.0.1), no mocks: a client
wrapper only counts calls, to prove which API read each shard. The emulator cannot produce some
events (a shard's end with ``ChildShards``, a subscription ending after its 5 minutes, errors in
the middle of an event stream): the second part drives the reader's DoFn with a FAKE Kinesis
client that scripts those event streams, stated on each test.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

beam = pytest.importorskip("apache_beam")

from apache_beam.io.watermark_estimators import ManualWatermarkEstimator  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from beam_transforms import efo  # noqa: E402
from beam_transforms.read import ReadFromKinesis  # noqa: E402
from beam_transforms.reader import ReadSettings, _ReadStreamFn  # noqa: E402
from beam_transforms.restriction import ShardCursor, ShardInfo, StreamShards  # noqa: E402
from beam_transforms import subscription  # noqa: E402
from beam_transforms.retry import RetryPolicy  # noqa: E402
from beam_transforms.shards import KinesisReadError, list_shards  # noqa: E402
from pyflink_kinesis import (  # noqa: E402
    AwsCredentials,
    AwsRegion,
    ConfigError,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    KinesisIngressStartupPosition,
)

from pyflink_kinesis.testing import wait_until  # noqa: E402
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


def _consumers(client: Any, stream: str) -> List[Dict[str, Any]]:
    arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    return client.list_stream_consumers(StreamARN=arn)["Consumers"]


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
    assert [(c["ConsumerName"], c["ConsumerStatus"]) for c in _consumers(client, stream)] == [("efo-app", "ACTIVE")]


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
    wait_until(lambda: _consumers(client, stream)[0]["ConsumerStatus"] == "ACTIVE", 30, "the consumer to be ACTIVE",
               interval=0.05)

    out, _ = run_read(spec_for(kinesis, stream), consumer_name="shared", stop_when_caught_up=True)
    assert [r.data for r, _ in out] == [b"one"]
    out, _ = run_read(spec_for(kinesis, stream), consumer_arn=registered["ConsumerARN"], stop_when_caught_up=True)
    assert [r.data for r, _ in out] == [b"one"]
    consumers = _consumers(client, stream)
    assert [(c["ConsumerARN"], c["ConsumerStatus"]) for c in consumers] == [(registered["ConsumerARN"], "ACTIVE")]


def test_job_managed_consumer_is_deregistered_at_the_end(kinesis: Any, client: Any, new_stream: NewStream,
                                                         counted: Counter) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("k", b"x"), ("k", b"y")])
    out, _ = run_read(spec_for(kinesis, stream), consumer_name="ephemeral", consumer_lifecycle="job-managed",
                      stop_when_caught_up=True)
    assert [r.data for r, _ in out] == [b"x", b"y"]
    assert counted[("register_stream_consumer", "*")] == 1 and counted[("deregister_stream_consumer", "*")] == 1
    assert all(c["ConsumerStatus"] == "DELETING" for c in _consumers(client, stream))  # or already gone


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
    assert all(c["ConsumerStatus"] == "DELETING" for c in _consumers(client, stream))


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
    wait_until(lambda: _consumers(client, stream)[0]["ConsumerStatus"] == "ACTIVE", 30, "the consumer to be ACTIVE",
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


# ---------------------------------------------------------------- scripted event streams (FAKE client)

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


def _record(sequence_number: int, data: bytes, key: str = "k") -> Dict[str, Any]:
    return {"SequenceNumber": str(sequence_number), "Data": data, "PartitionKey": key,
            "ApproximateArrivalTimestamp": T0 + timedelta(seconds=sequence_number)}


def _event(records: List[Dict[str, Any]], millis: int = 0, continuation: Optional[str] = "0",
           children: Optional[List[str]] = None, parent: str = "") -> Dict[str, Any]:
    event: Dict[str, Any] = {"Records": records, "MillisBehindLatest": millis,
                             "ContinuationSequenceNumber": continuation}
    if children is not None:
        event["ChildShards"] = [{"ShardId": c, "ParentShards": [parent], "HashKeyRange": {}} for c in children]
    return event


def _error(code: str, operation: str = "SubscribeToShard") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"scripted {code}"}}, operation)


EXPIRED = "the subscription ends here (its 5 minutes are up)"


class _FakeEventStream:
    """Yields the scripted events, raises the scripted errors, then stays open (as a live one) until closed."""

    def __init__(self, items: List[Any]) -> None:
        self._items = items
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        for item in self._items:
            if item is EXPIRED:
                return
            if isinstance(item, BaseException):
                raise item
            yield {"SubscribeToShardEvent": item}
        self._closed.wait(30)

    def close(self) -> None:
        self._closed.set()


class _FakeKinesis:
    """FAKE Kinesis: scripted SubscribeToShard event streams (each a list of events and errors) per shard.

    ``subscriptions[shard]`` is consumed one list per SubscribeToShard call; a call records its
    StartingPosition. GetRecords must never be called.
    """

    def __init__(self, shards: List[str], subscriptions: Dict[str, List[List[Any]]]) -> None:
        self.shards = shards
        self.subscriptions = subscriptions
        self.started: List[Tuple[str, Dict[str, Any]]] = []

    def describe_stream_summary(self, StreamName: str) -> Dict[str, Any]:
        return {"StreamDescriptionSummary": {"StreamARN": f"arn:aws:kinesis:us-east-1:1:stream/{StreamName}"}}

    def describe_stream_consumer(self, **kwargs: Any) -> Dict[str, Any]:
        return {"ConsumerDescription": {"ConsumerName": "app", "ConsumerStatus": "ACTIVE",
                                        "ConsumerARN": "arn:aws:kinesis:us-east-1:1:stream/s/consumer/app:1",
                                        "StreamARN": "arn:aws:kinesis:us-east-1:1:stream/s"}}

    def list_shards(self, **kwargs: Any) -> Dict[str, Any]:
        return {"Shards": [{"ShardId": s, "SequenceNumberRange": {"StartingSequenceNumber": "0"}} for s in self.shards]}

    def subscribe_to_shard(self, ConsumerARN: str, ShardId: str, StartingPosition: Dict[str, Any]) -> Dict[str, Any]:
        self.started.append((ShardId, dict(StartingPosition)))
        script = self.subscriptions[ShardId].pop(0)
        if isinstance(script, BaseException):
            raise script
        return {"EventStream": _FakeEventStream(script)}

    def get_records(self, **kwargs: Any) -> Any:
        raise AssertionError("GetRecords was called under enhanced fan-out")

    get_shard_iterator = get_records


def _fake_read(fake: _FakeKinesis, shards: List[str], position: Optional[KinesisIngressStartupPosition] = None,
               **settings: Any) -> List[Any]:
    spec = (KinesisIngressBuilder.for_identifier("t/fake")
            .with_aws_region(AwsRegion.of_custom_endpoint("http://127.0.0.1:9", "us-east-1"))
            .with_aws_credentials(AwsCredentials.basic("x", "y")).with_stream("s")
            .with_startup_position(position or KinesisIngressStartupPosition.from_earliest()).build())
    fn = _ReadStreamFn(spec, ReadSettings(consumer_name="app", **settings))
    fn.setup()
    fn._client = fake  # never reaches 127.0.0.1:9
    element = StreamShards("s", tuple(ShardInfo(s) for s in shards), time.time())
    try:
        outputs, _, _ = drive(fn, element, fn.initial_restriction(element))
    finally:
        fn.teardown()
    return outputs


def test_fake_a_shard_end_event_hands_over_to_its_children() -> None:
    # FAKE: Kinesis ends a closed shard's subscription with an event naming its ChildShards; the emulator never does.
    fake = _FakeKinesis(["p"], {
        "p": [[_event([_record(1, b"p1")], millis=900), _event([_record(2, b"p2")], continuation=None,
                                                             children=["c1", "c2"], parent="p")]],
        "c1": [[_event([_record(10, b"c1")])]],
        "c2": [[_event([_record(20, b"c2")])]],
    })
    outputs = _fake_read(fake, ["p"], stop_when_caught_up=True)
    assert [r.data for r in outputs][:2] == [b"p1", b"p2"]
    assert sorted(r.data for r in outputs[2:]) == [b"c1", b"c2"]
    assert [s for s, _ in fake.started][0] == "p" and sorted(s for s, _ in fake.started[1:]) == ["c1", "c2"]
    assert all(position == {"Type": "TRIM_HORIZON"} for _, position in fake.started)  # children from their start


def test_fake_expired_and_broken_subscriptions_resubscribe_after_the_last_record() -> None:
    # FAKE: a subscription that ends after its 5 minutes, and an InternalFailure in the middle of a stream.
    fake = _FakeKinesis(["s"], {"s": [
        [_event([_record(1, b"a"), _record(2, b"b")], millis=5000), EXPIRED],
        [_event([_record(3, b"c")], millis=3000), _error("InternalFailure")],
        [_event([_record(3, b"c"), _record(4, b"d")])],  # a resend of 3 is skipped
    ]})
    outputs = _fake_read(fake, ["s"], stop_when_caught_up=True)
    assert [r.data for r in outputs] == [b"a", b"b", b"c", b"d"]
    assert [p for _, p in fake.started] == [
        {"Type": "TRIM_HORIZON"},
        {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "2"},
        {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "3"},
    ]


def test_fake_other_subscription_errors_fail_naming_consumer_and_shard() -> None:
    # FAKE: an access error in the middle of a stream (the emulator has no KMS).
    fake = _FakeKinesis(["s"], {"s": [[_event([_record(1, b"a")], millis=10), _error("KMSAccessDeniedException")]]})
    with pytest.raises(KinesisReadError, match=r"consumer 'app' of stream s, shard s: .*KMSAccessDenied"):
        _fake_read(fake, ["s"], stop_when_caught_up=True)


@pytest.mark.parametrize("message", [
    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
    "timestampInMillis: 1900000000000, currentTimestampInMillis: 1800000000000",  # the service's words
    "Timestamp cannot be in the future",  # kinesis-local's words
], ids=["service-wording", "kinesis-local-wording"])
def test_fake_a_future_at_timestamp_start_subscribes_at_latest(message: str) -> None:
    # FAKE: Kinesis rejects an AT_TIMESTAMP subscription in its future; known by code and request, not by words.
    future = ClientError({"Error": {"Code": "InvalidArgumentException", "Message": message}}, "SubscribeToShard")
    date = datetime.now(timezone.utc) + timedelta(hours=1)
    before = dict(_record(1, b"before"), ApproximateArrivalTimestamp=date - timedelta(minutes=1))
    after = dict(_record(2, b"a"), ApproximateArrivalTimestamp=date + timedelta(seconds=1))
    fake = _FakeKinesis(["s"], {"s": [future, [_event([before, after])]]})
    outputs = _fake_read(fake, ["s"], KinesisIngressStartupPosition.from_date(date), stop_when_caught_up=True)
    assert [r.data for r in outputs] == [b"a"]  # LATEST still emits nothing that arrived before the date
    assert [p["Type"] for _, p in fake.started] == ["AT_TIMESTAMP", "LATEST"]


def test_starting_positions_follow_the_cursor() -> None:
    assert efo.starting_position(ShardCursor("s")) == {"Type": "TRIM_HORIZON"}
    assert efo.starting_position(ShardCursor("s", start_type="AT_TIMESTAMP", start_timestamp=12.5)) == \
        {"Type": "AT_TIMESTAMP", "Timestamp": 12.5}
    assert efo.starting_position(ShardCursor("s", sequence_number="7")) == \
        {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "7"}
    assert efo.starting_position(ShardCursor("s", sequence_number="7", sub_sequence_number=2)) == \
        {"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": "7"}  # inside an aggregate: the reader skips 0..2
    assert efo.as_response(_event([], continuation=None, children=["c"], parent="s"))["NextShardIterator"] is None


class _ConsumerStates:
    """FAKE control plane: DescribeStreamConsumer walks through the given states; registering is recorded."""

    def __init__(self, states: List[Optional[str]]) -> None:
        self.states = states
        self.registered = 0

    def describe_stream_summary(self, StreamName: str) -> Dict[str, Any]:
        return {"StreamDescriptionSummary": {"StreamARN": f"arn:aws:kinesis:r:1:stream/{StreamName}"}}

    def describe_stream_consumer(self, **kwargs: Any) -> Dict[str, Any]:
        state = self.states.pop(0)
        if state is None:
            raise _error("ResourceNotFoundException", "DescribeStreamConsumer")
        return {"ConsumerDescription": {"ConsumerName": "c", "ConsumerStatus": state, "ConsumerARN": "arn:c",
                                        "StreamARN": "arn:aws:kinesis:r:1:stream/s"}}

    def register_stream_consumer(self, **kwargs: Any) -> Dict[str, Any]:
        self.registered += 1
        return {}


def test_fake_consumer_registration_waits_out_deleting_and_creating() -> None:
    fake = _ConsumerStates(["DELETING", None, "CREATING", "ACTIVE"])
    consumer = efo.resolve_consumer(fake, "s", RetryPolicy(), name="c", sleep=lambda s: None)
    assert (consumer.arn, consumer.stream_arn, fake.registered) == ("arn:c", "arn:aws:kinesis:r:1:stream/s", 1)
    never = _ConsumerStates(["CREATING"] * 5)
    clock = iter(range(100))
    with pytest.raises(KinesisReadError, match="not ACTIVE after 3 s"):
        efo.resolve_consumer(never, "s", RetryPolicy(), name="c", timeout=3, sleep=lambda s: None,
                             clock=lambda: next(clock))
    other = _ConsumerStates(["ACTIVE"])
    other.describe_stream_summary = lambda StreamName: {"StreamDescriptionSummary": {"StreamARN": "arn:other"}}
    with pytest.raises(KinesisReadError, match="belongs to another stream"):
        efo.resolve_consumer(other, "s", RetryPolicy(), arn="arn:c")


def test_only_loopback_clients_get_the_emulator_parser() -> None:
    import boto3

    def make(url: str) -> Any:
        return boto3.client("kinesis", endpoint_url=url, region_name="us-east-1",
                            aws_access_key_id="x", aws_secret_access_key="y")

    aws = make("https://kinesis.us-east-1.amazonaws.com")
    before = aws._endpoint._response_parser_factory
    assert not efo.tolerate_missing_initial_response(aws)
    assert aws._endpoint._response_parser_factory is before
    for url in ("http://127.0.0.1:4567", "http://localhost:4567", "https://[::1]:4567"):
        assert efo.tolerate_missing_initial_response(make(url)), url


@pytest.mark.parametrize("kwargs, field", [
    ({"consumer_name": "bad name"}, "consumer_name"),
    ({"consumer_name": "x" * 129}, "consumer_name"),
    ({"consumer_arn": "not-an-arn"}, "consumer_arn"),
    ({"consumer_name": "a", "consumer_arn": "arn:aws:kinesis:r:1:stream/s/consumer/a:1"}, "consumer_arn"),
    ({"consumer_name": "a", "consumer_lifecycle": "forever"}, "consumer_lifecycle"),
    ({"consumer_name": "a", "consumer_lifecycle": "job-managed"}, "consumer_lifecycle"),  # unbounded
    ({"consumer_arn": "arn:aws:kinesis:r:1:stream/s/consumer/a:1", "consumer_lifecycle": "job-managed",
      "max_records": 1}, "consumer_lifecycle"),
])
def test_invalid_fan_out_arguments_raise_config_errors(kwargs: Dict[str, Any], field: str) -> None:
    spec = (KinesisIngressBuilder.for_identifier("t/x").with_aws_region(AwsRegion.of("us-east-1"))
            .with_aws_credentials(AwsCredentials.basic("x", "y")).with_stream("s").build())
    with pytest.raises(ConfigError) as raised:
        ReadFromKinesis(spec, **kwargs)
    assert raised.value.field == field
