"""Shard-aware aggregation for WriteToKinesis (``sink.aggregation.enabled``), as the KPL does it.

User records bound for one shard (by the stream's shard map from ListShards: the shard whose hash key range
holds the record's explicit hash key or the MD5 of its partition key) are packed into one Kinesis record in the
KPL format (:class:`~.aggregation.AggregateBuilder`), at most ``max_count`` user records and ``max_size`` bytes.
The aggregate's explicit hash key is its first user record's hash key, so it lands on that shard; each user
record keeps its own keys inside. A user record that does not fit an aggregate alone, and an aggregate of a
single user record, go as plain records.

A resharding shows in the answers: when an aggregate lands in another shard than predicted, the shard map is
listed again; its user records whose hash key that shard does not hold are written again (to the shard they
hash to now), as the KPL does. Their first copies stay in the shard the aggregate landed in: the KCL and this
project's readers drop user records outside the shard's hash key range when they de-aggregate, other readers
see them twice.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from pyflink_kinesis.spec.records import EgressRecord
from pyflink_kinesis.spec.shard_limits import ShardRange, ShardRanges, hash_key_of

from .aggregation import AggregateBuilder
from .retry import RetryPolicy
from .shards import shard_ranges
from .write_results import KinesisFailedRecord, KinesisWriteResult

Pending = Tuple[EgressRecord, Any]  # a record and its context (the element's timestamp and window)


def record_hash(record: EgressRecord) -> int:
    """The hash key Kinesis places ``record`` by."""
    return hash_key_of(record.partition_key, record.explicit_hash_key)


class Packed(NamedTuple):
    """The context of an aggregate in the batch writer: the shard it was meant for and its user records."""

    shard_id: str
    users: Tuple[Pending, ...]


class ShardMaps:
    """The writer's shard map of each stream, listed on first use and again on demand (thread safe)."""

    def __init__(self, client: Any, policy: RetryPolicy) -> None:
        self._client = client
        self._policy = policy
        self._maps: Dict[str, ShardRanges] = {}
        self._lock = threading.Lock()
        self.refreshes = 0

    def ranges(self, stream: str, refresh: bool = False) -> ShardRanges:
        """The open shards of ``stream``; ``refresh`` lists them again."""
        with self._lock:
            found = self._maps.get(stream)
            if found is None or refresh:
                found = self._maps[stream] = shard_ranges(self._client, stream, self._policy)
                self.refreshes += 1
            return found

    def predict(self, record: EgressRecord) -> ShardRange:
        """The open shard ``record`` goes to (the map is listed again when it knows none)."""
        hash_key = record_hash(record)
        found = self.ranges(record.stream).find(hash_key) or self.ranges(record.stream, refresh=True).find(hash_key)
        if found is None:
            raise RuntimeError(f"stream '{record.stream}' lists no open shard for hash key {hash_key}")
        return found

    def shard(self, stream: str, shard_id: str) -> Optional[ShardRange]:
        """The open shard ``shard_id`` (listing the map again if it is not in it), or ``None``."""
        return self.ranges(stream).get(shard_id) or self.ranges(stream, refresh=True).get(shard_id)


class _Open:
    __slots__ = ("builder", "users", "shard_id")

    def __init__(self, shard_id: str) -> None:
        self.builder = AggregateBuilder()
        self.users: List[Pending] = []
        self.shard_id = shard_id


class Aggregator:
    """Packs user records per (stream, predicted shard) into aggregates (thread safe).

    Args:
        maps: The streams' shard maps.
        max_count: User records per aggregate at most.
        max_size: Bytes of an aggregate's data at most.
    """

    def __init__(self, maps: ShardMaps, max_count: int, max_size: int) -> None:
        self.maps = maps
        self.max_count = max_count
        self.max_size = max_size
        self._open: Dict[Tuple[str, str], _Open] = {}
        self._lock = threading.Lock()
        self.resent = 0  # user records written again after their aggregate landed in another shard

    def add(self, record: EgressRecord, context: Any) -> List[Pending]:
        """Take one user record; the Kinesis records now ready to send (aggregates filled up, or it alone)."""
        if AggregateBuilder().size_with(record.partition_key, record.explicit_hash_key, record.data) > self.max_size:
            return [(record, context)]  # larger than an aggregate: alone, as a plain record
        shard = self.maps.predict(record)
        key = (record.stream, shard.shard_id)
        ready: List[Pending] = []
        with self._lock:
            current = self._open.get(key)
            if current is not None and current.builder.size_with(
                    record.partition_key, record.explicit_hash_key, record.data) > self.max_size:
                ready.append(self._seal(key))
                current = None
            if current is None:
                current = self._open[key] = _Open(shard.shard_id)
            current.builder.add(record.partition_key, record.explicit_hash_key, record.data)
            current.users.append((record, context))
            if current.builder.count >= self.max_count:
                ready.append(self._seal(key))
        return ready

    @property
    def pending(self) -> int:
        """User records in open aggregates."""
        with self._lock:
            return sum(len(o.users) for o in self._open.values())

    def flush(self) -> List[Pending]:
        """Every open aggregate, ready to send."""
        with self._lock:
            return [self._seal(key) for key in list(self._open)]

    def _seal(self, key: Tuple[str, str]) -> Pending:
        current = self._open.pop(key)
        if len(current.users) == 1:
            return current.users[0]  # one user record: plain, with its own keys
        first = current.users[0][0]
        record = EgressRecord(current.builder.encode(), first.stream, first.partition_key, str(record_hash(first)))
        return record, Packed(current.shard_id, tuple(current.users))

    def written(self, result: KinesisWriteResult, context: Any) -> Tuple[List[Tuple[KinesisWriteResult, Any]],
                                                                          List[Pending]]:
        """The user records' results of a written Kinesis record, and the user records to write again."""
        if not isinstance(context, Packed):
            return [(result, context)], []
        elsewhere = result.shard_id != context.shard_id  # a resharding the map did not know yet
        actual = self.maps.shard(result.stream, result.shard_id) if elsewhere else None
        done: List[Tuple[KinesisWriteResult, Any]] = []
        again: List[Pending] = []
        for index, (user, user_context) in enumerate(context.users):
            if elsewhere and (actual is None or not actual.holds(record_hash(user))):
                again.append((user, user_context))
                continue
            done.append((KinesisWriteResult(result.stream, user.partition_key, user.explicit_hash_key, result.shard_id,
                                            result.sequence_number, result.attempts, index), user_context))
        with self._lock:
            self.resent += len(again)
        return done, again

    @staticmethod
    def failed(failure: KinesisFailedRecord, context: Any) -> List[Tuple[KinesisFailedRecord, Any]]:
        """The user records' failures of a Kinesis record that was not written."""
        if not isinstance(context, Packed):
            return [(failure, context)]
        return [(failure._replace(record=user), user_context) for user, user_context in context.users]


__all__ = ["Aggregator", "Packed", "ShardMaps", "record_hash"]
