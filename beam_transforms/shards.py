"""Kinesis calls of the reader: listing shards, retries with backoff, and a per-shard rate limit."""

from __future__ import annotations

import logging
import random
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, TypeVar

from .restriction import ShardInfo

_LOG = logging.getLogger(__name__)
T = TypeVar("T")

# Error codes worth retrying: throttling and transient service errors.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "ThrottlingException",
        "KMSThrottlingException",
        "RequestLimitExceeded",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
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


def is_retryable(error: BaseException) -> bool:
    """True for throttling, 5xx answers and connection errors."""
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    if isinstance(error, (BotoConnectionError, HTTPClientError)):
        return True
    code = error_code(error)
    if code is None:
        return False
    return code in RETRYABLE_CODES or (code.isdigit() and int(code) >= 500)


class Backoff:
    """Exponential backoff with jitter: attempt n waits a random time in [d/2, d], d = min(cap, base * 2**n).

    Args:
        base: The first delay's upper bound, in seconds.
        cap: The largest delay, in seconds.
        max_attempts: Attempts before giving up (the first call counts).
        sleep: The sleep function (tests may pass a fake).
    """

    def __init__(
        self, base: float = 0.1, cap: float = 5.0, max_attempts: int = 10, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.base = base
        self.cap = cap
        self.max_attempts = max_attempts
        self.sleep = sleep

    def delay(self, attempt: int) -> float:
        """The delay before retry number ``attempt`` (0-based)."""
        ceiling = min(self.cap, self.base * (2**attempt))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def call(self, what: str, fn: Callable[..., T], **kwargs: Any) -> T:
        """Call ``fn(**kwargs)``, retrying retryable errors; other errors propagate unchanged.

        Args:
            what: Describes the call for errors and logs, e.g. ``"GetRecords stream s shard x"``.
            fn: The boto3 client method.
            kwargs: Its arguments.
        """
        attempt = 0
        while True:
            try:
                return fn(**kwargs)
            except Exception as e:  # noqa: BLE001 - filtered by is_retryable
                if not is_retryable(e):
                    raise
                if attempt + 1 >= self.max_attempts:
                    raise KinesisReadError(f"{what}: giving up after {attempt + 1} attempts: {e}") from e
                wait = self.delay(attempt)
                _LOG.info("%s: %s; retrying in %.2f s", what, error_code(e) or type(e).__name__, wait)
                self.sleep(wait)
                attempt += 1


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


def child_shards(response: Dict[str, Any]) -> Tuple[ShardInfo, ...]:
    """The ``ChildShards`` of a GetRecords answer at a shard's end."""
    return tuple(
        ShardInfo(child["ShardId"], tuple(child.get("ParentShards", ()))) for child in response.get("ChildShards") or ()
    )


__all__ = [
    "Backoff",
    "KinesisReadError",
    "RateLimiter",
    "RETRYABLE_CODES",
    "child_shards",
    "error_code",
    "is_retryable",
    "list_shards",
]
