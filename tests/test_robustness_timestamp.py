"""Issue 11, item 4: a read AT_TIMESTAMP never emits a record that arrived before the timestamp.

kinesis-local 0.6.2 refuses a future timestamp with its own words ("Timestamp cannot be in the future"); the
service and kinesalite answer "The timestampInMillis parameter cannot be greater than the
currentTimestampInMillis ..." (issue 18, item 5: injected here through the loopback fault proxy). The reader
knows the refusal by its code and the AT_TIMESTAMP request, and starts at LATEST, where records that arrived
before the timestamp follow. (Other emulators accept it and return older records; the same check covers both.)
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any, List

import pytest

pytest.importorskip("apache_beam")

import apache_beam as beam  # noqa: E402

from beam_transforms.read import ReadFromKinesis  # noqa: E402
from beam_transforms.reader import ReadSettings, _ReadStreamFn  # noqa: E402
from pyflink_kinesis import AwsRegion, KinesisIngressBuilder, KinesisIngressSpec, KinesisIngressStartupPosition  # noqa: E402
from tests.beam_support import SINK, Collect, spec_for  # noqa: E402
from pyflink_kinesis.testing.faultproxy import FaultProxy  # noqa: E402
from tests.beam_support import drive, put, stream_element  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]

AHEAD = 4.0  # seconds between starting the read and its timestamp


class _Observed:
    """The real emulator client; notes GetShardIterator refusals and its first iterator (observation only)."""

    def __init__(self, real: Any, answered: threading.Event, refused: List[str]) -> None:
        self._real, self._answered, self._refused = real, answered, refused

    def get_shard_iterator(self, **kwargs: Any) -> Any:
        try:
            answer = self._real.get_shard_iterator(**kwargs)
        except Exception as e:
            self._refused.append(str(e))
            raise
        self._answered.set()
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _split(client: Any, stream: str) -> None:
    """Split the stream's one shard in two and wait (bounded) until the stream is ACTIVE again."""
    shard = client.list_shards(StreamName=stream)["Shards"][0]
    middle = int(shard["HashKeyRange"]["EndingHashKey"]) // 2
    client.split_shard(StreamName=stream, ShardToSplit=shard["ShardId"], NewStartingHashKey=str(middle))
    deadline = time.monotonic() + 30
    while client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "the split did not finish in 30 s"
        time.sleep(0.05)


@pytest.mark.parametrize("split_before_the_date", [False, True], ids=["one-shard", "children-of-a-split"])
def test_a_future_startup_date_emits_only_records_that_arrived_after_it(
        kinesis: Any, client: Any, new_stream: Any, monkeypatch: pytest.MonkeyPatch, split_before_the_date: bool) -> None:
    """Children of a split start at TRIM_HORIZON: the date still bounds what they emit."""
    answered, refused = threading.Event(), []
    real = KinesisIngressSpec.create_client
    monkeypatch.setattr(KinesisIngressSpec, "create_client",
                        lambda self, session=None: _Observed(real(self, session), answered, refused))
    stream = new_stream(shards=1)
    put(client, stream, [(f"old-{i}", b"old") for i in range(6)])
    startup = time.time() + AHEAD
    spec = spec_for(kinesis, stream, KinesisIngressStartupPosition.from_date(
        datetime.fromtimestamp(startup, timezone.utc)))
    fn = _ReadStreamFn(spec, ReadSettings(max_records=6, max_read_time=90, poll_interval=0.1))
    element = stream_element(client, stream)
    outputs: List[Any] = []
    failures: List[BaseException] = []

    def read() -> None:  # process() calls as a runner makes them: each resumes the last one's residual
        try:
            restriction, deadline = fn.initial_restriction(element), time.monotonic() + 90
            while restriction is not None and time.monotonic() < deadline:
                out, _, deferred = drive(fn, element, restriction)
                outputs.extend(out)
                restriction = deferred[0] if deferred else None
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()  # its first GetShardIterator names a timestamp still in the future
    assert answered.wait(30) and any("in the future" in r for r in refused), refused  # refused, then LATEST
    if split_before_the_date:
        _split(client, stream)
    put(client, stream, [(f"early-{i}", b"early") for i in range(6)])  # after the read began, before the date
    while time.time() <= startup:  # bounded: AHEAD seconds
        time.sleep(0.05)
    put(client, stream, [(f"new-{i}", b"new") for i in range(6)])
    reader.join(timeout=120)
    assert not reader.is_alive() and not failures, failures
    assert sorted(r.partition_key for r in outputs) == sorted(f"new-{i}" for i in range(6))
    assert all(r.approximate_arrival_timestamp.timestamp() >= startup for r in outputs)


SERVICE_AHEAD = 15.0  # seconds: room for a DirectRunner pipeline to start and be refused on a loaded machine


def _wait(condition: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f} s"
        time.sleep(0.05)


def test_a_future_startup_date_refused_in_the_services_words_reads_on_from_latest(
        kinesis: Any, client: Any, new_stream: Any) -> None:
    """Issue 18 item 5: the FAULT is injected by the loopback proxy, which answers every GetShardIterator asking
    AT_TIMESTAMP past its clock with HTTP 400 InvalidArgumentException in the service's words (kinesis-local's
    own refusal says "future"; the service's does not). A ReadFromKinesis pipeline reads on: no failure, and
    no record that arrived before the date."""
    stream = new_stream(shards=1)
    put(client, stream, [(f"old-{i}", b"old") for i in range(6)])
    startup = time.time() + SERVICE_AHEAD
    key = f"service-wording-{time.time()}"
    SINK[key] = []
    failures: List[BaseException] = []
    with FaultProxy(kinesis.port, future_timestamps=True, max_lifetime=240) as proxy:
        spec = (KinesisIngressBuilder.for_identifier("t/in")
                .with_aws_region(AwsRegion.of_custom_endpoint(proxy.endpoint, "us-east-1"))
                .with_aws_credentials(kinesis.credentials).with_stream(stream)
                .with_startup_position(KinesisIngressStartupPosition.from_date(
                    datetime.fromtimestamp(startup, timezone.utc))).build())

        def run() -> None:
            try:
                pipeline = beam.Pipeline(runner="DirectRunner")
                _ = (pipeline | ReadFromKinesis(spec, max_records=6, max_read_time=180, poll_interval=0.1)
                     | beam.ParDo(Collect(key)))
                pipeline.run().wait_until_finish()
            except BaseException as e:  # noqa: BLE001 - asserted below
                failures.append(e)

        reader = threading.Thread(target=run, daemon=True)
        reader.start()
        # Refused in the service's words, then reading from LATEST (its GetRecords calls pass the proxy).
        _wait(lambda: proxy.refused_timestamps >= 1 and proxy.operations("GetRecords") or failures,
              "a refused AT_TIMESTAMP iterator, then GetRecords", SERVICE_AHEAD)
        assert not failures and time.time() < startup, failures
        put(client, stream, [(f"early-{i}", b"early") for i in range(6)])  # after the read began, before the date
        _wait(lambda: time.time() > startup, "the startup date", SERVICE_AHEAD + 5)
        put(client, stream, [(f"new-{i}", b"new") for i in range(6)])
        reader.join(timeout=180)
    outputs = SINK.pop(key)
    assert not reader.is_alive() and not failures, failures
    assert proxy.refused_timestamps >= 1
    assert sorted(r.partition_key for r in outputs) == sorted(f"new-{i}" for i in range(6))
    assert all(r.approximate_arrival_timestamp.timestamp() >= startup for r in outputs)
