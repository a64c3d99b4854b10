"""The restriction of the Kinesis reader's splittable DoFn: the shards of a stream one worker reads.

A restriction covers some shards of one stream. It holds a :class:`ShardCursor` per unfinished
shard it owns: the shard's parents, where reading starts (the spec's startup position,
``TRIM_HORIZON`` for shards born later) and the last record emitted (sequence number, plus the
sub-sequence number inside a KPL aggregate). The tracker is the only owner of these positions;
the reader asks it where each shard stands. Claims move it forward:

* :class:`RecordClaim`: a record (or a user record of an aggregate) is about to be emitted;
* :class:`ShardEndClaim`: a closed shard was read to its end; it leaves, and the children it
  adopts join (see below);
* :class:`NewShardsClaim`: shards found by ListShards join if they descend from an owned shard;
* :class:`StopClaim`: a bounded read (``max_read_time``, ``stop_when_caught_up``) ends here.

Splitting. Shards are split in *lineages*: an unfinished shard stays in one restriction with its
unfinished parents (a merged child with both of its parents), so a parent is read before its
children wherever both are owned together. The initial split makes one restriction per lineage (or deals them over
``max_splits`` restrictions, the DirectRunner's worker count);
a runner's ``try_split(f)`` with ``f > 0`` keeps about ``f`` of the lineages and hands the others,
whole, to the residual (one lineage cannot be split); ``try_split(0)``, which ``defer_remainder``
calls, is a checkpoint: the primary is complete at the last claim and the residual resumes right
after it. A read with ``max_records`` (one count for the stream) or a job-managed consumer
(deregistered when the read ends) keeps a stream in one restriction, split only by checkpoints.

Resharding across restrictions. A shard born of a split joins the restriction that owns its
parent, when the parent ends. A shard born of a merge joins the restriction holding the parent
Kinesis names ``ParentShardId``, once that parent is read to its end; the restriction holding the
``AdjacentParentShardId`` ends that lineage there. So the child is read exactly once, and after
both parents when one restriction owns both. When the parents sit in different restrictions the
child may be read while the adjacent parent's tail is still being read elsewhere: per-key order
then holds within each restriction, and across them only by event time (arrival timestamps, and a
watermark that the unread adjacent parent holds back).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Dict, Iterable, Iterator, Optional, Tuple

from apache_beam.io.iobase import RestrictionProgress, RestrictionTracker
from apache_beam.transforms.core import RestrictionProvider

from .positions import (  # noqa: F401 - the restriction's parts, importable from here as before
    AFTER_SEQUENCE_NUMBER,
    AT_SEQUENCE_NUMBER,
    AT_TIMESTAMP,
    LATEST,
    START_TYPES,
    TRIM_HORIZON,
    Claim,
    NewShardsClaim,
    RecordClaim,
    RestartClaim,
    ShardCursor,
    ShardEndClaim,
    ShardInfo,
    StopClaim,
    StreamRestriction,
    StreamShards,
    adopted,
)


class StreamRestrictionTracker(RestrictionTracker):
    """Tracks a :class:`StreamRestriction`; see the module docstring for the claims it takes and its splits.

    Args:
        restriction: The restriction to read.
        splittable: Whether runner-initiated splits above 0 may hand lineages to a residual.
    """

    def __init__(self, restriction: StreamRestriction, splittable: bool = True) -> None:
        self._restriction = restriction
        self._splittable = splittable and restriction.records_left is None
        self._shards: Dict[str, ShardCursor] = {c.shard_id: c for c in restriction.shards}
        self._records_left = restriction.records_left
        self._claimed = 0
        self._done = restriction.complete

    def _snapshot(self, complete: bool, shards: Optional[Iterable[ShardCursor]] = None) -> StreamRestriction:
        return replace(
            self._restriction,
            shards=tuple(self._shards.values() if shards is None else shards),
            records_left=self._records_left,
            complete=complete,
        )

    def current_restriction(self) -> StreamRestriction:
        """The restriction as claimed so far (complete once the read stopped or was checkpointed)."""
        return self._snapshot(self._done)

    def current_progress(self) -> RestrictionProgress:
        """Records claimed, and what is left: records for ``max_records``, else the unfinished shards."""
        if self._done:
            remaining = 0.0
        elif self._records_left is not None:
            remaining = float(self._records_left)
        else:
            remaining = float(max(1, len(self._shards)))
        # Never 0 of 0: the SDK divides by the sum when a runner asks for a split (NaN breaks Prism's splits).
        completed = float(self._claimed) if self._claimed or remaining else 1.0
        # And an explicit fraction: the SDK replaces `completed` with the output's estimated bytes, which are NaN
        # until its first size sample; a split's arithmetic then uses this fraction, not that NaN.
        return RestrictionProgress(fraction=completed / (completed + remaining), completed=completed,
                                   remaining=remaining)

    def try_claim(self, position: Claim) -> bool:
        """Claim a record, a shard end, new shards or a stop.

        ``False`` once the restriction is done (stop reading), or for a record or end of a shard
        that a split handed to the residual (stop reading that shard; the others go on).
        Records must be claimed in increasing (sequence number, sub-sequence number) order per shard.
        A record claim fails (and ends the restriction) when ``max_records`` records were claimed.
        """
        if self._done:
            return False
        if isinstance(position, RecordClaim):
            if self._records_left is not None and self._records_left <= 0:
                self._done = True
                return False
            cursor = self._shards.get(position.shard_id)
            if cursor is None:
                return False  # split off to the residual
            if cursor.is_after(position.sequence_number, position.sub_sequence_number):
                raise ValueError(
                    f"claims must move forward: {position} is not after sequence number "
                    f"{cursor.sequence_number} (sub {cursor.sub_sequence_number}) of shard {cursor.shard_id}"
                )
            sub = None if position.last_in_aggregate else position.sub_sequence_number
            self._shards[position.shard_id] = cursor.advanced(position.sequence_number, sub, position.arrival_micros)
            self._claimed += 1
            if self._records_left is not None:
                self._records_left -= 1
            return True
        if isinstance(position, ShardEndClaim):
            if self._shards.pop(position.shard_id, None) is None:
                return False
            self._add(adopted(position.shard_id, position.children) + position.descendants)
            if not self._shards:
                self._done = True
            return True
        if isinstance(position, NewShardsClaim):
            self._add(s for s in position.shards if s.parents and s.parents[0] in self._shards)
            return True
        if isinstance(position, RestartClaim):
            self._shards = {c.shard_id: c for c in position.shards}
            self._restriction = replace(self._restriction, stream_created=position.stream_created)
            self._done = not self._shards
            return True
        if isinstance(position, StopClaim):
            self._done = True
            return True
        raise ValueError(f"unknown claim {position!r}")

    def _add(self, infos: Iterable[ShardInfo]) -> None:
        for info in infos:
            if info.shard_id not in self._shards:
                self._shards[info.shard_id] = ShardCursor.of(info, TRIM_HORIZON)

    def try_split(self, fraction_of_remainder: float) -> Optional[Tuple[StreamRestriction, StreamRestriction]]:
        """Split off work: a checkpoint at 0, whole lineages above 0.

        ``0``: primary = done up to the last claim, residual = everything left. ``f > 0``: the primary
        keeps about ``f`` of the lineages (at least one) and goes on; the residual takes the others
        whole. Declined (``None``) for one lineage, for unsplittable reads and once done.
        """
        if self._done:
            return None
        if fraction_of_remainder == 0:
            primary = self._snapshot(True)
            residual = self._snapshot(False)
            self._done = True
            return primary, residual
        if not self._splittable:
            return None
        lineages = self._snapshot(False).lineages()
        if len(lineages) < 2:
            return None
        keep = min(len(lineages) - 1, max(1, math.ceil(fraction_of_remainder * len(lineages))))
        handed = [c for lineage in lineages[keep:] for c in lineage]
        for c in handed:
            del self._shards[c.shard_id]
        return self._snapshot(False), self._snapshot(False, handed)

    def check_done(self) -> bool:
        """Raise ValueError unless the read stopped, was checkpointed, or every shard ended."""
        if not self._done and self._shards:
            raise ValueError(
                f"stream {self._restriction.stream}: the read returned with shards {list(self._shards)} "
                "unfinished and no checkpoint or stop"
            )
        return True

    def is_bounded(self) -> bool:
        """True for bounded reads (``max_records``, ``max_read_time``, ``stop_when_caught_up``)."""
        return self._restriction.bounded


@dataclass(eq=False)  # compared and hashed by identity, as Beam expects of a provider
class StreamRestrictionProvider(RestrictionProvider):
    """Creates the initial :class:`StreamRestriction` of a stream from the spec's startup position, and splits it.

    Args:
        iterator_type: The spec's startup iterator type: ``LATEST``, ``TRIM_HORIZON`` or ``AT_TIMESTAMP``.
        start_timestamp: Epoch seconds of an ``AT_TIMESTAMP`` start.
        max_records: Records to read per stream before stopping, or ``None``.
        max_read_time: Seconds to read before stopping, or ``None``.
        bounded: Whether the read is bounded (then drain reads the restriction to its end, else drops it).
        splittable: Whether a stream's lineages may be read by several restrictions; ``False`` for
            ``max_records`` (one count per stream) and job-managed consumers (deregistered at the read's end).
        max_splits: At most this many restrictions from the initial split (lineages dealt round-robin);
            ``None``: one per lineage.

    ``LATEST`` is pinned to ``AT_TIMESTAMP`` of the listing instant, so that a checkpoint taken
    before the first record resumes without losing what arrived meanwhile.
    """

    iterator_type: str
    start_timestamp: Optional[float] = None
    max_records: Optional[int] = None
    max_read_time: Optional[float] = None
    bounded: bool = False
    splittable: bool = True
    max_splits: Optional[int] = None

    def __post_init__(self) -> None:
        if self.iterator_type not in START_TYPES:
            raise ValueError(f"expected one of {START_TYPES}, got {self.iterator_type!r}")
        if self.max_records is not None:
            self.splittable = False  # one count per stream

    def start_cursors(self, shards: Iterable[ShardInfo], listed_at: float) -> Tuple[ShardCursor, ...]:
        """A cursor per shard at the startup position (``LATEST`` pinned to ``listed_at``, epoch seconds)."""
        kind, stamp = self.iterator_type, self.start_timestamp
        if kind == LATEST:
            kind, stamp = AT_TIMESTAMP, listed_at
        return tuple(ShardCursor.of(s, kind, stamp) for s in shards)

    def initial_restriction(self, element: StreamShards) -> StreamRestriction:
        """A cursor per listed shard, at the startup position."""
        shards = self.start_cursors(element.shards, element.started_at)
        deadline = None if self.max_read_time is None else element.started_at + self.max_read_time
        return StreamRestriction(
            stream=element.stream,
            shards=shards,
            records_left=self.max_records,
            deadline=deadline,
            bounded=self.bounded,
            complete=not shards,
            stream_created=element.created,
        )

    def split(self, element: StreamShards, restriction: StreamRestriction) -> Iterator[StreamRestriction]:
        """The initial split: one restriction per lineage, or lineages dealt over ``max_splits`` restrictions."""
        if restriction.complete or not self.splittable:
            yield restriction
            return
        lineages = restriction.lineages()
        parts = len(lineages) if self.max_splits is None else max(1, min(self.max_splits, len(lineages)))
        for i in range(parts):
            yield replace(restriction, shards=tuple(c for lineage in lineages[i::parts] for c in lineage))

    def create_tracker(self, restriction: StreamRestriction) -> StreamRestrictionTracker:
        """A :class:`StreamRestrictionTracker` for ``restriction``."""
        return StreamRestrictionTracker(restriction, self.splittable)

    def restriction_size(self, element: StreamShards, restriction: StreamRestriction) -> float:
        """Records left for ``max_records`` reads, else the number of unfinished shards."""
        if restriction.complete:
            return 0.0
        if restriction.records_left is not None:
            return float(restriction.records_left)
        return float(len(restriction.shards))

    def truncate(self, element: StreamShards, restriction: StreamRestriction) -> Optional[StreamRestriction]:
        """On drain: bounded reads finish their restriction, unbounded reads stop (``None``)."""
        if restriction.bounded:
            return restriction
        return None


__all__ = [
    "AFTER_SEQUENCE_NUMBER",
    "AT_SEQUENCE_NUMBER",
    "AT_TIMESTAMP",
    "LATEST",
    "TRIM_HORIZON",
    "NewShardsClaim",
    "RecordClaim",
    "RestartClaim",
    "ShardCursor",
    "ShardEndClaim",
    "ShardInfo",
    "StopClaim",
    "StreamRestriction",
    "StreamRestrictionProvider",
    "StreamRestrictionTracker",
    "StreamShards",
    "adopted",
]
