"""Helpers of the parallel-read tests: a collector that works across worker processes, keyed records, checks.

Workers of a multi-process DirectRunner (and Prism's SDK harness) are not the test process, so the
collector appends one JSON line per record to ``<folder>/<pid>.jsonl``: the worker's pid, the
emit time, and the record's payload (base64), partition key, shard and sequence numbers.
"""

from __future__ import annotations

import base64
import json
import os
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import apache_beam as beam

from pyflink_kinesis import IngressRecord
from pyflink_kinesis.testing import wait_until


class CollectToFiles(beam.DoFn):
    """Appends each IngressRecord, with this worker's pid and the emit time, to ``<folder>/<pid>.jsonl``."""

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder
        self._file: Any = None

    def setup(self) -> None:
        self._file = open(os.path.join(self.folder, f"{os.getpid()}.jsonl"), "a", encoding="utf-8")

    def process(self, record: IngressRecord) -> Iterator[Any]:
        assert isinstance(record, IngressRecord), type(record)
        line = {"pid": os.getpid(), "t": time.time(), "data": base64.b64encode(record.data).decode(),
                "key": record.partition_key, "shard": record.shard_id, "seq": record.sequence_number,
                "sub": record.sub_sequence_number}
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()
        return iter(())

    def teardown(self) -> None:
        if self._file is not None:
            self._file.close()


def collected(folder: Path) -> List[Dict[str, Any]]:
    """Every line the collectors wrote, in emit-time order, with ``data`` decoded back to bytes."""
    lines = []
    for path in folder.glob("*.jsonl"):
        for text in path.read_text(encoding="utf-8").splitlines():
            if text.strip():
                line = json.loads(text)
                line["data"] = base64.b64decode(line["data"])
                lines.append(line)
    return sorted(lines, key=lambda line: line["t"])


def payload(key: str, counter: int, rng: random.Random) -> bytes:
    """``key:counter:`` then random binary bytes (any byte value), so byte-for-byte checks mean something."""
    return f"{key}:{counter}:".encode() + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))


class KeyedWriter:
    """Writes numbered records per partition key (optionally pinned to a hash key), remembering each payload."""

    def __init__(self, client: Any, stream: str, seed: int = 7) -> None:
        self.client = client
        self.stream = stream
        self.rng = random.Random(seed)
        self.counters: Dict[str, int] = defaultdict(int)
        self.written: Dict[bytes, str] = {}  # payload -> partition key

    def put(self, keys: List[Tuple[str, Optional[str]]], n: int) -> None:
        """Write ``n`` records round-robin over ``keys`` (``(partition key, explicit hash key or None)``)."""
        entries = []
        for i in range(n):
            key, hash_key = keys[i % len(keys)]
            data = payload(key, self.counters[key], self.rng)
            self.counters[key] += 1
            self.written[data] = key
            entry = {"PartitionKey": key, "Data": data}
            if hash_key is not None:
                entry["ExplicitHashKey"] = hash_key
            entries.append(entry)
        for i in range(0, len(entries), 500):
            response = self.client.put_records(StreamName=self.stream, Records=entries[i:i + 500])
            assert response.get("FailedRecordCount", 0) == 0


def check_exactly_once(lines: List[Dict[str, Any]], writer: KeyedWriter) -> None:
    """Each written payload was read exactly once, byte for byte, with its partition key."""
    read = [line["data"] for line in lines]
    assert len(read) == len(set(read)), "a record was read twice"
    missing = sorted(set(writer.written) - set(read))
    assert not missing, f"{len(missing)} records missing, e.g. {missing[:5]}"
    assert set(read) <= set(writer.written), "records read that were never written"
    for line in lines:
        assert writer.written[line["data"]] == line["key"]


def check_key_order(lines: List[Dict[str, Any]], keys: List[str]) -> None:
    """Records of each of ``keys`` came out in the order they were written."""
    seen: Dict[str, List[int]] = defaultdict(list)
    for line in lines:
        if line["key"] in keys:
            seen[line["key"]].append(int(line["data"].split(b":")[1]))
    for key in keys:
        assert seen[key] == sorted(seen[key]), f"key {key} out of order: {seen[key]}"


def hash_keys_in(shard: Dict[str, Any], n: int) -> List[str]:
    """``n`` explicit hash keys spread inside a shard's hash key range."""
    low, high = int(shard["HashKeyRange"]["StartingHashKey"]), int(shard["HashKeyRange"]["EndingHashKey"])
    return [str(low + (high - low) * (i + 1) // (n + 1)) for i in range(n)]


class Resharding:
    """An 8-shard stream's keys pinned by hash key so that a split (shard 0) and a merge (shards 3 and 4) matter.

    ``everything`` are the (partition key, explicit hash key) pairs to write; :meth:`run` splits and merges,
    waiting for ACTIVE; :meth:`ordered_keys` are the keys whose order must hold within a restriction: the split
    shard's (its children stay in its lineage), the merge's ``ParentShardId`` side's and the untouched shards'.
    """

    def __init__(self, client: Any, stream: str) -> None:
        self.client = client
        self.stream = stream
        shards = client.list_shards(StreamName=stream)["Shards"]
        self.to_split, self.merge_a, self.merge_b = shards[0], shards[3], shards[4]  # 3 and 4 are adjacent
        self.split_keys = [(f"split-{i}", h) for i, h in enumerate(hash_keys_in(self.to_split, 6))]
        self.parent_keys = [(f"merge-a-{i}", h) for i, h in enumerate(hash_keys_in(self.merge_a, 4))]
        self.adjacent_keys = [(f"merge-b-{i}", h) for i, h in enumerate(hash_keys_in(self.merge_b, 4))]
        self.other_keys = [(f"other-{i}-{k}", h) for i in (1, 2, 5, 6, 7)
                           for k, h in enumerate(hash_keys_in(shards[i], 3))]
        self.everything = self.split_keys + self.parent_keys + self.adjacent_keys + self.other_keys

    def run(self) -> None:
        """Split shard 0 in the middle, then merge shards 3 and 4."""
        low = int(self.to_split["HashKeyRange"]["StartingHashKey"])
        high = int(self.to_split["HashKeyRange"]["EndingHashKey"])
        self.client.split_shard(StreamName=self.stream, ShardToSplit=self.to_split["ShardId"],
                                NewStartingHashKey=str((low + high) // 2))
        self._wait_active()
        self.client.merge_shards(StreamName=self.stream, ShardToMerge=self.merge_a["ShardId"],
                                 AdjacentShardToMerge=self.merge_b["ShardId"])
        self._wait_active()

    def merged_child(self) -> Dict[str, Any]:
        """The shard the merge made (ListShards)."""
        merged = [s for s in self.client.list_shards(StreamName=self.stream)["Shards"] if s.get("AdjacentParentShardId")]
        assert len(merged) == 1, merged
        return merged[0]

    def ordered_keys(self) -> List[str]:
        parent_side = self.parent_keys if self.merged_child()["ParentShardId"] == self.merge_a["ShardId"] \
            else self.adjacent_keys
        return [k for k, _ in self.split_keys + parent_side + self.other_keys]

    def _wait_active(self) -> None:
        wait_until(lambda: self.client.describe_stream_summary(StreamName=self.stream)["StreamDescriptionSummary"]
                   ["StreamStatus"] == "ACTIVE", 60, "the stream to be ACTIVE")
