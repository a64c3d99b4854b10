"""ReadFromKinesis with enhanced fan-out, driven by a FAKE Kinesis client that scripts event streams.

The emulator cannot produce some events (a shard's end with ``ChildShards``, a subscription ending after
its 5 minutes, errors in the middle of an event stream): these tests drive the reader's DoFn with a fake
client that scripts those event streams, stated on each test.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

beam = pytest.importorskip("apache_beam")

from botocore.exceptions import ClientError  # noqa: E402

from beam_transforms import efo  # noqa: E402
from beam_transforms.read import ReadFromKinesis  # noqa: E402
from beam_transforms.reader import ReadSettings, _ReadStreamFn  # noqa: E402
from beam_transforms.restriction import ShardCursor, ShardInfo, StreamShards  # noqa: E402
from beam_transforms.retry import RetryPolicy  # noqa: E402
from beam_transforms.shards import KinesisReadError  # noqa: E402
from pyflink_kinesis.spec.keys import declares_emulator  # noqa: E402
from pyflink_kinesis import (AwsCredentials, AwsRegion, ConfigError, KinesisIngressBuilder,  # noqa: E402
                             KinesisIngressStartupPosition)
from tests.beam_support import drive  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]


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


def test_the_emulator_parser_is_an_opt_in_never_a_loopback_guess() -> None:
    import boto3

    aws = boto3.client("kinesis", endpoint_url="http://127.0.0.1:4567", region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="y")
    assert efo.tolerate_missing_initial_response(aws)
    # the reader adapts a client only where the spec declares aws.emulator
    assert not declares_emulator({"aws.endpoint": "http://127.0.0.1:4567"})
    assert declares_emulator({"aws.endpoint": "http://kinesis.test:4567", "aws.emulator": "true"})


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
