"""A Kinesis copy job (examples/copy_job.py: from_ingress -> to_egress, checkpoints every 2 s,
at-least-once) on a standalone Flink cluster (2 TaskManagers x 2 slots, parallelism 2), against the local Kinesis,
surviving what production throws at it: a TaskManager killed with kill -9, a stop with a savepoint and a resume,
the local Kinesis restarted, network faults, and a shard split then merge. Each test reads the output stream back
with boto3, checks that every input record is there, and reports its figures (records in, out, duplicates,
restarts, recovery time) through the ``figures`` fixture (tests/figures.py).

Network faults are injected by pyflink_kinesis/testing/faultproxy.py (a loopback proxy): no emulator produces them.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from pyflink_kinesis.tools.cluster import FlinkCluster
from pyflink_kinesis.tools.local import LocalKinesis, create_stream, wait_for_stream

from .cluster_support import TEST_CLUSTER_CONFIG, Delivery, StreamTail, analyse, numbered, put_parallel
from pyflink_kinesis.testing.faultproxy import FaultProxy
from pyflink_kinesis.testing import put_all, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

JOB = Path(__file__).resolve().parents[1] / "examples" / "copy_job.py"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlinkCluster]:
    with FlinkCluster(tmp_path_factory.mktemp("cluster"), taskmanagers=2, slots=2, rest_port=0, rpc_port=0,
                      config=TEST_CLUSTER_CONFIG) as cluster:
        yield cluster


@pytest.fixture
def submit(cluster: FlinkCluster) -> Iterator[Callable[..., str]]:
    """``submit(endpoint, input, output, *extra_args, from_savepoint=None)`` runs the copy job at parallelism 2;
    every job still running at the end of the test is cancelled, and a killed TaskManager is replaced."""
    jobs: List[str] = []

    def run(endpoint: str, source: str, sink: str, *extra: str, from_savepoint: Any = None) -> str:
        job_id = cluster.submit(JOB, ["--endpoint", endpoint, "--input", source, "--output", sink, *extra],
                                parallelism=2, from_savepoint=from_savepoint)
        jobs.append(job_id)
        cluster.wait_for_job(job_id, timeout=180)
        return job_id

    yield run
    for job_id in jobs:
        if cluster.job(job_id)["state"] not in ("FINISHED", "FAILED", "CANCELED"):
            cluster.cancel(job_id)
            cluster.wait_for_job(job_id, ("CANCELED", "FAILED"), timeout=60)
    while len(cluster.taskmanager_pids) < cluster.taskmanagers:
        cluster.add_taskmanager()


def check_complete(delivery: Delivery) -> None:
    assert not delivery.lost, f"{len(delivery.lost)} records lost, e.g. {delivery.lost[:5]}"
    assert not delivery.unexpected, f"records that were never written: {delivery.unexpected[:5]}"


def test_kill_9_of_a_taskmanager_restarts_from_the_last_checkpoint(
        cluster: FlinkCluster, kinesis: LocalKinesis, client: Any, new_stream: Callable[..., str],
        submit: Callable[..., str], figures: Callable[..., Any]) -> None:
    source, sink = new_stream(shards=16, prefix="kill-in"), new_stream(shards=16, prefix="kill-out")
    # Small sink batches: records read after a checkpoint reach the output before the next one, so the kill
    # leaves duplicates to account for.
    job_id = submit(kinesis.endpoint, source, sink, "--checkpoint-interval", "4000", "--batch-size", "100")
    written = numbered("kill", keys=500, count=20_000)
    writer = threading.Thread(target=put_parallel, args=(kinesis.client, source, written), daemon=True)
    writer.start()
    tail = StreamTail(client, sink)
    wait_until(lambda: tail.poll() >= 4_000 and cluster.checkpoints(job_id)["counts"]["completed"] >= 2, 300,
               "4,000 records out and 2 completed checkpoints")

    def since_checkpoint_ms() -> float:
        return time.time() * 1000 - cluster.checkpoints(job_id)["latest"]["completed"]["trigger_timestamp"]

    # Kill 2 to 3.5 s into a 4 s checkpoint interval, so records read after the checkpoint are already out.
    wait_until(lambda: 2000 <= since_checkpoint_ms() < 3500, 60, "2 s after a completed checkpoint")

    kill_ms, started = time.time() * 1000, time.monotonic()
    cluster.kill_taskmanager(0)  # kill -9: no goodbye, its in-flight records and sink buffer are gone
    wait_until(lambda: cluster.failures(job_id) >= 1, 120, "the job to restart")
    cluster.wait_for_job(job_id, timeout=180)
    recovery = time.monotonic() - started
    writer.join(timeout=300)
    assert not writer.is_alive()
    tail.poll_until({d for _, d in written}, timeout=400)

    stats = cluster.checkpoints(job_id)
    completed = [c for c in stats["history"] if c["status"] == "COMPLETED"]
    before_kill = [c for c in completed if c["trigger_timestamp"] + c["end_to_end_duration"] <= kill_ms]
    restored = stats["latest"]["restored"]
    assert restored is not None and not restored["is_savepoint"], stats["latest"]
    assert before_kill and restored["id"] >= max(c["id"] for c in before_kill), (restored, before_kill[-3:])
    trigger_ms = next(c["trigger_timestamp"] for c in completed if c["id"] == restored["id"])
    assert trigger_ms < kill_ms

    delivery = analyse(written, tail.records)
    check_complete(delivery)
    # Duplicates are records read again after the restore: their first copy came out after that checkpoint began.
    first_arrival: Dict[bytes, float] = {}
    for r in tail.records:
        first_arrival.setdefault(r["data"], r["arrival_ms"])
    early = [d for d in delivery.duplicated if first_arrival[d] < trigger_ms - 100]
    assert not early, f"{len(early)} duplicated records had been written before the restored checkpoint: {early[:5]}"
    after_checkpoint = sum(1 for t in first_arrival.values() if t >= trigger_ms - 100)
    assert delivery.duplicates <= after_checkpoint
    figures(records_in=delivery.records_in, records_out=delivery.records_out, duplicates=delivery.duplicates,
            written_after_restored_checkpoint=after_checkpoint, restarts=cluster.failures(job_id),
            restored_checkpoint=restored["id"], kill_after_checkpoint_seconds=round((kill_ms - trigger_ms) / 1000, 1),
            recovery_seconds=round(recovery, 1))


def test_stop_with_savepoint_then_resume_continues_where_it_stopped(
        cluster: FlinkCluster, kinesis: LocalKinesis, client: Any, new_stream: Callable[..., str],
        submit: Callable[..., str], figures: Callable[..., Any]) -> None:
    source, sink = new_stream(shards=4, prefix="sp-in"), new_stream(shards=4, prefix="sp-out")
    first = numbered("sp", keys=50, count=2_000)
    put_parallel(kinesis.client, source, first)
    job_id = submit(kinesis.endpoint, source, sink, "--start", "earliest")
    tail = StreamTail(client, sink)
    wait_until(lambda: tail.poll() >= 500, 300, "500 records out")
    savepoint = cluster.savepoint(job_id, stop=True)  # mid-stream: part of the first batch is not read yet
    assert cluster.job(job_id)["state"] == "FINISHED"
    out_at_stop = tail.poll()

    second = numbered("sp", keys=50, count=1_000, first=2_000)
    put_parallel(kinesis.client, source, second)
    started = time.monotonic()
    resumed = submit(kinesis.endpoint, source, sink, "--start", "earliest", from_savepoint=savepoint)
    assert cluster.checkpoints(resumed)["latest"]["restored"]["external_path"] == savepoint
    tail.poll_until({d for _, d in first + second}, timeout=300)
    resume_seconds = time.monotonic() - started

    delivery = analyse(first + second, tail.records)
    check_complete(delivery)
    # A stop with a savepoint flushes the sink and keeps every shard position: nothing is read twice, and the
    # startup position (earliest) is not applied again.
    assert delivery.duplicates == 0, f"{delivery.duplicates} records read twice"
    figures(records_in=delivery.records_in, records_out=delivery.records_out, duplicates=delivery.duplicates,
            out_at_stop=out_at_stop, restarts=cluster.failures(resumed), resume_seconds=round(resume_seconds, 1))


def persisted(local: LocalKinesis, stream: str, records: int) -> Optional[bytes]:
    """kinesis-local's data file if it is complete JSON holding at least ``records`` records of ``stream``."""
    data = Path(str(local.persist_path)) / "kinesis-data.json"
    try:
        text = data.read_bytes()
        streams = json.loads(text)["streams"]
    except (OSError, ValueError, KeyError):
        return None
    held = sum(len(r) for arn, s in streams.items() if arn.endswith(f"/{stream}") for r in s["shards"].values())
    return text if held >= records else None


