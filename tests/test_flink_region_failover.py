"""Region failover of the Flink source on a real MiniCluster against kinesis-local: when only the region reading
a merge parent restarts after the merged child went to the other reader, the parent is not read again.

The job (``region_failover`` in tests/flink_jobs.py) reads a 3-shard stream at parallelism 2 with nothing that
shuffles between source and sink, so each reader's pipeline is a failover region of its own
(``jobmanager.execution.failover-strategy: region``). Its map raises once, in its first attempt, on a record the
test writes when it wants that region to fail. Checkpoints come only when the test triggers them.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List

import pytest

pytest.importorskip("pyflink")

from pyflink_kinesis.local import LocalKinesis, create_stream  # noqa: E402
from pyflink_kinesis.testing import put_all, read_stream, wait_until  # noqa: E402
from pyflink_kinesis.testing.flink_child import FlinkChild  # noqa: E402
from pyflink_kinesis.flink.jar import connector_jar  # noqa: E402
from tests.flink_support import JOBS_SCRIPT  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.flink]
DEADLINE = 240.0  # seconds for a job to start and move what it was given, on a loaded 2-core machine
GRACE = 20.0  # seconds children may take to come out without a checkpoint (see the test's docstring)
TRIGGER = "fail-here"


class KeyedWrites:
    """Numbered records per partition key, each key pinned to a hash key (so to a shard)."""

    def __init__(self, client: Any, stream: str, hash_keys: Dict[str, int]) -> None:
        self.client, self.stream, self.hash_keys = client, stream, hash_keys
        self.counts: Dict[str, int] = defaultdict(int)

    def phase(self, name: str, keys: List[str], rounds: int) -> List[bytes]:
        entries = []
        for _ in range(rounds):
            for key in keys:
                self.counts[key] += 1
                entries.append({"Data": f"{key}:{self.counts[key]}:{name}".encode(), "PartitionKey": key,
                                "ExplicitHashKey": str(self.hash_keys[key])})
        put_all(self.client, self.stream, entries)
        return [e["Data"] for e in entries]


def emissions(client: Any, stream: str) -> List[Dict[str, Any]]:
    """The job's observations in ``stream``, one per emit: a record the sink wrote twice (same body) counts once."""
    seen, out = set(), []
    for r in read_stream(client, stream):
        if r["Data"] not in seen:
            seen.add(r["Data"])
            body = json.loads(r["Data"])
            body["data"] = base64.b64decode(body["data"])
            out.append(body)
    return out


def phase_out(client: Any, stream: str, payloads: List[bytes]) -> bool:
    got = {e["data"] for e in emissions(client, stream)}
    return all(p in got for p in payloads)


