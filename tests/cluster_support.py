"""Helpers of the cluster tests: numbered input records, parallel writers, an incremental reader of the output
stream, and the delivery analysis (lost, unexpected, duplicated, out of order) that each test reports."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from pyflink_kinesis.testing import put_all

# Test clusters: small processes, quick failure detection and restarts, every checkpoint kept in the REST history.
TEST_CLUSTER_CONFIG = {
    "restart-strategy.type": "fixed-delay",
    "restart-strategy.fixed-delay.attempts": 100,
    "restart-strategy.fixed-delay.delay": "2 s",
    "heartbeat.interval": 2000,
    "heartbeat.timeout": 20000,
    "web.checkpoints.history": 1000,
    "taskmanager.load-balance.mode": "SLOTS",  # parallelism 2 on 2 TaskManagers: one subtask on each
}


def numbered(prefix: str, keys: int, count: int, first: int = 0) -> List[Tuple[str, bytes]]:
    """``count`` records as (partition key, data): keys ``k0..k{keys-1}`` in turn, data ``prefix/key/n`` with n
    counting up per key from where ``first`` records of the same series left off."""
    out = []
    for i in range(first, first + count):
        key = f"k{i % keys}"
        out.append((key, f"{prefix}/{key}/{i // keys:07d}".encode()))
    return out


def put_parallel(make_client: Callable[[], Any], stream: str, records: List[Tuple[str, bytes]],
                 threads: int = 3) -> None:
    """Write ``records`` in PutRecords calls of 500 on ``threads`` threads (the local Kinesis is slow per call).
    Per-key order is kept only with ``threads=1``."""
    chunks = [records[i:i + 500] for i in range(0, len(records), 500)]
    local = threading.local()

    def put(chunk: List[Tuple[str, bytes]]) -> None:
        if not hasattr(local, "client"):
            local.client = make_client()
        put_all(local.client, stream, [{"PartitionKey": k, "Data": d} for k, d in chunk])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, chunks))


class StreamTail:
    """Reads a stream (whose shards do not change) incrementally from its start; :attr:`records` grows with
    each :meth:`poll` and keeps, per record, its data, partition key, shard and arrival time (epoch ms)."""

    def __init__(self, client: Any, stream: str) -> None:
        self.client = client
        self.stream = stream
        self.records: List[Dict[str, Any]] = []
        self._iterators: Dict[str, Optional[str]] = {}

    def poll(self) -> int:
        """Read what is new (bounded: one GetRecords per shard); returns the number of records read so far."""
        if not self._iterators:
            for shard in self.client.list_shards(StreamName=self.stream)["Shards"]:
                self._iterators[shard["ShardId"]] = self.client.get_shard_iterator(
                    StreamName=self.stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for shard_id, iterator in self._iterators.items():
            if iterator is None:
                continue
            response = self.client.get_records(ShardIterator=iterator, Limit=10000)
            for r in response["Records"]:
                self.records.append({"data": r["Data"], "key": r["PartitionKey"], "shard": shard_id,
                                     "arrival_ms": r["ApproximateArrivalTimestamp"].timestamp() * 1000})
            self._iterators[shard_id] = response.get("NextShardIterator")
        return len(self.records)

    def poll_until(self, expected: set, timeout: float) -> None:
        """Poll until every data in ``expected`` has arrived; fails with what is missing after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            missing = expected - {r["data"] for r in self.records}
            if not missing:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(missing)} of {len(expected)} records missing from {self.stream} after "
                                     f"{timeout:.0f} s, e.g. {sorted(missing)[:5]}")
            time.sleep(1.0)


@dataclass
class Delivery:
    """What arrived in the output, compared with what was written to the input."""

    records_in: int
    records_out: int
    lost: List[bytes] = field(default_factory=list)
    unexpected: List[bytes] = field(default_factory=list)
    duplicated: Dict[bytes, int] = field(default_factory=dict)  # data -> extra copies
    out_of_order: List[str] = field(default_factory=list)  # keys whose first copies are not in input order

    @property
    def duplicates(self) -> int:
        return sum(self.duplicated.values())


def analyse(written: List[Tuple[str, bytes]], output: List[Dict[str, Any]]) -> Delivery:
    """Compare ``written`` (key, data) with the ``output`` records of a :class:`StreamTail`. Order is judged per
    partition key on the first copy of each record, in output shard order (one key, one output shard)."""
    counts = Counter(r["data"] for r in output)
    sent = {d for _, d in written}
    delivery = Delivery(records_in=len(written), records_out=len(output),
                        lost=[d for _, d in written if d not in counts],
                        unexpected=[d for d in counts if d not in sent],
                        duplicated={d: c - 1 for d, c in counts.items() if c > 1})
    position = {d: i for i, (_, d) in enumerate(written)}
    seen: set = set()
    last: Dict[str, int] = defaultdict(lambda: -1)
    for r in output:
        if r["data"] in seen or r["data"] not in position:
            continue
        seen.add(r["data"])
        if position[r["data"]] < last[r["key"]]:
            delivery.out_of_order.append(r["key"])
        last[r["key"]] = max(last[r["key"]], position[r["data"]])
    return delivery
