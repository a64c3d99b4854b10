"""The batching writer of WriteToKinesis at unit level: retry rules with botocore's Stubber (exact request
contents, no network), batching and backpressure with a tiny fake client whose calls the test holds and inspects."""


from __future__ import annotations

import random
import threading
import time
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest

beam = pytest.importorskip("apache_beam")

from beam_transforms.batching import (  # noqa: E402
    MAX_BATCH_BYTES,
    KinesisBatchWriter,
    KinesisWriteError,
    RecordTooLargeError,
)
from beam_transforms.retry import RetryPolicy  # noqa: E402
from beam_transforms.write import WriteToKinesis  # noqa: E402
from pyflink_kinesis.spec.boto import transform_client  # noqa: E402
from tests.beam_support import egress_spec  # noqa: E402
from pyflink_kinesis import AwsCredentials, AwsRegion, ConfigError, EgressRecord  # noqa: E402
from pyflink_kinesis.spec.records import MAX_RECORD_BYTES  # noqa: E402

pytestmark = pytest.mark.beam


def stubbed_client() -> Any:
    spec = egress_spec(AwsRegion.of("us-east-1"), AwsCredentials.basic("x", "x"), None)
    return transform_client(spec, 1)


def test_only_the_failed_entries_of_a_partial_failure_are_retried() -> None:
    from botocore.stub import Stubber

    client = stubbed_client()
    records = [EgressRecord(b"r%d" % i, "s", f"k{i}") for i in range(5)]
    entries = [{"Data": r.data, "PartitionKey": r.partition_key} for r in records]
    ok = lambda n: {"ShardId": "shardId-000000000000", "SequenceNumber": str(n)}  # noqa: E731
    with Stubber(client) as stub:
        stub.add_response("put_records", {"FailedRecordCount": 2, "Records": [
            ok(1), {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"},
            ok(2), {"ErrorCode": "InternalFailure", "ErrorMessage": "oops"}, ok(3)]},
            {"StreamName": "s", "Records": entries})
        stub.add_response("put_records", {"FailedRecordCount": 1, "Records": [
            ok(4), {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}]},
            {"StreamName": "s", "Records": [entries[1], entries[3]]})
        stub.add_client_error("put_records", "ProvisionedThroughputExceededException", "whole call", 400,
                              expected_params={"StreamName": "s", "Records": [entries[3]]})
        stub.add_response("put_records", {"Records": [ok(5)]},
                          {"StreamName": "s", "Records": [entries[3]]})
        writer = KinesisBatchWriter(client, max_concurrent_requests=1, sleep=lambda s: None)
        for r in records:
            writer.put(r)
        writer.flush()
        stub.assert_no_pending_responses()
    written, failed = writer.drain()
    assert not failed
    assert sorted((w.partition_key, w.sequence_number, w.attempts) for w, _ in written) == [
        ("k0", "1", 1), ("k1", "4", 2), ("k2", "2", 1), ("k3", "5", 4), ("k4", "3", 1)]
    assert writer.stats.entry_retries == 3 and writer.stats.call_retries == 1
    writer.close()


def test_non_retryable_entry_errors_are_not_retried() -> None:
    from botocore.stub import Stubber

    client = stubbed_client()
    with Stubber(client) as stub:
        stub.add_response("put_records", {"FailedRecordCount": 1, "Records": [
            {"ErrorCode": "KMSAccessDeniedException", "ErrorMessage": "no key for you"}]})
        writer = KinesisBatchWriter(client, max_concurrent_requests=1, sleep=lambda s: None)
        writer.put(EgressRecord(b"x", "secret-stream", "k"))
        with pytest.raises(KinesisWriteError, match="stream 'secret-stream'.*not retryable.*KMSAccessDeniedException"):
            writer.flush()
    writer.close()


def test_retry_policy_bounds_attempts_and_total_time() -> None:
    policy = RetryPolicy(max_attempts=4, initial_backoff=1.0, max_backoff=3.0, max_elapsed=10.0)
    rng = random.Random(1)
    for attempt in range(1, 4):
        for _ in range(50):
            assert 0 <= policy.backoff(attempt, rng) <= min(3.0, 2 ** (attempt - 1))
    assert policy.next_delay(4, 0.0, rng) is None  # out of attempts
    assert policy.next_delay(3, 0.0, rng) is not None
    assert policy.next_delay(1, 10.5, rng) is None  # out of time
    assert all(policy.next_delay(1, 9.0, rng) is not None for _ in range(20))  # a sleep of <= 1 s still fits


class FakeClient:
    """Answers PutRecords with success, optionally only after ``gate`` is set; records each call's entries."""

    def __init__(self, gate: Optional[threading.Event] = None) -> None:
        self.gate = gate
        self.calls: List[List[Dict[str, Any]]] = []
        self.streams: List[str] = []
        self._lock = threading.Lock()

    def put_records(self, StreamName: str, Records: List[Dict[str, Any]]) -> Dict[str, Any]:
        with self._lock:
            self.calls.append(list(Records))
            self.streams.append(StreamName)
        if self.gate is not None:
            assert self.gate.wait(30)
        return {"FailedRecordCount": 0,
                "Records": [{"ShardId": "shardId-000000000000", "SequenceNumber": "1"} for _ in Records]}


def test_put_blocks_at_the_limit_until_a_call_completes() -> None:
    gate = threading.Event()
    client = FakeClient(gate=gate)
    writer = KinesisBatchWriter(client, max_outstanding_records=7, max_concurrent_requests=4, max_batch_records=3)
    done: List[int] = []

    def produce() -> None:
        for i in range(20):
            writer.put(EgressRecord(b"%d" % i, "s", "k"))
            done.append(i)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    time.sleep(0.5)
    assert len(done) == 7 and writer.outstanding == 7  # blocked at the limit, nothing lost in between
    assert sum(len(b) for b in client.calls) <= 7
    gate.set()
    producer.join(10)
    writer.flush()
    assert not producer.is_alive() and len(done) == 20
    assert writer.stats.high_water == 7 and writer.stats.records_written == 20
    writer.close()


def test_batches_hold_at_most_500_records_and_5_mib_and_one_stream() -> None:
    client = FakeClient()
    writer = KinesisBatchWriter(client, max_outstanding_records=5000, max_concurrent_requests=2)
    for i in range(1203):
        writer.put(EgressRecord(b"x", "small-a" if i % 2 else "small-b", "k"))
    big = b"y" * (900 * 1024)
    for i in range(13):
        writer.put(EgressRecord(big, "big", "key"))
    writer.put(EgressRecord(b"z" * (MAX_RECORD_BYTES - 3), "big", "key"))  # exactly at the limit: allowed
    writer.flush()
    assert writer.stats.records_written == 1203 + 14
    sizes = {s: [] for s in ("small-a", "small-b", "big")}
    for stream, call in zip(client.streams, client.calls):
        sizes[stream].append((len(call), sum(len(e["Data"]) + len(e["PartitionKey"]) for e in call)))
    assert sorted(n for n, _ in sizes["small-a"]) == [101, 500] and sorted(n for n, _ in sizes["small-b"]) == [102, 500]
    assert all(b <= MAX_BATCH_BYTES for _, b in sizes["big"])
    # 5 x 900 KiB fit in 5 MiB, a 6th would not; two calls in flight may reach the client in either order
    assert sorted(n for n, _ in sizes["big"]) == [4, 5, 5]
    with pytest.raises(RecordTooLargeError, match="stream 'big' with partition key 'key' is 1048577 bytes"):
        writer.put(EgressRecord(b"z" * (MAX_RECORD_BYTES - 2), "big", "key"))
    writer.close()


def test_client_retries_are_left_to_the_writer_and_the_pool_fits_the_threads() -> None:
    spec = egress_spec(AwsRegion.of("us-east-1"), AwsCredentials.basic("x", "x"), None)
    config = transform_client(spec, 16).meta.config
    assert config.retries["total_max_attempts"] == 1 and config.max_pool_connections == 16


def test_egress_id_is_looked_up_in_the_module() -> None:
    spec = egress_spec(AwsRegion.of("us-east-1"), AwsCredentials.basic("x", "x"), None)
    module = SimpleNamespace(egresses={"t/out": spec})
    assert WriteToKinesis("t/out", module).spec is spec
    with pytest.raises(ConfigError, match="no egress 't/ouz'.*did you mean 't/out'"):
        WriteToKinesis("t/ouz", module)
    with pytest.raises(ConfigError, match="needs module="):
        WriteToKinesis("t/out")