def test_a_region_failover_after_a_merge_does_not_read_the_parent_again(kinesis: LocalKinesis,
                                                                         tmp_path: Path) -> None:
    """Shards s0 and s2 go to reader 0, s1 to reader 1; s1 and s2 are merged into m, which goes to reader 1.
    After m's records came out, reader 0's region fails once and restarts from its last checkpoint.

    Records of s2 written after a checkpoint are read before the merge; without the rule that a reader reports
    a shard's end only once a checkpoint holding it completed, m is handed out at once, its records come out
    within GRACE, the region fails before any checkpoint holds s2's end and reads those records again, after
    m's. With the rule, no child record can come out before a checkpoint, so after GRACE the test triggers
    checkpoints until m's records come out (GRACE only decides how surely a broken rule is caught).
    """
    connector_jar()  # the jar for this PyFlink, or ConnectorJarMissing saying how to build it
    client = kinesis.client()
    prefix = f"failover-{os.getpid()}-{int(time.time() * 1000) % 100000}"
    source, out = f"{prefix}-in", f"{prefix}-out"
    create_stream(client, source, 3)
    create_stream(client, out, 1)
    s0, s1, s2 = sorted(client.list_shards(StreamName=source)["Shards"], key=lambda s: s["ShardId"])
    start = {name: int(s["HashKeyRange"]["StartingHashKey"]) for name, s in (("s0", s0), ("s1", s1), ("s2", s2))}
    hash_keys = {"a0": start["s2"] + 1, "a1": start["s2"] + 2, "b0": start["s1"] + 1, "b1": start["s1"] + 2,
                 "c0": start["s0"] + 1, TRIGGER: start["s0"] + 2}
    writes = KeyedWrites(client, source, hash_keys)
    parents_keys, all_keys = ["a0", "a1", "b0", "b1"], ["a0", "a1", "b0", "b1", "c0"]
    config = {"restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "3",
              "restart-strategy.fixed-delay.delay": "1 s", "jobmanager.execution.failover-strategy": "region"}
    try:
        with FlinkChild(JOBS_SCRIPT, tmp_path / "child.log", lifetime=900) as flink:
            flink.start("region_failover", {"endpoint": kinesis.endpoint, "in": source, "out": out,
                                            "trigger": TRIGGER}, config)
            before = writes.phase("before", all_keys, 3)
            flink.wait_until(lambda: phase_out(client, out, before), DEADLINE, "the first records")
            flink.call(cmd="checkpoint")
            after = writes.phase("after", all_keys, 3)
            flink.wait_until(lambda: phase_out(client, out, after), DEADLINE, "the records after the checkpoint")
            client.merge_shards(StreamName=source, ShardToMerge=s1["ShardId"], AdjacentShardToMerge=s2["ShardId"])
            wait_until(lambda: client.describe_stream_summary(StreamName=source)["StreamDescriptionSummary"]
                       ["StreamStatus"] == "ACTIVE", 60, "the merge")
            merged = writes.phase("merged", parents_keys, 3)
            grace_ends = time.monotonic() + GRACE

            def children_out() -> bool:
                if phase_out(client, out, merged):
                    return True
                if time.monotonic() > grace_ends:
                    flink.call(cmd="checkpoint")
                return False

            flink.wait_until(children_out, DEADLINE, "the merged shard's records", interval=2)
            trigger = writes.phase("trigger", [TRIGGER], 1)
            resumed = writes.phase("resumed", all_keys, 3)
            flink.wait_until(lambda: phase_out(client, out, trigger + resumed), DEADLINE,
                       "the records after the failover", interval=2)
            assert flink.call(cmd="cancel")["status"] == "CANCELED"
        got = emissions(client, out)
    finally:
        for stream in (source, out):
            client.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
    _check(got, writes, [s["ShardId"] for s in (s0, s1, s2)])


def _check(got: List[Dict[str, Any]], writes: KeyedWrites, shards: List[str]) -> None:
    s0, _, s2 = shards
    by_phase: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for e in got:
        by_phase[e["data"].decode().split(":")[2]].append(e)
    reader0 = {e["subtask"] for e in by_phase["after"] if e["shard"] == s2}
    assert len(reader0) == 1 and reader0 == {e["subtask"] for e in by_phase["after"] if e["shard"] == s0}
    failed = by_phase["trigger"][0]
    assert failed["attempt"] >= 1 and {failed["subtask"]} == reader0, "the parent's region failed over"
    children = [e for e in got if e["shard"] not in shards]
    assert children, "records of the merged shard"
    assert {e["subtask"] for e in children}.isdisjoint(reader0), "the merged shard went to the other reader"
    assert {e["attempt"] for e in children} == {0}, "only the parent's region restarted"

    read_again = [data for data, n in Counter(e["data"] for e in got).items() if n > 1]
    parents_again = [e["shard"] for e in got if e["data"] in read_again and e["attempt"] > 0]
    assert not read_again, f"{len(read_again)} emitted again, from {set(parents_again)}: {read_again[:5]}"
    per_key: Dict[str, List[int]] = defaultdict(list)
    for e in sorted(got, key=lambda e: e["t"]):
        key, number, _ = e["data"].decode().split(":")
        per_key[key].append(int(number))
    assert dict(per_key) == {k: list(range(1, n + 1)) for k, n in writes.counts.items()}, "every record, in key order"
