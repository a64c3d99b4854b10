"""WriteToKinesis with aggregation (sink.aggregation.enabled / the KPL's AggregationEnabled) on the local Kinesis.

Every user record is checked with aws-kinesis-agg's own de-aggregator (not this project's code) and with
ReadFromKinesis: exactly once, byte for byte, with its partition key, in the shard its key hashes to.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any, Dict, List, Tuple

import pytest

beam = pytest.importorskip("apache_beam")
pytest.importorskip("aws_kinesis_agg.deaggregator")

from beam_transforms.aggregation import AggregateBuilder, deaggregate, is_aggregated  # noqa: E402
from beam_transforms.write import WriteToKinesis  # noqa: E402
from pyflink_kinesis import EgressRecord, KinesisEgressBuilder  # noqa: E402
from pyflink_kinesis.spec.shard_limits import ShardRanges, hash_key_of  # noqa: E402
from pyflink_kinesis.testing import read_stream  # noqa: E402
from pyflink_kinesis.tools.local import wait_for_stream  # noqa: E402
from tests.beam_support import SINK, collect, counter, run, spec_for  # noqa: E402
from tests.kpl_support import held_users, users_by_agg_library  # noqa: E402
from tests.test_beam_kpl import _read  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]
User = Tuple[str, bytes]  # (partition key, data)


def aggregating_spec(kinesis: Any, **props: Any) -> Any:
    """An egress spec of EgressRecords with the KPL's names, as a StateFun module carries them."""
    return (KinesisEgressBuilder.for_identifier("t/agg").with_aws_region(kinesis.region)
            .with_aws_credentials(kinesis.credentials)
            .with_client_configuration_properties({"AggregationEnabled": "true", **props}).build())


def shard_map(client: Any, stream: str, open_only: bool = True) -> Dict[str, Tuple[int, int]]:
    return {s["ShardId"]: (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
            for s in client.list_shards(StreamName=stream)["Shards"]
            if not open_only or not s["SequenceNumberRange"].get("EndingSequenceNumber")}


def write(spec: Any, values: List[Any], before: Any = None) -> Tuple[List[Any], List[Any], Any]:
    tokens: Dict[str, str] = {}

    def build(p: Any) -> None:
        pcoll = p | beam.Create(values)
        if before is not None:
            pcoll = pcoll | beam.Map(before)
        out = pcoll | WriteToKinesis(spec)
        tokens["written"] = collect(out.written, "written")
        tokens["failed"] = collect(out.failed, "failed")

    result = run(build)
    return SINK.pop(tokens["written"]), SINK.pop(tokens["failed"]), result


def test_100_byte_records_aggregate_ten_to_one_and_come_back_exactly_once(kinesis: Any, client: Any,
                                                                          new_stream: Any) -> None:
    stream = new_stream(shards=4)
    rng = random.Random(3)
    users = [(f"key-{rng.randrange(200)}", bytes(rng.getrandbits(8) for _ in range(100))) for _ in range(1000)]
    written, failed, result = write(aggregating_spec(kinesis), [EgressRecord(d, stream, k) for k, d in users])
    assert not failed and len(written) == len(users)
    stored = read_stream(client, stream)
    assert len(stored) <= len(users) / 10  # at most one Kinesis record per ten user records
    assert all(is_aggregated(r["Data"]) for r in stored)
    assert max(len(r["Data"]) for r in stored) <= 51200  # the KPL's AggregationMaxSize default
    # aws-kinesis-agg's de-aggregator: every user record once, byte for byte, with its partition key ...
    by_library = users_by_agg_library(stored)
    assert Counter((k, d) for k, d, *_ in by_library) == Counter(users)
    # ... in the shard its key hashes to.
    ranges = shard_map(client, stream)
    for key, _, shard, *_ in by_library:
        low, high = ranges[shard]
        assert low <= hash_key_of(key) <= high, (key, shard)
    # Our reader: the same user records, with sub-sequence numbers matching the write results.
    read = _read(spec_for(kinesis, stream), stop_when_caught_up=True)
    assert Counter((r.partition_key, r.data) for r in read) == Counter(users)
    assert {(r.shard_id, r.sequence_number, r.sub_sequence_number, r.partition_key) for r in read} == {
        (w.shard_id, w.sequence_number, w.sub_sequence_number, w.partition_key) for w in written}
    assert all(w.sub_sequence_number is not None for w in written)
    assert counter(result, "written_records") == len(stored)  # Kinesis records, not user records


def test_no_aggregate_exceeds_max_size_and_a_larger_record_goes_alone(kinesis: Any, client: Any,
                                                                      new_stream: Any) -> None:
    stream = new_stream(shards=1)
    sizes = [10, 300, 700, 2000, 50, 1500, 5, 900]  # 2000 and 1500 do not fit a 1024-byte aggregate alone
    users = [(f"k{i}", bytes([i]) * size) for i, size in enumerate(sizes * 5)]
    spec = aggregating_spec(kinesis, AggregationMaxSize=1024, AggregationMaxCount=4)
    written, failed, _ = write(spec, [EgressRecord(d, stream, k) for k, d in users])
    assert not failed
    stored = read_stream(client, stream)
    plain = [r for r in stored if not is_aggregated(r["Data"])]
    aggregates = [r for r in stored if is_aggregated(r["Data"])]
    assert {len(r["Data"]) for r in plain} >= {2000, 1500}
    assert aggregates and all(len(r["Data"]) <= 1024 for r in aggregates)
    assert all(len(deaggregate(r["Data"]) or []) <= 4 for r in aggregates)  # AggregationMaxCount
    assert Counter((k, d) for k, d, *_ in users_by_agg_library(stored)) == Counter(users)
    alone = {w.partition_key: w.sub_sequence_number for w in written if w.sub_sequence_number is None}
    assert {k for k, d in users if len(d) > 1000} <= set(alone)


def test_a_split_during_the_write_keeps_each_user_record_in_the_shard_its_key_hashes_to(
        kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    users = [(f"user-{i}", b"%05d" % i + b"." * 95) for i in range(600)]
    split_at = 300

    endpoint = kinesis.endpoint

    def split_midway(record: EgressRecord) -> EgressRecord:
        if record.partition_key == f"user-{split_at}":  # the writer's shard map still names the parent
            import boto3

            own = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                               aws_access_key_id="local", aws_secret_access_key="local")
            own.split_shard(StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 127))
            wait_for_stream(own, stream)
        return record

    spec = aggregating_spec(kinesis, AggregationMaxCount=25, CollectionMaxCount=2)  # sent as they fill up
    written, failed, result = write(spec, [EgressRecord(d, stream, k) for k, d in users], before=split_midway)
    assert not failed
    stored = read_stream(client, stream)
    assert {"shardId-000000000001", "shardId-000000000002"} <= {r["ShardId"] for r in stored}
    copies = users_by_agg_library(stored)
    placed = [(k, d) for k, d, *_ in held_users(client, stream, stored)]
    # Each user record is exactly once in a shard whose range holds its key (the parent held every key);
    assert Counter(placed) == Counter(users)
    # the other copies are the user records of aggregates that a stale shard map sent to the wrong child: the
    # writer saw it from the answer, listed the shards again and wrote them to their shard (as the KPL does;
    # the KCL drops such copies when it de-aggregates).
    misplaced = len(copies) - len(placed)
    assert misplaced > 0  # the stale map's aggregates after the split mix keys of both children
    assert misplaced == counter(result, "resharded_records")
    assert len(written) == len(users)
    children = {w.shard_id for w in written if w.shard_id != "shardId-000000000000"}
    assert children == {"shardId-000000000001", "shardId-000000000002"}