def stop_keeping_data(local: LocalKinesis, stream: str, records: int) -> None:
    """Stop kinesis-local so that it loads its streams again. It rewrites its data file in place every 100 ms,
    and a stop during a rewrite leaves the file empty (it then fails to start: NoSuchElementException). Nothing
    writes to it at this point (the job only reads), so a complete copy taken just before the stop holds the
    same data and is put back if needed."""
    copy = wait_until(lambda: persisted(local, stream, records), 30, f"{records} records of {stream} persisted")
    local.stop()
    if persisted(local, stream, records) is None:
        (Path(str(local.persist_path)) / "kinesis-data.json").write_bytes(copy)


def test_local_kinesis_restarted_mid_stream_the_job_recovers(
        cluster: FlinkCluster, kinesis: LocalKinesis, client: Any, new_stream: Callable[..., str], tmp_path: Path,
        submit: Callable[..., str], figures: Callable[..., Any]) -> None:
    # The job reads from a local Kinesis that persists its streams and is restarted while the job reads it.
    # The output goes to the session's local Kinesis: kinesis-local restarted while it was being written lost
    # acknowledged records or could not load its own file ("NoSuchElementException"), which real Kinesis never
    # does; an endpoint gone mid-write is covered by test_network_faults_... (connections dropped).
    source_kinesis = LocalKinesis(persist_path=str(tmp_path / "kinesis")).start()
    try:
        source, sink = "restart-in", new_stream(shards=4, prefix="restart-out")
        create_stream(source_kinesis.client(), source, 4)
        job_id = submit(source_kinesis.endpoint, source, sink, "--output-endpoint", kinesis.endpoint)
        first, second = numbered("rs", keys=50, count=1_500), numbered("rs", keys=50, count=1_500, first=1_500)
        put_parallel(source_kinesis.client, source, first)
        tail = StreamTail(client, sink)
        wait_until(lambda: tail.poll() >= 300, 300, "300 records out")

        out_at_stop = tail.poll()
        stop_keeping_data(source_kinesis, source, len(first))  # mid-stream: the job's reads now fail
        down_until = time.monotonic() + 10
        wait_until(lambda: time.monotonic() >= down_until, 20, "10 s with the local Kinesis down")
        source_kinesis = LocalKinesis(port=source_kinesis.port, tls_port=source_kinesis.tls_port,
                                      persist_path=source_kinesis.persist_path).start()
        wait_for_stream(source_kinesis.client(), source)
        started = time.monotonic()
        put_parallel(source_kinesis.client, source, second)
        tail.poll_until({d for _, d in first + second}, timeout=400)
        recovery = time.monotonic() - started
        assert cluster.job(job_id)["state"] == "RUNNING"

        delivery = analyse(first + second, tail.records)
        check_complete(delivery)
        figures(records_in=delivery.records_in, records_out=delivery.records_out, duplicates=delivery.duplicates,
                out_at_stop=out_at_stop, restarts=cluster.failures(job_id), recovery_seconds=round(recovery, 1))
    finally:
        source_kinesis.stop()


