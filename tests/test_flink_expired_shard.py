"""A savepoint that still names a shard the service no longer has, on a real MiniCluster against kinesis-local.

After the stream's retention period a closed shard leaves ListShards and GetShardIterator on it answers
ResourceNotFoundException. kinesis-local never expires a shard, so the restored job reads through the fault proxy
(pyflink_kinesis/testing/faultproxy.py) with ``expired_shards``: it answers for the parent as the service does once
the parent has expired (ResourceNotFoundException for its iterator and records, left out of ListShards) and
forwards everything else. The sink writes to kinesis-local directly.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("pyflink")

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from pyflink_kinesis.flink.jar import connector_jar  # noqa: E402
from pyflink_kinesis.tools.local import LocalKinesis  # noqa: E402
from pyflink_kinesis.testing import Streams, put_all, wait_until  # noqa: E402
from pyflink_kinesis.testing.faultproxy import FaultProxy  # noqa: E402
from pyflink_kinesis.testing.flink_child import FlinkChild  # noqa: E402
from tests.flink_support import DEADLINE, JOBS_SCRIPT, observations  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.flink]
ENDED = ("FAILED", "FAILING", "RESTARTING", "CANCELED", "CANCELLING", "FINISHED")


def records(phase: str, count: int) -> list:
    keys = random.Random(phase).sample(range(10**6), count)
    return [{"Data": f"{phase}-{i}".encode(), "PartitionKey": f"k{key}"} for i, key in enumerate(keys)]


def test_a_savepoint_holding_an_expired_shard_resumes_with_its_children(kinesis: LocalKinesis,
                                                                         tmp_path: Path) -> None:
    """The copy job (checkpoints every second, no restarts) reads shard P and stops with a savepoint; P is split and
    records are written to its children; the job is restored from the savepoint while P has expired. P's split ends
    (warning and counter name it), the children are read: each of their records once, and the job keeps running."""
    connector_jar()
    client = kinesis.client()
    streams = Streams(client, "expired")
    source, out = streams.new(1), streams.new(1)
    parent = client.list_shards(StreamName=source)["Shards"][0]["ShardId"]
    before, after = records("before", 20), records("after", 60)
    args = {"endpoint": kinesis.endpoint, "in": source, "out": out}
    with FlinkChild(JOBS_SCRIPT, tmp_path / "child.log", lifetime=900) as flink:
        put_all(client, source, before)
        flink.start("copy", args)
        flink.wait_until(lambda: len(observations(client, out)) >= len(before), DEADLINE, "the records before")
        savepoint = flink.call(cmd="stop_with_savepoint", dir=str(tmp_path / "savepoints"))["savepoint"]
        assert flink.wait(60)["status"] == "FINISHED"

        client.split_shard(StreamName=source, ShardToSplit=parent, NewStartingHashKey=str(2**127))
        wait_until(lambda: client.describe_stream_summary(StreamName=source)["StreamDescriptionSummary"]
                   ["StreamStatus"] == "ACTIVE", 60, "the split")
        children = {s["ShardId"] for s in client.list_shards(StreamName=source)["Shards"]} - {parent}
        written = put_all(client, source, after)
        assert {w["ShardId"] for w in written} == children, "the records after the savepoint are in the children"

        with FaultProxy(kinesis.port, expired_shards=(parent,), max_lifetime=DEADLINE * 2) as proxy:
            via_proxy = boto3.client("kinesis", endpoint_url=proxy.endpoint, region_name="us-east-1",
                                     aws_access_key_id="local", aws_secret_access_key="local")
            assert {s["ShardId"] for s in via_proxy.list_shards(StreamName=source)["Shards"]} == children
            with pytest.raises(ClientError, match="ResourceNotFoundException"):
                via_proxy.get_shard_iterator(StreamName=source, ShardId=parent, ShardIteratorType="TRIM_HORIZON")

            flink.start("copy", dict(args, source_endpoint=proxy.endpoint), {"execution.savepoint.path": savepoint})

            def children_read() -> bool:
                status = flink.call(cmd="status")["status"]
                assert status not in ENDED, f"the restored job is {status}: {flink.wait(5).get('error', '')[-3000:]}"
                return len(observations(client, out)) >= len(before) + len(after)

            flink.wait_until(children_read, DEADLINE, "the children's records", interval=1)
            assert flink.call(cmd="status")["status"] == "RUNNING"
            expired = flink.wait_until(lambda: _positive(flink.call(cmd="metric", suffix=".expiredShards")),
                                       60, "the expiredShards counter")
            assert proxy.expired_answers["GetShardIterator"] >= 1
            assert flink.call(cmd="cancel")["status"] == "CANCELED"
    got = Counter(o["data"] for o in observations(client, out))
    assert got == Counter(e["Data"] for e in before + after), "every record once: none lost, none read twice"
    assert expired["value"] == 1 and all(f"shard.{parent}.expiredShards" in m for m in expired["metrics"]), expired
    logged = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*.log"))
    assert f"Shard {parent} of stream '{source}' has expired" in logged
    assert "last position read: AFTER(" in logged, "the warning names the last position read"


def _positive(metric: dict) -> dict:
    """The metric answer once its value is above zero (REST metrics are refreshed every 200 ms), else {}."""
    return metric if metric["value"] > 0 else {}
