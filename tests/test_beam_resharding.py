"""ReadFromKinesis across resharding (split and merge while the pipeline reads), on the DirectRunner.

Real kinesis-local streams, no mocks. Per-partition-key order is checked in the order the
reader emits records (a DoFn fused after the reader appends them to a list).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import pytest

beam = pytest.importorskip("apache_beam")

from beam_transforms.restriction import (  # noqa: E402
    ShardCursor,
    ShardEndClaim,
    ShardInfo,
    StreamRestriction,
    StreamRestrictionTracker,
)
from pyflink_kinesis import IngressRecord  # noqa: E402

from pyflink_kinesis.testing import wait_until  # noqa: E402
from tests.beam_support import check_exactly_once_in_key_order, put, read_while, spec_for  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]

def test_split_while_reading_reads_each_record_once_in_key_order(
    kinesis: Any, client: Any, new_stream: Callable[..., str]
) -> None:
    stream = new_stream(shards=2)
    keys = [f"key-{k}" for k in range(50)]
    counters = {k: 0 for k in keys}

    def records(n: int) -> List[Tuple[str, bytes, None]]:
        out = []
        for i in range(n):
            key = keys[i % len(keys)]
            out.append((key, f"{key}:{counters[key]}".encode(), None))
            counters[key] += 1
        return out

    parent = client.list_shards(StreamName=stream)["Shards"][0]
    low, high = int(parent["HashKeyRange"]["StartingHashKey"]), int(parent["HashKeyRange"]["EndingHashKey"])

    def write_split_write(sink: List[IngressRecord]) -> None:
        writer = kinesis.client()
        put(writer, stream, records(1000))
        # the pipeline is reading: split under its feet
        wait_until(lambda: len(sink) > 0, 60, "the first records read", interval=0.05)
        writer.split_shard(StreamName=stream, ShardToSplit=parent["ShardId"], NewStartingHashKey=str((low + high) // 2))
        wait_until(lambda: writer.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
                    ["StreamStatus"] == "ACTIVE", 60, "the stream to be ACTIVE", interval=0.05)
        put(writer, stream, records(1000))

    # Small batches keep the parent's backlog for seconds after the split, and frequent ListShards
    # calls find the children meanwhile: they must still wait for the parent's end.
    out = read_while(spec_for(kinesis, stream), write_split_write, max_records=2000, max_read_time=120,
                      poll_interval=0.2, max_records_per_call=25, shard_discovery_interval=0.5)
    assert len(out) == 2000
    check_exactly_once_in_key_order(out, counters)
    shards = {r.shard_id for r in out}
    assert len(shards) == 4, shards  # both original shards and both children were read
    # The parent was read to its end before any record of its children.
    children = shards - {parent["ShardId"], client.list_shards(StreamName=stream)["Shards"][1]["ShardId"]}
    last_parent = max(i for i, r in enumerate(out) if r.shard_id == parent["ShardId"])
    first_child = min(i for i, r in enumerate(out) if r.shard_id in children)
    assert last_parent < first_child


def test_merge_while_reading_waits_for_both_parents(kinesis: Any, client: Any, new_stream: Callable[..., str]) -> None:
    stream = new_stream(shards=2)
    first, second = client.list_shards(StreamName=stream)["Shards"][:2]
    # Keys pinned to the *adjacent* parent (the second shard) by explicit hash keys, with a backlog
    # there that takes many GetRecords calls: a child read before that parent ends would break key order.
    base = int(second["HashKeyRange"]["StartingHashKey"])
    keys = {f"key-{k}": str(base + k) for k in range(20)}
    counters = {k: 0 for k in keys}
    few = {"other": str(int(first["HashKeyRange"]["StartingHashKey"]))}
    counters["other"] = 0

    def records(n: int, pinned: Dict[str, str]) -> List[Tuple[str, bytes, str]]:
        out = []
        names = list(pinned)
        for i in range(n):
            key = names[i % len(names)]
            out.append((key, f"{key}:{counters[key]}".encode(), pinned[key]))
            counters[key] += 1
        return out

    put(client, stream, records(3, few))

    def write_merge_write(sink: List[IngressRecord]) -> None:
        writer = kinesis.client()
        wait_until(lambda: len(sink) >= 3, 60, "3 records read", interval=0.05)
        put(writer, stream, records(600, keys))
        writer.merge_shards(StreamName=stream, ShardToMerge=first["ShardId"], AdjacentShardToMerge=second["ShardId"])
        wait_until(lambda: writer.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
                    ["StreamStatus"] == "ACTIVE", 60, "the stream to be ACTIVE", interval=0.05)
        put(writer, stream, records(200, keys) + records(3, few))

    out = read_while(spec_for(kinesis, stream), write_merge_write, max_records=806, max_read_time=120,
                      poll_interval=0.2, max_records_per_call=20)
    check_exactly_once_in_key_order(out, counters)
    child = {r.shard_id for r in out} - {first["ShardId"], second["ShardId"]}
    assert len(child) == 1
    last_parent = max(i for i, r in enumerate(out) if r.shard_id in (first["ShardId"], second["ShardId"]))
    assert last_parent < min(i for i, r in enumerate(out) if r.shard_id in child)


def test_a_merged_child_is_ready_only_when_both_parents_ended() -> None:
    restriction = StreamRestriction("s", (ShardCursor("a"), ShardCursor("b")))
    tracker = StreamRestrictionTracker(restriction)
    merged = ShardInfo("c", ("a", "b"))
    assert tracker.try_claim(ShardEndClaim("a", (merged,)))
    assert [c.shard_id for c in tracker.current_restriction().ready()] == ["b"]
    assert tracker.try_claim(ShardEndClaim("b", (merged,)))
    current = tracker.current_restriction()
    assert [c.shard_id for c in current.ready()] == ["c"]
    assert current.cursor("c").start_type == "TRIM_HORIZON"  # children start at their first record
    assert [c.shard_id for c in current.shards] == ["c"]  # the child joined once, though both parents named it
