"""The shard-limits proxy (pyflink_kinesis.testing.shardlimits) against the local Kinesis, through boto3.

Windows are decided on the proxy's clock: most tests pass a fake clock that only moves when the test moves
it, so "the same second" is exact, not a hope about timing; one test runs on the real clock and checks every
one-second window of the proxy's own log.
"""

from __future__ import annotations

import json
from typing import Any, List

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from pyflink_kinesis.spec.shard_limits import SlidingWindow, hash_key_of
from pyflink_kinesis.testing.shardlimits import THROTTLED, ShardLimitsProxy, decoded_size

pytestmark = pytest.mark.integration


class FakeClock:
    """A clock that stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def proxied(kinesis: Any, proxy: ShardLimitsProxy) -> Any:
    """A boto3 client for the proxy: one attempt per call, so every throttle is seen."""
    return boto3.client("kinesis", endpoint_url=proxy.endpoint, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local",
                        config=Config(retries={"total_max_attempts": 1}))


def key_for_shard(client: Any, stream: str, shard_index: int, salt: str = "k") -> str:
    """A partition key whose hash falls in the stream's ``shard_index``-th shard."""
    shard = client.list_shards(StreamName=stream)["Shards"][shard_index]
    low, high = int(shard["HashKeyRange"]["StartingHashKey"]), int(shard["HashKeyRange"]["EndingHashKey"])
    return next(f"{salt}{i}" for i in range(10_000) if low <= hash_key_of(f"{salt}{i}") <= high)


def put_burst(client: Any, stream: str, key: str, n: int, size: int = 10) -> List[dict]:
    entries: List[dict] = []
    for start in range(0, n, 500):
        batch = [{"PartitionKey": key, "Data": b"%09d" % i + b"x" * (size - 9)} for i in range(start, min(n, start + 500))]
        answer = client.put_records(StreamName=stream, Records=batch)
        assert answer["FailedRecordCount"] == sum(1 for e in answer["Records"] if "ErrorCode" in e)
        entries.extend(answer["Records"])
    return entries


