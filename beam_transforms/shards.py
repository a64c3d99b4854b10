"""Kinesis calls of the reader: listing shards, retries (:mod:`.retry`), and a per-shard rate limit."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, TypeVar

from pyflink_kinesis.spec.position import KinesisIngressStartupPosition

from .restriction import AT_TIMESTAMP, ShardInfo
from .retry import DEFAULT_MAX_RETRY_TIME, Attempts, RetryPolicy, attempts_limit
from .retry import is_retryable_call_error as is_retryable

T = TypeVar("T")

EXPIRED_ITERATOR = "ExpiredIteratorException"
GET_RECORDS_PER_SECOND = 5  # the Kinesis limit per shard


class KinesisReadError(RuntimeError):
    """Reading from Kinesis failed for good (retries exhausted, or an error that retrying cannot fix)."""


def error_code(error: BaseException) -> Optional[str]:
    """The AWS error code of a botocore ``ClientError`` (``None`` for other errors)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status:
            return str(status)
    return None


class Backoff:
    """The reader's calls under a :class:`~.retry.RetryPolicy` (the writer's policy too: one retry layer).

    Args:
        base: The first delay's upper bound, in seconds.
        cap: The largest delay, in seconds.
        max_attempts: Attempts before giving up (the first call counts); ``None``: bounded by ``max_elapsed``.
        sleep: The sleep function (tests may pass a fake).
        max_elapsed: Seconds after the first attempt at which a call gives up (``max_retry_time``).
    """

    def __init__(self, base: float = 0.1, cap: float = 5.0, max_attempts: Optional[int] = None,
                 sleep: Callable[[float], None] = time.sleep, max_elapsed: float = DEFAULT_MAX_RETRY_TIME) -> None:
        self.policy = RetryPolicy(max_attempts, base, cap, max_elapsed)
        self.sleep = sleep

    @property
    def max_attempts(self) -> int:
        """Attempts per call at most (``sys.maxsize`` when bounded by time only)."""
        return attempts_limit(self.policy)

    def delay(self, attempt: int) -> float:
        """The delay before retry number ``attempt`` (0-based)."""
        return self.policy.backoff(attempt + 1)

    def attempts(self, what: str) -> Attempts:
        """The attempts of one operation, e.g. ``"GetRecords stream s shard x"`` (named in logs and errors)."""
        return Attempts(self.policy, what, self.sleep)

    def call(self, what: str, fn: Callable[..., T], **kwargs: Any) -> T:
        """Call ``fn(**kwargs)``, retrying retryable errors; other errors propagate unchanged.

        Args:
            what: Describes the call for errors and logs, e.g. ``"ListShards stream s"``.
            fn: The boto3 client method.
            kwargs: Its arguments.

        Raises:
            KinesisReadError: The retries were spent.
        """
        attempts = self.attempts(what)
        while True:
            try:
                return fn(**kwargs)
            except Exception as e:  # noqa: BLE001 - classified by Attempts.retry
                attempts.retry(e, KinesisReadError)


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


def list_shards(client: Any, stream: str, backoff: Backoff, closed: Optional[Set[str]] = None) -> List[ShardInfo]:
    """Every shard of ``stream`` (open and closed, within retention), following ListShards pagination.

    Args:
        closed: If given, the ids of closed shards (those with an ``EndingSequenceNumber``) are added to it.
    """
    out: List[ShardInfo] = []
    kwargs: Dict[str, Any] = {"StreamName": stream}
    while True:
        try:
            response = backoff.call(f"ListShards stream {stream}", client.list_shards, **kwargs)
        except Exception as e:  # noqa: BLE001
            if error_code(e) == "ResourceNotFoundException":
                raise KinesisReadError(f"stream {stream} does not exist (ListShards: {e})") from e
            raise
        for shard in response.get("Shards", []):
            parents: Tuple[str, ...] = tuple(
                p for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")) if p
            )
            out.append(ShardInfo(shard["ShardId"], parents))
            if closed is not None and shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber"):
                closed.add(shard["ShardId"])
        token = response.get("NextToken")
        if not token:
            return out
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


def child_shards(response: Dict[str, Any]) -> Tuple[ShardInfo, ...]:
    """The ``ChildShards`` of a GetRecords answer at a shard's end."""
    return tuple(
        ShardInfo(child["ShardId"], tuple(child.get("ParentShards", ()))) for child in response.get("ChildShards") or ()
    )


__all__ = [
    "Backoff",
    "KinesisReadError",
    "RateLimiter",
    "child_shards",
    "error_code",
    "is_retryable",
    "list_shards",
    "start_floor_micros",
]
