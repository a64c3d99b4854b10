"""Kinesis calls of the reader: listing shards and a per-shard rate limit (retries: :mod:`.retry`)."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from pyflink_kinesis.spec.position import KinesisIngressStartupPosition
from pyflink_kinesis.spec.shard_limits import ShardRanges

from .restriction import AT_TIMESTAMP, ShardInfo
from .retry import NOT_FOUND, KinesisReadError, RetryPolicy, call, error_code

GET_RECORDS_PER_SECOND = 5  # the Kinesis limit per shard


class RateLimiter:
    """Spaces calls per key (a shard) at least ``interval`` seconds apart.

    Args:
        interval: The least time between two calls for one key (0.2 s keeps GetRecords within 5 per second).
        clock: A monotonic clock.
    """

    def __init__(
        self, interval: float = 1.0 / GET_RECORDS_PER_SECOND, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._next: Dict[Any, float] = {}

    def ready_at(self, key: Any) -> float:
        """The clock time from which ``key`` may be called."""
        return self._next.get(key, 0.0)

    def defer(self, key: Any, seconds: float) -> None:
        """Hold ``key`` back for at least ``seconds`` from now (e.g. after an empty read)."""
        self._next[key] = max(self._next.get(key, 0.0), self.clock() + seconds)

    def acquire(self, key: Any, sleep: Callable[[float], None] = time.sleep) -> None:
        """Wait until ``key`` may be called, then record the call."""
        wait = self.ready_at(key) - self.clock()
        if wait > 0:
            sleep(wait)
        self._next[key] = self.clock() + self.interval


def list_shards(client: Any, stream: str, policy: RetryPolicy,
                closed: Optional[Set[str]] = None) -> List[ShardInfo]:
    """Every shard of ``stream`` (open and closed, within retention), following ListShards pagination.

    Args:
        client: The boto3 Kinesis client.
        stream: The stream's name.
        policy: Retries of each ListShards call.
        closed: If given, the ids of closed shards (those with an ``EndingSequenceNumber``) are added to it.
    """
    out: List[ShardInfo] = []
    try:
        # The whole listing is the retried call: an expired NextToken (transient) starts it again.
        shards = call(policy, f"ListShards stream {stream}", _all_pages, client=client, stream=stream)
    except Exception as e:  # noqa: BLE001
        if error_code(e) == NOT_FOUND:
            raise KinesisReadError(f"stream {stream} does not exist (ListShards: {e})") from e
        raise
    for shard in shards:
        parents: Tuple[str, ...] = tuple(
            p for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")) if p
        )
        out.append(ShardInfo(shard["ShardId"], parents, hash_range(shard)))
        if closed is not None and shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber"):
            closed.add(shard["ShardId"])
    return out


def shard_ranges(client: Any, stream: str, policy: RetryPolicy) -> ShardRanges:
    """The open shards of ``stream`` by hash key range (a writer's shard map), from ListShards with retries."""
    return ShardRanges(call(policy, f"ListShards stream {stream}", _all_pages, client=client, stream=stream,
                            give_up=None))


def _all_pages(client: Any, stream: str) -> List[Dict[str, Any]]:
    """The shards of every ListShards page; with a NextToken the request names only the token."""
    shards: List[Dict[str, Any]] = []
    kwargs: Dict[str, Any] = {"StreamName": stream}
    while True:
        response = client.list_shards(**kwargs)
        shards.extend(response.get("Shards", []))
        token = response.get("NextToken")
        if not token:
            return shards
        kwargs = {"NextToken": token}


def start_floor_micros(position: KinesisIngressStartupPosition) -> Optional[int]:
    """The start timestamp (microseconds) of an ``AT_TIMESTAMP`` read, ``None`` for other positions.

    No record that arrived before it is emitted, from any shard: the service refuses a future timestamp
    (the reader then starts at LATEST, where records that arrived before it still follow), some emulators
    accept one and return older records, and shards created by a split before that time start at
    TRIM_HORIZON.
    """
    if position.iterator_type != AT_TIMESTAMP or position.date is None:
        return None
    return int(round(position.date.timestamp() * 1_000_000))


def hash_range(shard: Dict[str, Any]) -> Optional[Tuple[int, int]]:
    """The (first, last) hash key of a shard as ListShards or ChildShards describe it, if given."""
    keys = shard.get("HashKeyRange")
    if not keys:
        return None
    return int(keys["StartingHashKey"]), int(keys["EndingHashKey"])


def child_shards(response: Dict[str, Any]) -> Tuple[ShardInfo, ...]:
    """The ``ChildShards`` of a GetRecords answer at a shard's end."""
    return tuple(
        ShardInfo(child["ShardId"], tuple(child.get("ParentShards", ())), hash_range(child))
        for child in response.get("ChildShards") or ()
    )


__all__ = [
    "KinesisReadError",
    "RateLimiter",
    "child_shards",
    "hash_range",
    "list_shards",
    "shard_ranges",
    "start_floor_micros",
]
