"""A savepoint that still names a shard the service no longer has, restored on a standalone Flink cluster.

The MiniCluster version is tests/test_flink_expired_shard.py. kinesis-local never expires a shard, so the restored
copy job (examples/copy_job.py) reads through the fault proxy (pyflink_kinesis/testing/faultproxy.py) with
``expired_shards``: GetShardIterator and GetRecords on the parent answer ResourceNotFoundException and ListShards
leaves it out, as the service does once a closed shard is older than the stream's retention. The sink writes to
kinesis-local directly.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from pyflink_kinesis.testing import put_all, wait_until
from pyflink_kinesis.testing.faultproxy import FaultProxy
from pyflink_kinesis.tools.cluster import FlinkCluster
from pyflink_kinesis.tools.local import LocalKinesis, wait_for_stream

from .cluster_support import TEST_CLUSTER_CONFIG, StreamTail, numbered

pytestmark = [pytest.mark.integration, pytest.mark.flink, pytest.mark.cluster]

JOB = Path(__file__).resolve().parents[1] / "examples" / "copy_job.py"
# Metrics read over REST are refreshed every 500 ms (Flink's default: every 10 s).
CONFIG = dict(TEST_CLUSTER_CONFIG, **{"metrics.fetcher.update-interval": 500})


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FlinkCluster]:
    with FlinkCluster(tmp_path / "cluster", taskmanagers=1, slots=2, rest_port=0, rpc_port=0,
                      config=CONFIG) as cluster:
        yield cluster


def expired_counters(cluster: FlinkCluster, job_id: str) -> Dict[str, float]:
    """The job's metrics whose name ends in ``.expiredShards`` (over every vertex and subtask), with their values."""
    found: Dict[str, float] = {}
    for vertex in cluster.job(job_id)["vertices"]:
        path = f"/jobs/{job_id}/vertices/{vertex['id']}/metrics"
        names = [m["id"] for m in cluster.rest(path) if m["id"].endswith(".expiredShards")]
        if names:
            found.update({m["id"]: float(m["value"]) for m in cluster.rest(path + "?get=" + ",".join(names))})
    return found


def test_a_savepoint_holding_an_expired_shard_resumes_with_its_children_on_a_cluster(
        cluster: FlinkCluster, kinesis: LocalKinesis, client: Any, new_stream: Callable[..., str],
        tmp_path: Path) -> None:
    """The copy job reads shard P through the proxy and stops with a savepoint; P is split and records are written
    to its children; the job resumes from the savepoint while P has expired: each child record comes out once, the
    job keeps running without a failure, and the TaskManager's warning and the counter name P."""
    source, sink = new_stream(1, prefix="exp-in"), new_stream(1, prefix="exp-out")
    parent = client.list_shards(StreamName=source)["Shards"][0]["ShardId"]
    before, after = numbered("before", keys=20, count=20), numbered("after", keys=60, count=60)

    def write(records: List[Any]) -> List[Dict[str, Any]]:
        return put_all(client, source, [{"PartitionKey": k, "Data": d} for k, d in records])

    def run(proxy: FaultProxy, savepoint: Any = None) -> str:
        job_id = cluster.submit(JOB, ["--endpoint", proxy.endpoint, "--output-endpoint", kinesis.endpoint,
                                      "--input", source, "--output", sink, "--http1", "--checkpoint-interval", "1000"],
                                parallelism=2, from_savepoint=savepoint)
        cluster.wait_for_job(job_id, timeout=180)
        return job_id

    tail = StreamTail(client, sink)
    write(before)
    with FaultProxy(kinesis.port, max_lifetime=600) as proxy:
        first = run(proxy)
        tail.poll_until({d for _, d in before}, timeout=300)
        savepoint = cluster.savepoint(first, stop=True, directory=str(tmp_path / "savepoints"))
    assert cluster.job(first)["state"] == "FINISHED"

    client.split_shard(StreamName=source, ShardToSplit=parent, NewStartingHashKey=str(2**127))
    wait_for_stream(client, source)
    children = {s["ShardId"] for s in client.list_shards(StreamName=source)["Shards"]} - {parent}
    assert {w["ShardId"] for w in write(after)} == children, "the records after the savepoint are in both children"

    with FaultProxy(kinesis.port, expired_shards=(parent,), max_lifetime=600) as proxy:
        resumed = run(proxy, savepoint)
        try:
            tail.poll_until({d for _, d in before + after}, timeout=300)
            assert cluster.job(resumed)["state"] == "RUNNING"
            assert cluster.failures(resumed) == 0, cluster.job_exception(resumed)
            counters = wait_until(lambda: {n: v for n, v in expired_counters(cluster, resumed).items() if v > 0},
                                  120, "the expiredShards counter above 0")
            assert proxy.expired_answers["GetShardIterator"] + proxy.expired_answers["GetRecords"] >= 1
        finally:
            cluster.cancel(resumed)
            cluster.wait_for_job(resumed, ("CANCELED",), timeout=60)
    tail.poll()
    got = Counter(r["data"] for r in tail.records)
    assert got == Counter(d for _, d in before + after), "every record once: none lost, none read twice"
    assert sum(counters.values()) == 1 and all(f"shard.{parent}.expiredShards" in n for n in counters), counters
    logged = "".join(p.read_text(errors="replace") for p in cluster.log_dir.glob("flink-*taskexecutor*.log"))
    assert f"Shard {parent} of stream '{source}' has expired" in logged
    assert "last position read: AFTER(" in logged, "the warning names the position the savepoint held"
