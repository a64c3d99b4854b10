"""Issue 11, item 3: endpoint outages and frozen endpoints, on reads and writes.

A frozen endpoint (connections accepted, no answer: a stopped process or a network partition) is made by
the loopback proxy (pyflink_kinesis/testing/faultproxy.py) in front of kinesis-local; so are GetRecords 5xx answers, which no
emulator produces. The long outage test stops the emulator process itself (persisting to disk) and starts
it again on the same port.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, List, Tuple

import pytest

pytest.importorskip("apache_beam")

from beam_transforms.batching import KinesisBatchWriter, KinesisWriteError  # noqa: E402
from beam_transforms.reader import ReadSettings, _ReadStreamFn  # noqa: E402
from beam_transforms.retry import RetryPolicy  # noqa: E402
from beam_transforms.shards import KinesisReadError  # noqa: E402
from pyflink_kinesis import (AwsRegion, EgressRecord, KinesisEgressBuilder,  # noqa: E402
                             KinesisIngressBuilder, KinesisIngressStartupPosition)
from pyflink_kinesis.spec.boto import transform_client  # noqa: E402
from pyflink_kinesis.testing.faultproxy import FaultProxy  # noqa: E402
from pyflink_kinesis.testing import read_stream, wait_until  # noqa: E402
from tests.beam_support import drive, put, stream_element  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]

SHARD = "shardId-000000000000"


def _ingress(kinesis: Any, proxy: FaultProxy, stream: str, **properties: Any) -> Any:
    builder = (KinesisIngressBuilder.for_identifier("t/in")
               .with_aws_region(AwsRegion.of_custom_endpoint(proxy.endpoint, "us-east-1"))
               .with_aws_credentials(kinesis.credentials).with_stream(stream)
               .with_startup_position(KinesisIngressStartupPosition.from_earliest()))
    for key, value in properties.items():
        builder = builder.with_client_configuration_property(key, value)
    return builder.build()


def _warnings(caplog: Any, text: str) -> List[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


def test_a_frozen_endpoint_is_warned_about_at_the_first_stalled_read_and_fails_after_max_retry_time(
        kinesis: Any, client: Any, new_stream: Any, caplog: Any) -> None:
    stream = new_stream()
    put(client, stream, [("k", b"x")])
    element = stream_element(client, stream)
    with FaultProxy(kinesis.port, max_lifetime=120) as proxy:
        spec = _ingress(kinesis, proxy, stream, SocketTimeout=1000)  # a 1 s read timeout keeps the test short
        fn = _ReadStreamFn(spec, ReadSettings(stop_when_caught_up=True, max_retry_time=5.0))
        proxy.freeze()
        started = time.monotonic()
        with caplog.at_level(logging.INFO, logger="beam_transforms"), pytest.raises(KinesisReadError) as caught:
            drive(fn, element, fn.initial_restriction(element))
        elapsed = time.monotonic() - started
        fn.teardown()
        proxy.thaw()
    warned = _warnings(caplog, f"stream {stream} shard {SHARD}")
    assert len(warned) == 1 and "did not answer" in warned[0], warned  # once, at the first stalled call
    message = str(caught.value)
    assert f"stream {stream} shard {SHARD}" in message and "max_retry_time 5 s" in message
    assert "the endpoint did not answer" in message
    attempts = int(re.search(r"giving up after (\d+) attempts", message).group(1))
    calls = len(proxy.operations("GetShardIterator"))
    assert attempts >= 2 and calls == attempts  # retried, and botocore added no attempts of its own
    assert elapsed < 5.0 + 1.0 + 10.0  # max_retry_time, one read timeout, slack for a loaded machine


def test_botocore_never_retries_and_every_get_records_attempt_counts_against_5_per_second(
        kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream()
    put(client, stream, [("k", b"x")])
    element = stream_element(client, stream)
    with FaultProxy(kinesis.port, get_records_error500=1.0, max_lifetime=120) as proxy:
        fn = _ReadStreamFn(_ingress(kinesis, proxy, stream), ReadSettings(stop_when_caught_up=True,
                                                                           max_retry_time=3.0))
        with pytest.raises(KinesisReadError) as caught:
            drive(fn, element, fn.initial_restriction(element))
        fn.teardown()
        times = proxy.operations("GetRecords")
    attempts = int(re.search(r"giving up after (\d+) attempts", str(caught.value)).group(1))
    assert attempts >= 5 and len(times) == attempts  # one retry layer: ours
    gaps = [b - a for a, b in zip(times, times[1:])]
    # Retries included, at most 5 calls per second per shard: the reader spaces calls 0.2 s apart; the proxy
    # stamps them on arrival, which a loaded machine shifts by tens of ms (0.189 s seen). Unpaced calls come ms apart.
    assert min(gaps) >= 0.15, gaps


def test_a_frozen_endpoint_is_warned_about_at_the_first_stalled_write_and_fails_after_max_retry_time(
        kinesis: Any, new_stream: Any, caplog: Any) -> None:
    stream = new_stream()
    with FaultProxy(kinesis.port, max_lifetime=120) as proxy:
        spec = (KinesisEgressBuilder.for_identifier("t/out")
                .with_aws_region(AwsRegion.of_custom_endpoint(proxy.endpoint, "us-east-1"))
                .with_aws_credentials(kinesis.credentials).with_client_configuration_property("SocketTimeout", 1000)
                .build())
        writer = KinesisBatchWriter(transform_client(spec), retry_policy=RetryPolicy(max_elapsed=4.0))
        proxy.freeze()
        with caplog.at_level(logging.INFO, logger="beam_transforms"), pytest.raises(KinesisWriteError) as caught:
            for i in range(10):
                writer.put(EgressRecord(b"x", stream, f"k{i}"))
            writer.flush()
        writer.close(wait=False)
        proxy.thaw()
        calls = len(proxy.operations("PutRecords"))
    warned = _warnings(caplog, f"PutRecords stream {stream}")
    assert len(warned) == 1 and "did not answer" in warned[0], warned
    error = caught.value
    assert error.stream == stream and error.records == 10 and error.attempts == calls >= 2
    assert "retries exhausted" in str(error) and "ReadTimeoutError" in str(error)


# ------------------------------------------------------------------ a 60 s outage of the endpoint

RECORDS = 20_000
OUTAGE = 60.0
SLACK = 200  # room in the reader's max_records for records stored twice


def _pipelines(region: Any, credentials: Any, stream: str, key: str) -> Tuple[Any, Any, List[BaseException]]:
    """A WriteToKinesis of RECORDS records and a ReadFromKinesis into ``SINK[key]``, each on the DirectRunner in
    a thread, with default settings (no retry, timeout or attempt argument); and the list their errors go to."""
    import threading

    import apache_beam as beam

    from beam_transforms import ReadFromKinesis, WriteToKinesis
    from tests.beam_support import Collect

    egress = (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(region).with_aws_credentials(credentials)
              .with_serializer(lambda i: EgressRecord(b"%d" % i, stream, f"k{i}")).build())
    ingress = (KinesisIngressBuilder.for_identifier("t/in").with_aws_region(region).with_aws_credentials(credentials)
               .with_stream(stream).with_startup_position(KinesisIngressStartupPosition.from_earliest()).build())
    failures: List[BaseException] = []

    def run(build: Any) -> None:
        try:
            pipeline = beam.Pipeline(runner="DirectRunner")
            build(pipeline)
            pipeline.run().wait_until_finish()
        except BaseException as e:  # noqa: BLE001 - asserted by the test
            failures.append(e)

    writer = threading.Thread(target=run, daemon=True, args=(
        lambda p: p | beam.Create(list(range(RECORDS))) | WriteToKinesis(egress),))
    reader = threading.Thread(target=run, daemon=True, args=(
        lambda p: p | ReadFromKinesis(ingress, max_records=RECORDS + SLACK) | beam.ParDo(Collect(key)),))
    return writer, reader, failures


def _stop_endpoint(proxy: FaultProxy, emulator: Any, folder: Any) -> None:
    """The outage begins: the proxy closes every connection, then the emulator stops once its streams are on disk
    (kinesis-local writes them on a timer only: what it accepted since the last write is lost when it stops)."""
    proxy.down()
    wait_until(lambda: proxy.forwarding == 0, 120, "the calls forwarded before the proxy went down", interval=0.1)
    _wait_until_persisted(folder, after=time.time() + 0.5)
    emulator.stop(timeout=120)
    assert not emulator.healthy()


def _pad(client: Any, stream: str, padding: int) -> None:
    """Write ``padding`` records, so that the reader's max_records ends exactly at the last record."""
    for start in range(0, padding, 500):
        client.put_records(StreamName=stream, Records=[{"Data": b"pad", "PartitionKey": f"pad{i}"}
                                                       for i in range(start, min(padding, start + 500))])


