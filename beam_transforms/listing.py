"""Shard listings (and stream creation times) shared by the restrictions a worker process reads: one ListShards
(and one DescribeStreamSummary) per stream per interval.

Every restriction of a stream looks for new shards every ``shard_discovery_interval`` (and lists the stream
when a shard ends without naming its children). Without sharing, the ListShards calls of a worker grow with
the restrictions it reads, against a per-stream rate limit of the service. :data:`SHARED` is one cache per
process, keyed by the client's configuration (endpoint, region, credentials: a digest, never the secrets
themselves) and the stream; a listing younger than the asker's ``max_age`` is reused, and concurrent askers
of one stream wait for one call rather than making one each. Thread-safe.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Set, Tuple

from .positions import ShardInfo
from .retry import NOT_FOUND, KinesisReadError, RetryPolicy, call, error_code
from .shards import list_shards


@dataclass(frozen=True)
class Listing:
    """One ListShards answer (every page) of a stream.

    Attributes:
        shards: Every shard listed, with its parents.
        closed: The ids of the closed shards among them.
        started: When the listing started (``time.monotonic()``).
    """

    shards: Tuple[ShardInfo, ...]
    closed: FrozenSet[str]
    started: float

    def ids(self) -> Set[str]:
        """The ids of the shards listed."""
        return {s.shard_id for s in self.shards}


@dataclass(frozen=True)
class Creation:
    """When a stream was created (``StreamCreationTimestamp``, epoch seconds), and when that was asked."""

    created: float
    started: float


class SharedListings:
    """The latest listing (or :class:`Creation`: anything with a ``started`` time) per key, and a lock per key so
    that one call serves everyone waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Dict[Any, Any] = {}
        self._locks: Dict[Any, threading.Lock] = {}

    def get(self, key: Any, fetch: Callable[[], Any], max_age: float) -> Any:
        """The latest listing of ``key`` if it started at most ``max_age`` seconds ago, else ``fetch()``'s.

        With ``max_age`` 0 only a listing that started after this call reuses (one made while it waited).
        """
        asked = time.monotonic()
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            latest = self._latest.get(key)
            if latest is not None and latest.started >= asked - max_age:
                return latest
            listing = fetch()
            with self._lock:
                self._latest[key] = listing
            return listing

    def clear(self) -> None:
        """Forget every listing (tests that reuse a stream name with another client's answers)."""
        with self._lock:
            self._latest.clear()


SHARED = SharedListings()


def client_key(aws_properties: Dict[str, str]) -> str:
    """A digest of what decides which service and account a client reaches (endpoint, region, credentials)."""
    return hashlib.sha256(repr(sorted(aws_properties.items())).encode()).hexdigest()


def shared_listing(client: Any, key: str, stream: str, policy: RetryPolicy, max_age: float) -> Listing:
    """The listing of ``stream`` through :data:`SHARED`: at most ``max_age`` seconds old.

    Args:
        client: The boto3 Kinesis client, for a new listing.
        key: :func:`client_key` of the client's configuration.
        stream: The stream's name.
        policy: Retries of each ListShards call.
        max_age: Seconds a listing may have started before this call (0: a new one).

    Raises:
        KinesisReadError: The stream does not exist (naming it), or the calls kept failing.
    """

    def fetch() -> Listing:
        started = time.monotonic()
        closed: Set[str] = set()
        shards = list_shards(client, stream, policy, closed)
        return Listing(tuple(shards), frozenset(closed), started)

    return SHARED.get((key, stream), fetch, max_age)


def stream_created(client: Any, key: str, stream: str, policy: RetryPolicy, max_age: float) -> float:
    """When ``stream`` was created (epoch seconds; DescribeStreamSummary), as asked at most ``max_age`` seconds ago
    by this process. A stream deleted and created again under its name has another creation time.

    Raises:
        KinesisReadError: The stream does not exist (naming it), or the calls kept failing.
    """

    def fetch() -> Creation:
        started = time.monotonic()
        try:
            summary = call(policy, f"DescribeStreamSummary stream {stream}", client.describe_stream_summary,
                           StreamName=stream)
        except Exception as e:  # noqa: BLE001
            if error_code(e) == NOT_FOUND:
                raise KinesisReadError(f"stream {stream} does not exist (DescribeStreamSummary: {e})") from e
            raise
        return Creation(summary["StreamDescriptionSummary"]["StreamCreationTimestamp"].timestamp(), started)

    return float(SHARED.get(("created", key, stream), fetch, max_age).created)


__all__ = ["SHARED", "Creation", "Listing", "SharedListings", "client_key", "shared_listing", "stream_created"]
