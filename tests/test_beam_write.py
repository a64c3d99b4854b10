"""WriteToKinesis on the DirectRunner against the local Kinesis, plus unit checks of the batching writer.

Faults: no emulator throttles, partially fails PutRecords or drops connections, so the end-to-end fault
tests put ``pyflink_kinesis/testing/faultproxy.py`` (a loopback proxy that rewrites or drops real calls to the emulator)
between boto3 and the emulator: that exercises the real botocore parsing and error classes over HTTP.
Unit-level checks of the writer are in test_beam_write_units.py.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any, Dict, Optional

import pytest

beam = pytest.importorskip("apache_beam")

from beam_transforms.write import WriteToKinesis  # noqa: E402
from pyflink_kinesis.testing import read_stream  # noqa: E402
from pyflink_kinesis.testing.faultproxy import FaultProxy  # noqa: E402
from tests.beam_support import SINK, collect, counter, distribution_max, egress_spec, run  # noqa: E402
from pyflink_kinesis import AwsCredentials, AwsRegion, EgressRecord  # noqa: E402
from pyflink_kinesis.spec.records import MAX_RECORD_BYTES  # noqa: E402

pytestmark = pytest.mark.beam

def via(proxy: FaultProxy) -> AwsRegion:
    return AwsRegion.of_custom_endpoint(proxy.endpoint, "us-east-1")


def shard_ranges(client: Any, stream: str) -> Dict[str, range]:
    return {
        s["ShardId"]: range(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]) + 1)
        for s in client.list_shards(StreamName=stream)["Shards"]
    }


# --- end to end on the local Kinesis --------------------------------------------------------------


@pytest.mark.integration
def test_binary_payloads_partition_and_hash_keys_arrive_byte_for_byte(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=4)
    rng = random.Random(7)
    records = []
    for i in range(600):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000)))
        if i % 10 == 0:
            data = b"\xff\xfe\x80\xc3(" + data  # never valid UTF-8
        key = f"key-{rng.randrange(300)}" if i % 7 else f"ключ-{i}-ü"  # some non-ASCII keys
        ehk = str(rng.getrandbits(128)) if i % 5 == 0 else None
        records.append(EgressRecord(data, stream, key, ehk))
    assert any(not _utf8(r.data) for r in records)
    spec = egress_spec(kinesis.region, kinesis.credentials, None)  # values already are EgressRecords
    tokens = {}

    def build(p: Any) -> None:
        out = p | beam.Create(records) | WriteToKinesis(spec, max_concurrent_requests=4, max_batch_records=100)
        tokens["written"] = collect(out.written, "written")
        tokens["failed"] = collect(out.failed, "failed")

    run(build)
    got = read_stream(client, stream)
    assert Counter((r["Data"], r["PartitionKey"]) for r in got) == Counter((r.data, r.partition_key) for r in records)
    # Explicit hash keys were sent: each such record sits in the shard whose hash range holds its key.
    ranges = shard_ranges(client, stream)
    by_data = {r["Data"]: r for r in got}
    for r in records:
        if r.explicit_hash_key is not None:
            assert int(r.explicit_hash_key) in ranges[by_data[r.data]["ShardId"]], r.explicit_hash_key
    # One write result per record, naming exactly the shard and sequence number Kinesis stored it under.
    results = SINK[tokens["written"]]
    assert len(results) == len(records) and not SINK[tokens["failed"]]
    assert {(w.stream, w.shard_id, w.sequence_number, w.partition_key) for w in results} == {
        (stream, r["ShardId"], r["SequenceNumber"], r["PartitionKey"]) for r in got
    }


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


@pytest.mark.integration
def test_one_egress_writes_to_two_streams_chosen_per_record(kinesis: Any, client: Any, new_stream: Any) -> None:
    a, b = new_stream(shards=1), new_stream(shards=2)
    spec = egress_spec(kinesis.region, kinesis.credentials,
                  lambda i: EgressRecord(f"v{i}".encode(), a if i % 3 == 0 else b, f"k{i % 11}"))
    run(lambda p: p | beam.Create(range(300)) | WriteToKinesis(spec))
    assert sorted(r["Data"] for r in read_stream(client, a)) == sorted(f"v{i}".encode() for i in range(0, 300, 3))
    assert sorted(r["Data"] for r in read_stream(client, b)) == sorted(
        f"v{i}".encode() for i in range(300) if i % 3
    )


@pytest.mark.integration
def test_10000_records_through_partial_failures_throttling_and_dropped_connections(
    kinesis: Any, client: Any, new_stream: Any
) -> None:
    """All 10,000 arrive; a record appears more than once only when a call carrying it was written by
    the emulator and its connection then dropped (the client cannot tell, so it retries the whole call):
    exactly ``1 + dropped_after[record]`` copies of every record."""
    stream = new_stream(shards=4)
    n = 10_000

    def serialize(i: int) -> EgressRecord:
        return EgressRecord(b"%05d|" % i + random.Random(i).randbytes(i % 200), stream, f"pk-{i % 1000}")

    with FaultProxy(kinesis.port, seed=11, partial=0.15, partial_entries=0.3, throttle=0.06, limit=0.03,
                    error500=0.03, drop_before=0.03, drop_after=0.03, max_lifetime=240) as proxy:
        spec = egress_spec(via(proxy), kinesis.credentials, serialize, max_outstanding=2000)
        tokens = {}

        def build(p: Any) -> None:
            out = p | beam.Create(range(n)) | WriteToKinesis(
                spec, max_concurrent_requests=8, max_batch_records=100, max_attempts=30,
                initial_backoff=0.02, max_backoff=0.2, max_retry_time=120)
            tokens["written"] = collect(out.written, "written")

        result = run(build)
    # Every kind of fault happened, so each retry path was taken.
    assert all(proxy.faults[kind] > 0 for kind in ("partial", "throttle", "limit", "error500", "drop_before",
                                                    "drop_after")), proxy.faults
    assert proxy.failed_entries > 0
    assert counter(result, "retried_records") == proxy.failed_entries  # only failed entries were resent
    assert counter(result, "retried_calls") == sum(proxy.faults[k] for k in ("throttle", "limit", "error500",
                                                                             "drop_before", "drop_after"))
    assert counter(result, "written_records") == n and counter(result, "failed_records") == 0
    assert len(SINK[tokens["written"]]) == n
    got = Counter(r["Data"] for r in read_stream(client, stream))
    expected = Counter({serialize(i).data: 1 for i in range(n)})
    for data, extra in proxy.dropped_after.items():
        expected[data] += extra
    assert got == expected
    duplicates = sum(got.values()) - n
    assert duplicates == sum(proxy.dropped_after.values())


@pytest.mark.integration
def test_max_outstanding_records_bounds_buffered_and_in_flight_records(
    kinesis: Any, client: Any, new_stream: Any
) -> None:
    stream = new_stream(shards=2)
    limit = 120
    with FaultProxy(kinesis.port, delay=0.05, max_lifetime=120) as proxy:  # a slow endpoint
        spec = egress_spec(via(proxy), kinesis.credentials, lambda i: EgressRecord(b"x%d" % i, stream, str(i)), limit)
        result = run(lambda p: p | beam.Create(range(1000)) | WriteToKinesis(spec, max_concurrent_requests=8))
    high_water = distribution_max(result, "outstanding_records_high_water")
    assert high_water == limit  # the bound was reached (so it was tested) and never exceeded
    assert 0 < proxy.max_inflight_entries <= limit  # seen from outside: never more than the limit on the wire
    assert len(read_stream(client, stream)) == 1000


@pytest.mark.integration
def test_record_over_1mib_fails_with_an_error_naming_it(kinesis: Any, new_stream: Any) -> None:
    stream = new_stream()
    big = EgressRecord(b"\0" * (MAX_RECORD_BYTES - 3), stream, "big-key")  # 1 MiB + 4 with the key
    spec = egress_spec(kinesis.region, kinesis.credentials, None)
    with pytest.raises(Exception) as caught:
        run(lambda p: p | beam.Create([EgressRecord(b"ok", stream, "k"), big]) | WriteToKinesis(spec))
    message = str(caught.value)
    assert f"stream '{stream}'" in message and "partition key 'big-key'" in message
    assert f"{MAX_RECORD_BYTES + 4} bytes" in message and f"limit of {MAX_RECORD_BYTES} bytes" in message


@pytest.mark.integration
def test_record_over_1mib_goes_to_the_dead_letter_output_and_the_others_are_written(
    kinesis: Any, client: Any, new_stream: Any
) -> None:
    stream = new_stream()
    big = EgressRecord(b"\1" * MAX_RECORD_BYTES, stream, "big")  # data alone at the limit: over it with the key
    fits = EgressRecord(b"\2" * (MAX_RECORD_BYTES - 200_000), stream, "fits")
    small = [EgressRecord(b"s%d" % i, stream, f"k{i}") for i in range(20)]
    spec = egress_spec(kinesis.region, kinesis.credentials, None)
    tokens = {}

    def build(p: Any) -> None:
        out = p | beam.Create(small[:10] + [big, fits] + small[10:]) | WriteToKinesis(spec, dead_letter=True)
        tokens["failed"] = collect(out.dead_letter, "failed")
        tokens["written"] = collect(out.written, "written")

    result = run(build)
    failed = SINK[tokens["failed"]]
    assert len(failed) == 1 and failed[0].record == big and failed[0].error_code == "RecordTooLarge"
    assert "partition key 'big'" in failed[0].error_message and failed[0].attempts == 0
    assert counter(result, "too_large_records") == 1
    assert len(SINK[tokens["written"]]) == 21
    assert sorted(r["Data"] for r in read_stream(client, stream)) == sorted(r.data for r in small + [fits])


@pytest.mark.integration
def test_records_still_failing_after_the_retries_go_to_the_dead_letter_output(
    kinesis: Any, client: Any, new_stream: Any
) -> None:
    stream = new_stream()
    with FaultProxy(kinesis.port, throttle=1.0, max_lifetime=60) as proxy:
        spec = egress_spec(via(proxy), kinesis.credentials, lambda i: EgressRecord(b"%d" % i, stream, "k"))
        tokens = {}

        def build(p: Any) -> None:
            out = p | beam.Create(range(30)) | WriteToKinesis(
                spec, dead_letter=True, max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
            tokens["failed"] = collect(out.failed, "failed")

        result = run(build)
    failed = SINK[tokens["failed"]]
    assert sorted(f.record.data for f in failed) == sorted(b"%d" % i for i in range(30))
    assert {(f.error_code, f.attempts) for f in failed} == {("ProvisionedThroughputExceededException", 3)}
    assert counter(result, "failed_records") == 30 and proxy.put_records_calls == 3
    assert read_stream(client, stream) == []


@pytest.mark.integration
def test_exhausted_retries_fail_loudly_naming_the_stream_and_error(kinesis: Any, new_stream: Any) -> None:
    stream = new_stream()
    with FaultProxy(kinesis.port, limit=1.0, max_lifetime=60) as proxy:
        spec = egress_spec(via(proxy), kinesis.credentials, lambda i: EgressRecord(b"%d" % i, stream, "k"))
        started = time.monotonic()
        with pytest.raises(Exception) as caught:
            run(lambda p: p | beam.Create(range(5)) | WriteToKinesis(
                spec, max_attempts=100, initial_backoff=0.05, max_backoff=0.1, max_retry_time=1.0))
        elapsed = time.monotonic() - started
    message = str(caught.value)
    assert f"stream '{stream}'" in message and "LimitExceededException" in message, message
    assert "retries exhausted" in message
    assert proxy.put_records_calls < 100 and elapsed < 30  # the time budget, not max_attempts, ended it


@pytest.mark.integration
def test_a_missing_stream_fails_at_once_naming_it(kinesis: Any) -> None:
    spec = egress_spec(kinesis.region, kinesis.credentials, lambda i: EgressRecord(b"x", "no-such-stream-xyz", "k"))
    with pytest.raises(Exception) as caught:
        run(lambda p: p | beam.Create(range(3)) | WriteToKinesis(spec, initial_backoff=5.0))
    message = str(caught.value)
    assert "stream 'no-such-stream-xyz'" in message and "ResourceNotFoundException" in message
    assert "after 1 attempt(s)" in message and "not retryable" in message


@pytest.mark.integration
def test_serializer_none_skips_and_counts_the_value(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream()

    def serialize(i: int) -> Optional[EgressRecord]:
        return None if i % 3 == 0 else EgressRecord(b"%d" % i, stream, "k")

    spec = egress_spec(kinesis.region, kinesis.credentials, serialize)
    result = run(lambda p: p | beam.Create(range(90)) | WriteToKinesis(spec))
    assert counter(result, "skipped_records") == 30
    assert counter(result, "written_records") == 60
    assert sorted(r["Data"] for r in read_stream(client, stream)) == sorted(b"%d" % i for i in range(90) if i % 3)


class Order:
    def __repr__(self) -> str:
        return "Order(7)"


def test_serializer_that_raises_fails_naming_the_value_index_and_type() -> None:
    def serialize(value: Any) -> EgressRecord:
        if isinstance(value, Order):
            raise KeyError("customer")
        return EgressRecord(b"x", "s", "k")

    spec = egress_spec(AwsRegion.of_custom_endpoint("http://127.0.0.1:9", "us-east-1"),
                  AwsCredentials.basic("x", "x"), serialize)
    with pytest.raises(Exception) as caught:
        run(lambda p: p | beam.Create([1, Order(), 3]) | WriteToKinesis(spec))
    message = str(caught.value)
    assert "serializer failed on value #1 of the bundle" in message, message
    assert "Order(7)" in message and "KeyError" in message and "customer" in message
