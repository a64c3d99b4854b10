"""What one ``process()`` call of the reader reads with: its tracker and watermark, and the fetches in flight."""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from .efo import FanOut
from .positions import ShardCursor, StopClaim, StreamRestriction


@dataclass
class ReadCall:
    """What one ``process()`` call reads with: its tracker and watermark, and the fetches in flight.

    At most one GetRecords per shard is in flight (on the fetch threads); answers are claimed and emitted
    on the ``process()`` thread, in shard order. Under enhanced fan-out a shard's pending future is its
    subscription's "an event is buffered".
    """

    tracker: Any
    watermark: Any
    restriction: StreamRestriction  # as the tracker last showed it
    fan_out: Optional[FanOut]
    marks: Dict[str, int]  # shard -> where its watermark stands (micros): see reader's module docstring
    begun: float = field(default_factory=time.monotonic)
    read_empty: Dict[str, bool] = field(default_factory=dict)  # shards read in this call -> last read empty
    pending: Dict[str, Future] = field(default_factory=dict)
    subscribed: Set[str] = field(default_factory=set)  # shards of ``pending`` whose future is a subscription's
    ended: bool = False  # the restriction ended (a stop or every shard read): not a checkpoint

    @property
    def stream(self) -> str:
        return self.restriction.stream

    def stop(self) -> None:
        """End a bounded read here."""
        self.ended = self.tracker.try_claim(StopClaim())

    def next_answer(self, ready: List[ShardCursor], ready_at: Callable[[ShardCursor], float],
                    checkpoint_interval: Optional[float]) -> Optional[Tuple[ShardCursor, Dict[str, Any], bool]]:
        """Wait for one shard's answer: (its cursor, the answer, whether a subscription sent it), or ``None``
        (nothing came in time, teardown cancelled it, or the subscription is being renewed).

        Args:
            ready: The shards being read.
            ready_at: When a shard may be called next (its rate limit), on the monotonic clock.
            checkpoint_interval: Seconds after the call began at which it checkpoints (``None``: never).
        """
        now = time.monotonic()
        waiting = [c for c in ready if c.shard_id not in self.pending]
        timeout = min((ready_at(c) for c in waiting), default=now + 1.0) - now
        if checkpoint_interval is not None:
            timeout = min(timeout, self.begun + checkpoint_interval - now)
        if self.restriction.deadline is not None:
            timeout = min(timeout, self.restriction.deadline - time.time())
        timeout = max(0.0, timeout)
        if not self.pending:
            time.sleep(timeout)
            return None
        pending = self.pending
        done, _ = wait(list(pending.values()), timeout=timeout, return_when=FIRST_COMPLETED)
        shard_id = next((c.shard_id for c in ready if c.shard_id in pending and pending[c.shard_id] in done), None)
        if shard_id is None:
            return None
        future = pending.pop(shard_id)
        from_subscription = shard_id in self.subscribed
        self.subscribed.discard(shard_id)
        cursor = self.restriction.cursor(shard_id)
        assert cursor is not None
        if from_subscription:
            assert self.fan_out is not None
            response = self.fan_out.take(self.stream, cursor)
        else:
            try:
                response = future.result()
            except CancelledError:
                return None  # teardown cancelled it
        if response is None:
            return None  # resubscribing, or the shard switched to GetRecords
        return cursor, response, from_subscription