@pytest.mark.slow
def test_20000_records_written_and_read_across_a_60_s_outage_with_default_settings(tmp_path: Any) -> None:
    from pyflink_kinesis.tools.local import LocalKinesis, create_stream
    from tests.beam_support import SINK

    # The clients reach the emulator through a loopback proxy that goes down first; both come back after the
    # outage, the emulator on the same port with its streams (persisted).
    persist = dict(persist_path=str(tmp_path / "kinesis"), persist_interval="5s", startup_timeout=300)
    emulator = LocalKinesis(**persist).start()
    proxy = FaultProxy(emulator.port, max_lifetime=1200).start()
    try:
        stream, key = "outage", f"outage-{time.time()}"
        create_stream(emulator.client(), stream, shards=16)  # kinesis-local writes faster to many small shards
        SINK[key] = []
        region = AwsRegion.of_custom_endpoint(proxy.endpoint, "us-east-1")
        writer, reader, failures = _pipelines(region, emulator.credentials, stream, key)
        started = time.monotonic()
        writer.start()
        reader.start()
        # The outage begins once a quarter of the writer's PutRecords calls (500 records each) went through and
        # the reader has records: both are then mid-way, whichever of them the machine's load lets run faster.
        wait_until(lambda: failures or (proxy.put_records_calls >= RECORDS // 500 // 4 and SINK[key]), 300,
                   "a quarter of the writes and the first records read", interval=0.1)
        assert not failures, failures
        stopped_at, read_before = time.monotonic(), len(SINK[key])
        _stop_endpoint(proxy, emulator, tmp_path / "kinesis")
        while time.monotonic() - stopped_at < OUTAGE:  # the outage itself
            time.sleep(1)
        assert writer.is_alive() and reader.is_alive() and not failures, failures  # both waited it out
        emulator = LocalKinesis(port=emulator.port, tls_port=emulator.tls_port, **persist).start()
        proxy.up()
        outage = time.monotonic() - stopped_at
        writer.join(timeout=300)
        assert not writer.is_alive() and not failures, failures

        stored = read_stream(emulator.client(), stream)
        datas = [r["Data"] for r in stored]
        duplicates = len(datas) - len(set(datas))
        assert set(datas) == {b"%d" % i for i in range(RECORDS)}  # the write lost nothing
        assert duplicates <= SLACK
        _pad(emulator.client(), stream, SLACK - duplicates)
        reader.join(timeout=300)
        assert not reader.is_alive() and not failures, failures
        read = SINK.pop(key)
        positions = [(r.shard_id, r.sequence_number) for r in read]
        print(f"\noutage test: {RECORDS} records written by WriteToKinesis and read by ReadFromKinesis, defaults; "
              f"endpoint stopped for {outage:.0f} s after {read_before} records were read; "
              f"{len(datas)} stored ({duplicates} stored twice: PutRecords calls in flight when the endpoint "
              f"stopped, which Kinesis had taken but whose answer never came, were retried - at least once); "
              f"{len(read)} read ({len(read) - len(set(positions))} read twice); {time.monotonic() - started:.0f} s")
        assert len(positions) == len(set(positions)) == RECORDS + SLACK  # the read lost and repeated nothing
        assert {(r["ShardId"], r["SequenceNumber"]) for r in stored} <= set(positions)
        assert {r.data for r in read} - {b"pad"} == {b"%d" % i for i in range(RECORDS)}
    finally:
        proxy.stop()
        emulator.stop()


def _wait_until_persisted(folder: Any, after: float) -> None:
    """Wait until the emulator wrote its streams to ``folder`` after ``after`` (epoch seconds), and finished."""
    deadline = time.monotonic() + 120
    sizes: List[int] = []
    while time.monotonic() < deadline:
        files = list(folder.glob("*.json"))
        if files and min(f.stat().st_mtime for f in files) > after:
            sizes.append(sum(f.stat().st_size for f in files))
            if len(sizes) >= 3 and sizes[-1] == sizes[-3] > 0:  # unchanged for a second
                return
        time.sleep(0.5)
    raise AssertionError(f"the emulator did not write its streams to {folder} within 120 s")