def test_a_burst_of_2000_records_to_one_shard_takes_1000_in_the_second(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    clock = FakeClock()
    with ShardLimitsProxy(kinesis.port, clock=clock) as proxy:
        c = proxied(kinesis, proxy)
        answered = put_burst(c, stream, "k", 2000)
        ok = [e for e in answered if "ErrorCode" not in e]
        throttled = [e for e in answered if "ErrorCode" in e]
        assert len(ok) == 1000 and len(throttled) == 1000
        assert answered[:1000] == ok  # in order: the first thousand went through
        assert {e["ErrorCode"] for e in throttled} == {THROTTLED}
        assert throttled[0]["ErrorMessage"] == (f"Rate exceeded for shard shardId-000000000000 in stream {stream} "
                                                "under account 000000000000.")
        clock.now += 0.999  # still inside the window of the first thousand
        assert "ErrorCode" in c.put_records(StreamName=stream, Records=[{"PartitionKey": "k", "Data": b"y"}])["Records"][0]
        clock.now += 0.001  # a second later the window is free again
        again = put_burst(c, stream, "k", 1000)
        assert all("ErrorCode" not in e for e in again)
    stored = client.get_records(ShardIterator=client.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"]
    assert len(stored) == 2000  # the throttled entries were never forwarded
    assert [r["SequenceNumber"] for r in stored[:1000]] == [e["SequenceNumber"] for e in ok]


def test_bytes_per_second_and_put_record_over_the_limit(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    clock = FakeClock()
    with ShardLimitsProxy(kinesis.port, clock=clock) as proxy:
        c = proxied(kinesis, proxy)
        big = 300 * 1024
        answered = c.put_records(StreamName=stream, Records=[{"PartitionKey": "k", "Data": b"x" * big}] * 4)
        assert [("ErrorCode" in e) for e in answered["Records"]] == [False, False, False, True]  # 4 x 300 KiB > 1 MiB
        assert answered["FailedRecordCount"] == 1
        with pytest.raises(ClientError) as caught:
            c.put_record(StreamName=stream, PartitionKey="k", Data=b"x" * big)
        assert caught.value.response["Error"]["Code"] == THROTTLED
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        clock.now += 1.0
        assert c.put_record(StreamName=stream, PartitionKey="k", Data=b"x" * big)["ShardId"] == "shardId-000000000000"
        assert proxy.throttled[(stream, "shardId-000000000000")] == 2


def test_shards_are_limited_independently(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=2)
    first, second = key_for_shard(client, stream, 0), key_for_shard(client, stream, 1)
    clock = FakeClock()
    with ShardLimitsProxy(kinesis.port, clock=clock) as proxy:
        c = proxied(kinesis, proxy)
        full = put_burst(c, stream, first, 1200)
        assert sum("ErrorCode" not in e for e in full) == 1000
        other = put_burst(c, stream, second, 1000)
        assert all("ErrorCode" not in e for e in other)  # the other shard's records budget is untouched
    with ShardLimitsProxy(kinesis.port, clock=clock, max_write_bytes=5000) as proxy:
        c = proxied(kinesis, proxy)
        # Bytes: 5000 bytes per second and shard here; 100-byte records, mixed over both shards in one call.
        mixed = [{"PartitionKey": first if i % 2 else second, "Data": b"z" * (100 - len(first))} for i in range(120)]
        answered = c.put_records(StreamName=stream, Records=mixed)["Records"]
        by_key = {k: [("ErrorCode" in e) for m, e in zip(mixed, answered) if m["PartitionKey"] == k] for k in (first, second)}
        for key in (first, second):
            assert by_key[key] == [False] * 50 + [True] * 10, key  # 50 x 100 bytes each, then throttled
        assert {s for _, s in proxy.admitted} == {"shardId-000000000000", "shardId-000000000001"}


def test_the_sixth_get_records_call_in_a_second_is_throttled(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=2)
    clock = FakeClock()
    with ShardLimitsProxy(kinesis.port, clock=clock) as proxy:
        c = proxied(kinesis, proxy)
        iterators = [c.get_shard_iterator(StreamName=stream, ShardId=f"shardId-00000000000{i}",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"] for i in (0, 1)]
        iterator = iterators[0]
        for _ in range(5):
            iterator = c.get_records(ShardIterator=iterator)["NextShardIterator"]  # the next iterator: same shard
        with pytest.raises(ClientError) as caught:
            c.get_records(ShardIterator=iterator)
        assert caught.value.response["Error"]["Code"] == THROTTLED
        assert "shardId-000000000000" in caught.value.response["Error"]["Message"]
        c.get_records(ShardIterator=iterators[1])  # the other shard has its own five
        clock.now += 1.0
        c.get_records(ShardIterator=iterator)
        assert proxy.throttled_reads == {(stream, "shardId-000000000000"): 1}


def test_read_bytes_per_second(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    client.put_records(StreamName=stream, Records=[{"PartitionKey": "k", "Data": b"r" * 900}] * 3)
    clock = FakeClock()
    with ShardLimitsProxy(kinesis.port, clock=clock, max_read_bytes=2000) as proxy:  # 2 MiB scaled down
        c = proxied(kinesis, proxy)
        iterator = c.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000",
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        answer = c.get_records(ShardIterator=iterator, Limit=3)  # 2,700 bytes: over the limit, so the next call waits
        assert len(answer["Records"]) == 3
        with pytest.raises(ClientError):
            c.get_records(ShardIterator=answer["NextShardIterator"])
        clock.now += 1.0
        assert c.get_records(ShardIterator=answer["NextShardIterator"])["Records"] == []


def test_real_clock_no_window_of_the_proxy_admits_more_than_the_limit(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    with ShardLimitsProxy(kinesis.port, max_write_records=300) as proxy:
        c = proxied(kinesis, proxy)
        sent = 0
        while sum(proxy.throttled.values()) == 0 or sent < 900:  # until the limit bit, and a few windows long
            sent += len(put_burst(c, stream, "k", 150))
    log = [(t, admitted) for t, _, _, admitted, _ in proxy.log]
    for start, _ in log:  # every window that opens at an admission, on the proxy's own clock
        assert sum(a for t, a in log if start <= t < start + 1.0) <= 300
    assert sum(proxy.admitted.values()) + sum(proxy.throttled.values()) == sent


def test_max_record_size_is_reported_where_the_emulator_does_not(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    assert "MaxRecordSizeInKiB" not in client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    with ShardLimitsProxy(kinesis.port, max_record_size_kib=10240) as proxy:
        summary = proxied(kinesis, proxy).describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert summary["MaxRecordSizeInKiB"] == 10240
    assert summary["StreamName"] == stream


def test_resharding_is_seen_from_the_answers(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    clock = FakeClock()
    with ShardLimitsProxy(kinesis.port, clock=clock, max_write_records=10) as proxy:
        c = proxied(kinesis, proxy)
        c.put_records(StreamName=stream, Records=[{"PartitionKey": "a", "Data": b"1"}])
        client.split_shard(StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 127))
        from pyflink_kinesis.tools.local import wait_for_stream
        wait_for_stream(client, stream)
        refreshes = proxy.shard_map_refreshes
        answered = c.put_records(StreamName=stream, Records=[{"PartitionKey": "a", "Data": b"2"}])["Records"]
        assert answered[0]["ShardId"] != "shardId-000000000000"
        assert proxy.shard_map_refreshes == refreshes + 1
        c.put_records(StreamName=stream, Records=[{"PartitionKey": "a", "Data": b"3"}])
        assert (stream, answered[0]["ShardId"]) in proxy.admitted  # now counted against the child
        assert proxy.shard_map_refreshes == refreshes + 1


def test_sliding_window_units() -> None:
    window = SlidingWindow(3, 100)
    assert window.fits(0.0, 1, 500)  # an empty window takes a record larger than its whole budget
    window.add(0.0, 1, 10)
    window.add(0.5, 2, 10)
    assert not window.fits(0.9, 1, 1)
    assert window.wait(0.9, 1, 1) == pytest.approx(0.1)  # the first leaves at 1.0
    assert window.wait(0.9, 3, 1) == pytest.approx(0.6)  # all three must leave
    assert window.fits(1.0, 1, 80) and not window.fits(1.0, 1, 91)
    assert window.usage(1.5) == (0, 0)
    assert decoded_size("") == 0 and decoded_size("YQ==") == 1 and decoded_size("YWI=") == 2 and decoded_size("YWJj") == 3
    assert json.loads(json.dumps(hash_key_of("a"))) == int("0cc175b9c0f1b6a831c399e269772661", 16)
