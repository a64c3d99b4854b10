"""GetRecords for the reader: shard iterators, rate-limited calls, retries and expired iterators."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from .positions import LATEST, ShardCursor, position_key
from .retry import NOT_FOUND, KinesisReadError, RetryPolicy, error_code, is_expired_iterator, timestamp_refused
from .shards import RateLimiter
from .subscription import SUBSCRIBED

_LOG = logging.getLogger(__name__)

MAX_EXPIRED_ITERATORS = 5  # iterators in a row that may expire before a GetRecords fails
# The key of an answer standing for "the service does not know this shard" (ResourceNotFoundException from
# GetShardIterator, GetRecords or SubscribeToShard); its value is the service's message. No NextShardIterator:
# the reader ends the shard, once ListShards confirmed it is gone (reader._shard_ended).
GONE = "ShardNotFound"


def gone(error: BaseException) -> Dict[str, Any]:
    """The answer for a shard the service answered ``ResourceNotFoundException`` for."""
    return {"Records": [], GONE: str(error)}


@dataclass
class ShardState:
    """What a DoFn instance remembers about a shard between process() calls (an optimisation only)."""

    position: Tuple[Any, ...] = ()
    iterator: Optional[str] = None
    caught_up: bool = False


class ShardStates:
    """The :class:`ShardState` of each (stream, shard) a DoFn instance read."""

    def __init__(self) -> None:
        self._by_key: Dict[Tuple[str, str], ShardState] = {}

    def at(self, stream: str, cursor: ShardCursor) -> ShardState:
        """The remembered state of a shard, reset unless it was left exactly at ``cursor``."""
        key = (stream, cursor.shard_id)
        position = position_key(cursor)
        state = self._by_key.get(key)
        if state is None or state.position != position:
            state = ShardState(position)
            self._by_key[key] = state
        return state

    def forget(self, stream: str, shard_id: str) -> None:
        """Drop what is known of a shard (it ended, left the restriction, or its fetch was abandoned)."""
        self._by_key.pop((stream, shard_id), None)

    def remember(self, stream: str, cursor: ShardCursor, response: Dict[str, Any], limit: int) -> None:
        """Keep the iterator for the shard's next batch, keyed by where the shard now stands (``cursor``)."""
        state = self.at(stream, cursor)
        state.iterator = response.get("NextShardIterator")
        records = response.get("Records") or ()
        state.caught_up = response.get("MillisBehindLatest") == 0 and len(records) < limit


class ShardFetcher:
    """GetShardIterator and GetRecords of one reader DoFn instance (GetRecords runs on its fetch threads).

    Args:
        client: The boto3 Kinesis client.
        policy: Retries of each call.
        limiter: The per-shard rate limit every GetRecords attempt waits for.
        max_records_per_call: GetRecords' ``Limit``.
    """

    def __init__(self, client: Any, policy: RetryPolicy, limiter: RateLimiter, max_records_per_call: int) -> None:
        self.client = client
        self._policy = policy
        self._limiter = limiter
        self._limit = max_records_per_call

    def iterator(self, stream: str, cursor: ShardCursor) -> str:
        """A shard iterator right after the cursor (``ResourceNotFoundException`` raised, if the service does not
        know the shard or stream).

        An ``AT_TIMESTAMP`` iterator refused because its time is past the service's clock (a future
        startup date, or LATEST pinned by a worker whose clock runs ahead) is asked again as LATEST.
        """
        args = dict(cursor.iterator_args())

        def at_latest(error: BaseException) -> bool:
            if not timestamp_refused(error, args["ShardIteratorType"]):
                return False
            _LOG.info("%s: the timestamp is past the service's clock (%s); starting at LATEST", what, error)
            args.clear()
            args["ShardIteratorType"] = LATEST
            return True

        what = f"GetShardIterator stream {stream} shard {cursor.shard_id}"
        response = self._policy.attempts(what).call(lambda: self.client.get_shard_iterator(
            StreamName=stream, ShardId=cursor.shard_id, **args), recover=at_latest)
        return str(response["ShardIterator"])

    def get_records(self, stream: str, cursor: ShardCursor, state: ShardState) -> Dict[str, Any]:
        """One GetRecords answer for a shard; a :func:`gone` answer if the service does not know the shard.

        Every attempt, retries included, waits for the shard's rate limit (5 calls per second);
        throttling and transient errors back off exponentially with jitter; an expired iterator
        is rebuilt from the cursor (AFTER_SEQUENCE_NUMBER of the last record emitted).
        """
        key = (stream, cursor.shard_id)
        attempts = self._policy.attempts(f"GetRecords stream {stream} shard {cursor.shard_id}")
        expired = [0]
        if state.iterator == SUBSCRIBED:
            state.iterator = None  # the shard was read by a subscription before

        def fetch() -> Dict[str, Any]:
            try:
                if state.iterator is None:
                    state.iterator = self.iterator(stream, cursor)
                self._limiter.acquire(key)
                return self.client.get_records(ShardIterator=state.iterator, Limit=self._limit)
            except Exception as e:  # noqa: BLE001
                if error_code(e) != NOT_FOUND:
                    raise
                state.iterator = None
                return gone(e)

        def renew(error: BaseException) -> bool:
            if not is_expired_iterator(error):
                return False
            expired[0] += 1
            if expired[0] > MAX_EXPIRED_ITERATORS:
                raise KinesisReadError(f"{attempts.what}: the shard iterator kept expiring") from error
            _LOG.info("%s: iterator expired; rebuilding it from the last position", attempts.what)
            state.iterator = None
            return True

        return attempts.call(fetch, recover=renew)