def test_aggregate_builder_round_trips_through_aws_kinesis_agg() -> None:
    builder = AggregateBuilder()
    users = [("k1", None, b"abc"), ("k2", "123", b"\xff" * 300), ("k1", "123", b""), ("ключ", None, b"x")]
    for key, hash_key, data in users:
        expected = builder.size_with(key, hash_key, data)
        builder.add(key, hash_key, data)
        assert builder.size == expected
    encoded = builder.encode()
    assert len(encoded) == builder.size
    assert [(u.partition_key, u.explicit_hash_key, u.data) for u in deaggregate(encoded) or []] == users
    record = {"SequenceNumber": "1", "PartitionKey": "p", "ApproximateArrivalTimestamp": time.time(), "Data": encoded,
              "ShardId": "s"}
    assert [(k, d) for k, d, *_ in users_by_agg_library([record])] == [(k, d) for k, _, d in users]
    ranges = ShardRanges([{"ShardId": "a", "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "99"}},
                          {"ShardId": "b", "HashKeyRange": {"StartingHashKey": "100", "EndingHashKey": "199"},
                           "SequenceNumberRange": {"EndingSequenceNumber": "9"}}])
    assert ranges.find(50).shard_id == "a" and ranges.find(150) is None and len(ranges) == 1  # closed: left out


def test_the_reader_drops_the_user_records_of_an_aggregate_outside_its_shards_hash_key_range() -> None:
    """As the KCL does: a writer whose aggregate landed on a child after a split wrote them again to their shard."""
    from beam_transforms.emit import user_records

    builder = AggregateBuilder()
    keys = [f"k{i}" for i in range(20)]
    for key in keys:
        builder.add(key, None, key.encode())
    record = {"Data": builder.encode(), "PartitionKey": "k0"}
    held = user_records(record, (0, 2 ** 127 - 1))
    expected = [(i, k) for i, k in enumerate(keys) if hash_key_of(k) < 2 ** 127]
    assert 0 < len(expected) < len(keys)
    assert [(sub, key) for sub, key, _, _ in held] == expected
    assert [last for _, _, _, last in held] == [False] * (len(held) - 1) + [True]  # the last held ends the record
    assert len(user_records(record)) == len(keys)  # a shard whose range is not known: every user record
