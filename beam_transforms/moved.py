"""When the service has moved on under a read: expired shards, and a stream deleted and created again.

:class:`StreamChanges` is what the reader (:mod:`.reader`) asks about both. Listings and creation times come from
this worker process's shared ones (:mod:`.listing`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional, Tuple

from .listing import Listing, client_key, shared_listing, stream_created
from .positions import RestartClaim, ShardInfo, StreamRestriction, adopted, expired_successors, restart_roots
from .restriction import StreamRestrictionProvider
from .retry import KinesisReadError, RetryPolicy

_LOG = logging.getLogger(__name__)

Successors = Tuple[Tuple[ShardInfo, ...], Tuple[ShardInfo, ...]]  # (children, descendants), see ShardEndClaim


def _when(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).isoformat(timespec="milliseconds")


class StreamChanges:
    """The reader's answers to a stream that changed: see :meth:`expired` and :meth:`settle`.

    Args:
        provider: The restriction provider (the startup position of a stream read again from its start).
        stream_recreated: ``"FAIL"`` or ``"START_OVER"``.
        policy: Retries of the Kinesis calls.
        aws_properties: The spec's AWS client keys, whose digest (:func:`.listing.client_key`) keys the shared
            listings; resolved on first use (a default-chain region is looked up on the worker).
        max_age: Seconds a shared listing or creation time may be old (the shard discovery interval).
        expired_shards: The ``expired_shards`` counter.
    """

    def __init__(self, provider: StreamRestrictionProvider, stream_recreated: str, policy: RetryPolicy,
                 aws_properties: Callable[[], Dict[str, str]], max_age: float, expired_shards: Any) -> None:
        self._provider = provider
        self._start_over = stream_recreated == "START_OVER"
        self._policy = policy
        self._aws_properties = aws_properties
        self._digest: Optional[str] = None
        self._max_age = max_age
        self._expired_shards = expired_shards

    @property
    def _key(self) -> str:
        if self._digest is None:
            self._digest = client_key(self._aws_properties())
        return self._digest

    def listing(self, client: Any, stream: str, max_age: float) -> Listing:
        """The stream's shards as listed at most ``max_age`` seconds ago by this worker process."""
        return shared_listing(client, self._key, stream, self._policy, max_age)

    def settle(self, client: Any, tracker: Any, restriction: StreamRestriction, max_age: Optional[float] = None
               ) -> StreamRestriction:
        """Check that the restriction's positions belong to the stream as it is (its creation time, asked at most
        ``max_age`` seconds ago, default the discovery interval); returns the restriction to read.

        A stream created again since fails the read with one line naming it and both creation times, or, with
        ``START_OVER``, the restriction takes the new stream's shards in its hash key ranges (``restart_roots``)
        from the startup position.
        """
        if restriction.stream_created is None:  # a restriction of an earlier version: nothing to compare
            return restriction
        stream = restriction.stream
        now = stream_created(client, self._key, stream, self._policy, self._max_age if max_age is None else max_age)
        if now == restriction.stream_created:
            return restriction
        what = (f"stream {stream} was deleted and created again: the read's positions belong to the stream created "
                f"{_when(restriction.stream_created)}, the stream now was created {_when(now)}")
        if not self._start_over:
            raise KinesisReadError(f"{what}; to read the new stream from the startup position, set "
                                   "stream_recreated='start_over' (source.stream-recreated: START_OVER)")
        listing = self.listing(client, stream, 0.0)
        roots = restart_roots(listing.shards, restriction.shards)
        _LOG.warning("%s; reading shards %s of the new stream from the startup position (stream_recreated "
                     "'start_over')", what, [s.shard_id for s in roots])
        tracker.try_claim(RestartClaim(now, self._provider.start_cursors(roots, time.time())))
        return tracker.current_restriction()

    def expired(self, client: Any, tracker: Any, restriction: StreamRestriction, shard_id: str, answer: str
                ) -> Optional[Successors]:
        """The service answered ``ResourceNotFoundException`` (``answer``) for a shard: what its restriction reads
        instead, or ``None`` if the stream was created again meanwhile (the read checkpoints; the next call on the
        residual settles it, see :meth:`settle`).

        A shard ListShards no longer lists (expired past the retention period) ends here, with a warning and the
        ``expired_shards`` counter; its listed children and descendants are read (:func:`expired_successors`).
        A stream that is gone fails the read naming it (ListShards); a shard still listed fails it naming the shard.
        """
        stream = restriction.stream
        if restriction.stream_created is not None and \
                stream_created(client, self._key, stream, self._policy, 0.0) != restriction.stream_created:
            tracker.defer_remainder()
            return None
        listing = self.listing(client, stream, 0.0)
        if shard_id in listing.ids():
            raise KinesisReadError(f"stream {stream}: shard {shard_id} is listed, yet the service does not know it: "
                                   f"{answer}")
        cursor = restriction.cursor(shard_id)
        assert cursor is not None
        children, descendants = expired_successors(cursor, listing.shards, [c.shard_id for c in restriction.shards])
        last = f"sequence number {cursor.sequence_number}" if cursor.sequence_number is not None \
            else f"nothing read yet (start {cursor.start_type})"
        _LOG.warning("stream %s: shard %s is gone (past the retention period: ListShards no longer lists it; %s); "
                     "last position read: %s; it ends here, and %s are read instead", stream, shard_id, answer, last,
                     [s.shard_id for s in adopted(shard_id, children) + descendants] or "no shards")
        self._expired_shards.inc()
        return children, descendants


__all__ = ["StreamChanges", "Successors"]