def test_network_faults_between_the_job_and_kinesis_nothing_lost(
        cluster: FlinkCluster, kinesis: LocalKinesis, client: Any, new_stream: Callable[..., str],
        submit: Callable[..., str], figures: Callable[..., Any]) -> None:
    source, sink = new_stream(shards=4, prefix="net-in"), new_stream(shards=4, prefix="net-out")
    written = numbered("net", keys=50, count=3_000)
    with FaultProxy(kinesis.port, seed=7, partial=0.1, throttle=0.08, error500=0.03, drop_before=0.03,
                    drop_after=0.03, delay=0.05, max_lifetime=900, read_operations=("GetRecords",)) as proxy:
        job_id = submit(proxy.endpoint, source, sink, "--batch-size", "50", "--http1")  # more calls, more faults
        started = time.monotonic()
        put_parallel(kinesis.client, source, written)
        tail = StreamTail(client, sink)
        tail.poll_until({d for _, d in written}, timeout=400)
        seconds = time.monotonic() - started
        assert cluster.job(job_id)["state"] == "RUNNING"
    delivery = analyse(written, tail.records)
    check_complete(delivery)
    assert sum(proxy.faults.values()) >= 5 and sum(proxy.read_faults.values()) >= 5, (proxy.faults, proxy.read_faults)
    figures(records_in=delivery.records_in, records_out=delivery.records_out, duplicates=delivery.duplicates,
            restarts=cluster.failures(job_id), put_faults=sum(proxy.faults.values()),
            read_faults=sum(proxy.read_faults.values()), seconds=round(seconds, 1))


