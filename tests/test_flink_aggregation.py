"""A StateFun module's egress with ``AggregationEnabled: true`` in a PyFlink DataStream job, configured exactly as
the docs show it (examples/configs/aggregating_egress.yaml; only the endpoint's port filled in), on kinesis-local.
The output stream's first shard is split while the job writes. What it wrote is read back by aws-kinesis-agg's
de-aggregator (not this project's code), by our Flink source (in the same job: ``aggregated`` in
tests/flink_jobs.py) and by our Beam reader: every user record once, byte for byte, with its partition key, in the
shard its key hashes to; our readers with the sub-sequence numbers of the aggregates that hold them. The same
module's egress also writes through Beam's WriteToKinesis (where Beam is installed), and the job's source reads that
stream too.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Dict, Optional

import pytest

pytest.importorskip("pyflink")
pytest.importorskip("aws_kinesis_agg.deaggregator")

from pyflink_kinesis import EgressRecord, KinesisEgressSpec, load_module  # noqa: E402
from pyflink_kinesis.testing import Streams, put_all, read_stream  # noqa: E402
from pyflink_kinesis.testing.flink_child import FlinkChild  # noqa: E402
from pyflink_kinesis.testing.streams import users_by_agg_library  # noqa: E402
from pyflink_kinesis.tools.local import LocalKinesis, wait_for_stream  # noqa: E402
from tests.flink_support import DEADLINE, observations  # noqa: E402
from tests.kpl_support import held_users  # noqa: E402
from tests.test_user_configs import CONFIGS, filled_in  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.flink]

MODULE = CONFIGS / "aggregating_egress.yaml"
USERS = [(f"user-{i}", b"%04d" % i + bytes((i * 11 + j) % 256 for j in range(96))) for i in range(600)]
HALF = len(USERS) // 2


def beam_writer() -> Optional[Callable[[KinesisEgressSpec, str], None]]:
    """Writes ``USERS`` to a stream through Beam's WriteToKinesis with an egress spec (DirectRunner), if Beam is
    installed."""
    try:
        import apache_beam as beam
    except ImportError:
        return None
    from beam_transforms.write import WriteToKinesis

    def write(spec: KinesisEgressSpec, stream: str) -> None:
        with beam.Pipeline(runner="DirectRunner") as pipeline:
            _ = (pipeline | beam.Create([EgressRecord(d, stream, k) for k, d in USERS])
                 | WriteToKinesis(spec))
    return write


@pytest.fixture(scope="module")
def aggregated(kinesis: LocalKinesis, flink: FlinkChild) -> Dict[str, Any]:
    beam_write = beam_writer()
    client = kinesis.client()
    streams = Streams(client, "agg")
    names = {"in": streams.new(2), "out": streams.new(2), "meta": streams.new(2)}
    out = names["out"]
    put_all(client, names["in"], [{"PartitionKey": k, "Data": d} for k, d in USERS[:HALF]])
    module = filled_in(MODULE.read_text(), kinesis)
    if beam_write is not None:  # the same module's egress through Beam, for our Flink source to read
        names["beam_out"] = streams.new(2)
        beam_write(load_module(module).egresses["example/orders-aggregated"], names["beam_out"])
    flink.start("aggregated", dict(names, endpoint=kinesis.endpoint, module=module))
    flink.wait_until(lambda: len(users_by_agg_library(read_stream(client, out))) >= HALF, DEADLINE,
                     "the first half of the user records", interval=1)
    before_split = read_stream(client, out)
    client.split_shard(StreamName=out, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 126))
    wait_for_stream(client, out)
    put_all(client, names["in"], [{"PartitionKey": k, "Data": d} for k, d in USERS[HALF:]])
    flink.wait_until(lambda: len(held_users(client, out, read_stream(client, out))) >= len(USERS), DEADLINE,
                     "every user record in its shard", interval=1)
    expected = len(USERS) * (1 + ("beam_out" in names))
    flink.wait_until(lambda: len(read_stream(client, names["meta"])) >= expected, DEADLINE,
                     "our source's observation of every user record", interval=1)
    meta = observations(client, names["meta"])
    records = read_stream(client, out)
    result = {"names": names, "before_split": before_split, "records": records,
              "held": held_users(client, out, records),
              "meta": [m for m in meta if m["tag"] == "flink"], "beam_meta": [m for m in meta if m["tag"] == "beam"]}
    assert flink.call(cmd="cancel")["status"] == "CANCELED"
    return result


def test_the_module_egress_writes_aggregates_each_user_record_once_in_its_shard(aggregated: Dict[str, Any]) -> None:
    before = aggregated["before_split"]
    assert len(before) * 10 <= HALF, f"{len(before)} Kinesis records for {HALF} user records"
    assert all(u.sub_sequence_number is not None for u in users_by_agg_library(before)), "only aggregates"
    assert max(len(r["Data"]) for r in aggregated["records"]) <= 51200  # the KPL's AggregationMaxSize default
    held = aggregated["held"]
    # aws-kinesis-agg, reading as the KCL does (a user record counts in a shard whose range holds its key):
    assert Counter((u.partition_key, u.data) for u in held) == Counter(USERS), "every user record once, byte for byte"
    assert {"shardId-000000000002", "shardId-000000000003"} <= {u.shard_id for u in held}, "the split's children"
    # The split did send aggregates packed for the parent to a child holding only part of their keys; the
    # writer wrote those user records again to their shards (their first copies lie outside the child's range).
    assert len(users_by_agg_library(aggregated["records"])) > len(held), "no aggregate mixed the children's keys"


def test_our_flink_source_reads_back_every_user_record_once_with_sub_sequence_numbers(
        aggregated: Dict[str, Any]) -> None:
    meta = aggregated["meta"]
    assert Counter((m["key"], m["data"]) for m in meta) == Counter(USERS)
    assert {(m["shard"], m["seq"], m["sub"]) for m in meta} == {
        (u.shard_id, u.sequence_number, u.sub_sequence_number) for u in aggregated["held"]}
    assert all(m["stream"] == aggregated["names"]["out"] for m in meta)


def test_our_beam_reader_reads_back_every_user_record_once_with_sub_sequence_numbers(
        kinesis: LocalKinesis, aggregated: Dict[str, Any]) -> None:
    pytest.importorskip("apache_beam")
    from tests.beam_support import spec_for
    from tests.test_beam_kpl import _read

    read = _read(spec_for(kinesis, aggregated["names"]["out"]), stop_when_caught_up=True)
    assert Counter((r.partition_key, r.data) for r in read) == Counter(USERS)
    assert {(r.shard_id, r.sequence_number, r.sub_sequence_number) for r in read} == {
        (u.shard_id, u.sequence_number, u.sub_sequence_number) for u in aggregated["held"]}


def test_our_flink_source_reads_back_the_same_modules_aggregates_written_by_beam(aggregated: Dict[str, Any],
                                                                                 kinesis: LocalKinesis) -> None:
    pytest.importorskip("apache_beam")
    stream = aggregated["names"]["beam_out"]
    records = read_stream(kinesis.client(), stream)
    assert len(records) * 10 <= len(USERS), f"{len(records)} Kinesis records for {len(USERS)} user records"
    by_library = users_by_agg_library(records)
    assert Counter((u.partition_key, u.data) for u in by_library) == Counter(USERS)
    meta = aggregated["beam_meta"]
    assert Counter((m["key"], m["data"]) for m in meta) == Counter(USERS)
    assert {(m["shard"], m["seq"], m["sub"]) for m in meta} == {
        (u.shard_id, u.sequence_number, u.sub_sequence_number) for u in by_library}