def test_shard_split_then_merge_at_parallelism_2_keeps_every_record_and_per_key_order(
        cluster: FlinkCluster, kinesis: LocalKinesis, client: Any, new_stream: Callable[..., str],
        submit: Callable[..., str], figures: Callable[..., Any]) -> None:
    source, sink = new_stream(shards=2, prefix="reshard-in"), new_stream(shards=2, prefix="reshard-out")
    # Keyed before the sink and one request in flight, so the output shows the order the job kept.
    job_id = submit(kinesis.endpoint, source, sink, "--key-by", "--max-inflight", "1")
    phases: List[List[Tuple[str, bytes]]] = [numbered("rh", keys=40, count=800, first=800 * i) for i in range(3)]
    tail = StreamTail(client, sink)

    def write(records: List[Tuple[str, bytes]]) -> None:  # one writer: per-key input order is the write order
        put_all(client, source, [{"PartitionKey": k, "Data": d} for k, d in records])

    write(phases[0])
    wait_until(lambda: tail.poll() >= 200, 300, "200 records out")
    parent = client.list_shards(StreamName=source)["Shards"][0]
    low, high = int(parent["HashKeyRange"]["StartingHashKey"]), int(parent["HashKeyRange"]["EndingHashKey"])
    client.split_shard(StreamName=source, ShardToSplit=parent["ShardId"], NewStartingHashKey=str((low + high) // 2))
    wait_for_stream(client, source)
    write(phases[1])
    open_shards = sorted((s for s in client.list_shards(StreamName=source)["Shards"]
                          if "EndingSequenceNumber" not in s["SequenceNumberRange"]),
                         key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
    children = [s for s in open_shards if s.get("ParentShardId") == parent["ShardId"]]
    assert len(children) == 2
    client.merge_shards(StreamName=source, ShardToMerge=children[0]["ShardId"],
                        AdjacentShardToMerge=children[1]["ShardId"])
    wait_for_stream(client, source)
    write(phases[2])
    written = [r for phase in phases for r in phase]
    tail.poll_until({d for _, d in written}, timeout=400)

    delivery = analyse(written, tail.records)
    check_complete(delivery)
    assert not delivery.out_of_order, f"per-key order broken for keys {sorted(set(delivery.out_of_order))[:10]}"
    shards = client.list_shards(StreamName=source)["Shards"]
    assert len(shards) == 5  # 2 + 2 children of the split + 1 of the merge: every one was read
    job_restarts = cluster.failures(job_id)
    assert delivery.duplicates == 0 or job_restarts > 0  # without a failure, every record exactly once
    figures(records_in=delivery.records_in, records_out=delivery.records_out, duplicates=delivery.duplicates,
            restarts=job_restarts, shards=len(shards), failure=cluster.job_exception(job_id).split("\n")[0][:200])
