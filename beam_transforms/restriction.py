"""The restriction of the Kinesis reader's splittable DoFn: where each shard of a stream stands.

One restriction covers one stream. It holds a :class:`ShardCursor` per shard the
reader knows: the shard's parents, where reading starts (the spec's startup
position, ``TRIM_HORIZON`` for shards born later) and the last record emitted
(sequence number, plus the sub-sequence number inside a KPL aggregate). Claims
move it forward:

* :class:`RecordClaim`: a record (or a user record of an aggregate) is about to be emitted;
* :class:`ShardEndClaim`: a closed shard was read to its end; its children join;
* :class:`NewShardsClaim`: shards found by ListShards join;
* :class:`StopClaim`: a bounded read (``max_read_time``, ``stop_when_caught_up``) ends here.

A checkpoint (``try_split(0)``, which ``defer_remainder`` calls) returns a primary
that is complete at the last claim and a residual that resumes right after it.
Keeping every shard of a stream in one restriction lets the reader finish a
parent shard before its children (a merge's child waits for both parents)
without any coordination between workers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from apache_beam.io.iobase import RestrictionProgress, RestrictionTracker
from apache_beam.transforms.core import RestrictionProvider

TRIM_HORIZON = "TRIM_HORIZON"
LATEST = "LATEST"
AT_TIMESTAMP = "AT_TIMESTAMP"
AT_SEQUENCE_NUMBER = "AT_SEQUENCE_NUMBER"
AFTER_SEQUENCE_NUMBER = "AFTER_SEQUENCE_NUMBER"
START_TYPES = (TRIM_HORIZON, LATEST, AT_TIMESTAMP)


@dataclass(frozen=True)
class ShardInfo:
    """A shard as ListShards or ChildShards describe it.

    Attributes:
        shard_id: e.g. ``"shardId-000000000002"``.
        parents: The ids of its parent shards (none, one for a split, two for a merge).
    """

    shard_id: str
    parents: Tuple[str, ...] = ()


@dataclass(frozen=True)
class ShardCursor:
    """Where reading one shard stands.

    Attributes:
        shard_id: The shard.
        parents: Its parent shards; it is read once every known parent is finished.
        start_type: ``TRIM_HORIZON``, ``LATEST`` or ``AT_TIMESTAMP``: where to start when nothing was emitted yet.
        start_timestamp: Seconds since the epoch for ``AT_TIMESTAMP``.
        sequence_number: The last record emitted from this shard, or ``None``.
        sub_sequence_number: The last user record emitted inside the aggregate at ``sequence_number``;
            ``None`` when that record was plain or its aggregate was emitted completely.
        finished: The shard was closed and read to its end.
        last_arrival_micros: Arrival time of the last record emitted (microseconds since the epoch), for the watermark.
    """

    shard_id: str
    parents: Tuple[str, ...] = ()
    start_type: str = TRIM_HORIZON
    start_timestamp: Optional[float] = None
    sequence_number: Optional[str] = None
    sub_sequence_number: Optional[int] = None
    finished: bool = False
    last_arrival_micros: Optional[int] = None

    def iterator_args(self) -> Dict[str, Any]:
        """GetShardIterator arguments that resume right after the last record emitted.

        Inside an unfinished aggregate this is ``AT_SEQUENCE_NUMBER``: the reader then skips
        the user records up to ``sub_sequence_number``.
        """
        if self.sequence_number is not None:
            kind = AFTER_SEQUENCE_NUMBER if self.sub_sequence_number is None else AT_SEQUENCE_NUMBER
            return {"ShardIteratorType": kind, "StartingSequenceNumber": self.sequence_number}
        if self.start_type == AT_TIMESTAMP:
            return {"ShardIteratorType": AT_TIMESTAMP, "Timestamp": self.start_timestamp}
        return {"ShardIteratorType": self.start_type}

    def advanced(self, sequence_number: str, sub_sequence_number: Optional[int],
                 last_arrival_micros: Optional[int]) -> "ShardCursor":
        """This cursor moved to a record just emitted (``dataclasses.replace`` without its per-call cost:
        this runs once per record)."""
        return ShardCursor(self.shard_id, self.parents, self.start_type, self.start_timestamp, sequence_number,
                           sub_sequence_number, self.finished, last_arrival_micros)

    def is_after(self, sequence_number: str, sub_sequence_number: Optional[int]) -> bool:
        """True if the record at this position was already emitted (is at or before the cursor)."""
        if self.sequence_number is None:
            return False
        last, seq = int(self.sequence_number), int(sequence_number)
        if seq != last:
            return seq < last
        if self.sub_sequence_number is None:
            return True  # the plain record, or the whole aggregate, was emitted
        return sub_sequence_number is not None and sub_sequence_number <= self.sub_sequence_number


@dataclass(frozen=True)
class StreamRestriction:
    """The work of reading one stream: a cursor per known shard, plus the limits of a bounded read.

    Attributes:
        stream: The stream name.
        shards: A cursor per shard, in discovery order.
        records_left: Records still to read for ``max_records`` (``None``: no limit).
        deadline: Epoch seconds at which a ``max_read_time`` read stops (``None``: no limit).
        bounded: Whether the read is bounded (any of ``max_records``, ``max_read_time``, ``stop_when_caught_up``).
        complete: Nothing is left to read: the primary of a checkpoint, or a read that stopped.
    """

    stream: str
    shards: Tuple[ShardCursor, ...]
    records_left: Optional[int] = None
    deadline: Optional[float] = None
    bounded: bool = False
    complete: bool = False

    def cursor(self, shard_id: str) -> Optional[ShardCursor]:
        """The cursor of ``shard_id``, or ``None``."""
        for c in self.shards:
            if c.shard_id == shard_id:
                return c
        return None

    def ready(self) -> List[ShardCursor]:
        """Unfinished shards whose known parents are all finished: the shards to read now."""
        finished = {c.shard_id for c in self.shards if c.finished}
        known = {c.shard_id for c in self.shards}
        return [
            c
            for c in self.shards
            if not c.finished and all(p in finished or p not in known for p in c.parents)
        ]

    def unfinished(self) -> List[ShardCursor]:
        """Shards not yet read to their end."""
        return [c for c in self.shards if not c.finished]


@dataclass(frozen=True)
class RecordClaim:
    """Claim of one record (or one user record of an aggregate) of a shard, before it is emitted.

    Attributes:
        shard_id: The shard.
        sequence_number: The Kinesis record's sequence number.
        sub_sequence_number: Index of the user record inside its aggregate, ``None`` for a plain record.
        last_in_aggregate: This is the aggregate's last user record.
        arrival_micros: The record's approximate arrival time, microseconds since the epoch.
    """

    shard_id: str
    sequence_number: str
    sub_sequence_number: Optional[int] = None
    last_in_aggregate: bool = True
    arrival_micros: Optional[int] = None


@dataclass(frozen=True)
class ShardEndClaim:
    """A closed shard was read to its end; its children (from ChildShards or ListShards) join."""

    shard_id: str
    children: Tuple[ShardInfo, ...] = ()


@dataclass(frozen=True)
class NewShardsClaim:
    """Shards found by ListShards after the start; unknown ones join, read from TRIM_HORIZON."""

    shards: Tuple[ShardInfo, ...]


@dataclass(frozen=True)
class StopClaim:
    """End a bounded read at the current position (nothing is left in the restriction)."""

    reason: str = ""


Claim = Union[RecordClaim, ShardEndClaim, NewShardsClaim, StopClaim]


def _add_shards(shards: List[ShardCursor], infos: Iterable[ShardInfo]) -> None:
    known = {c.shard_id for c in shards}
    for info in infos:
        if info.shard_id not in known:
            shards.append(ShardCursor(info.shard_id, tuple(info.parents), TRIM_HORIZON))
            known.add(info.shard_id)


class StreamRestrictionTracker(RestrictionTracker):
    """Tracks a :class:`StreamRestriction`; see the module docstring for the claims it takes.

    Args:
        restriction: The restriction to read.
    """

    def __init__(self, restriction: StreamRestriction) -> None:
        self._restriction = restriction
        self._shards: List[ShardCursor] = list(restriction.shards)
        self._records_left = restriction.records_left
        self._claimed = 0
        self._done = restriction.complete
        self._stop_reason = ""

    def _snapshot(self, complete: bool) -> StreamRestriction:
        return replace(
            self._restriction, shards=tuple(self._shards), records_left=self._records_left, complete=complete
        )

    def current_restriction(self) -> StreamRestriction:
        """The restriction as claimed so far (complete once the read stopped or was checkpointed)."""
        return self._snapshot(self._done)

    def current_progress(self) -> RestrictionProgress:
        """Records claimed, and (for ``max_records``) records left; unbounded reads report 1 unit left."""
        if self._done:
            remaining = 0.0
        elif self._records_left is not None:
            remaining = float(self._records_left)
        else:
            remaining = 1.0
        return RestrictionProgress(completed=float(self._claimed), remaining=remaining)

    def _index(self, shard_id: str) -> int:
        for i, c in enumerate(self._shards):
            if c.shard_id == shard_id:
                return i
        raise ValueError(f"{self._restriction.stream}: shard {shard_id} is not part of the restriction")

    def try_claim(self, position: Claim) -> bool:
        """Claim a record, a shard end, new shards or a stop; ``False`` once the restriction is done.

        Records must be claimed in increasing (sequence number, sub-sequence number) order per shard.
        A record claim fails (and ends the restriction) when ``max_records`` records were claimed.
        """
        if self._done:
            return False
        if isinstance(position, RecordClaim):
            if self._records_left is not None and self._records_left <= 0:
                self._done = True
                self._stop_reason = "max_records"
                return False
            i = self._index(position.shard_id)
            cursor = self._shards[i]
            if cursor.finished:
                raise ValueError(f"shard {position.shard_id} is finished; cannot claim {position}")
            if cursor.is_after(position.sequence_number, position.sub_sequence_number):
                raise ValueError(
                    f"claims must move forward: {position} is not after sequence number "
                    f"{cursor.sequence_number} (sub {cursor.sub_sequence_number}) of shard {cursor.shard_id}"
                )
            sub = None if position.last_in_aggregate else position.sub_sequence_number
            arrival = position.arrival_micros if position.arrival_micros is not None else cursor.last_arrival_micros
            self._shards[i] = cursor.advanced(position.sequence_number, sub, arrival)
            self._claimed += 1
            if self._records_left is not None:
                self._records_left -= 1
            return True
        if isinstance(position, ShardEndClaim):
            i = self._index(position.shard_id)
            self._shards[i] = replace(self._shards[i], finished=True)
            _add_shards(self._shards, position.children)
            if not any(not c.finished for c in self._shards):
                self._done = True
                self._stop_reason = "every shard ended"
            return True
        if isinstance(position, NewShardsClaim):
            _add_shards(self._shards, position.shards)
            return True
        if isinstance(position, StopClaim):
            self._done = True
            self._stop_reason = position.reason or "stopped"
            return True
        raise ValueError(f"unknown claim {position!r}")

    def try_split(self, fraction_of_remainder: float) -> Optional[Tuple[StreamRestriction, StreamRestriction]]:
        """Checkpoint (``fraction_of_remainder == 0``): primary = done up to the last claim, residual = the rest.

        Other fractions are declined: a stream's shards stay together (see the module docstring).
        """
        if self._done or fraction_of_remainder != 0:
            return None
        primary = self._snapshot(True)
        residual = self._snapshot(False)
        self._done = True
        self._stop_reason = "checkpoint"
        return primary, residual

    def check_done(self) -> bool:
        """Raise ValueError unless the read stopped, was checkpointed, or every shard ended."""
        if not self._done:
            open_shards = [c.shard_id for c in self._shards if not c.finished]
            raise ValueError(
                f"stream {self._restriction.stream}: the read returned with shards {open_shards} "
                "unfinished and no checkpoint or stop"
            )
        return True

    def is_bounded(self) -> bool:
        """True for bounded reads (``max_records``, ``max_read_time``, ``stop_when_caught_up``)."""
        return self._restriction.bounded

    @property
    def stop_reason(self) -> str:
        """Why the restriction is done (``"max_records"``, ``"checkpoint"``, ...), ``""`` while it runs."""
        return self._stop_reason


@dataclass(frozen=True)
class StreamShards:
    """The element the reader's splittable DoFn gets: a stream and the shards listed at the start.

    Attributes:
        stream: The stream name.
        shards: Every shard ListShards returned (open and closed), with their parents.
        started_at: Epoch seconds of the listing: the instant ``LATEST`` is pinned to and ``max_read_time`` counts from.
    """

    stream: str
    shards: Tuple[ShardInfo, ...]
    started_at: float


class StreamRestrictionProvider(RestrictionProvider):
    """Creates the initial :class:`StreamRestriction` of a stream from the spec's startup position.

    Args:
        iterator_type: The spec's startup iterator type: ``LATEST``, ``TRIM_HORIZON`` or ``AT_TIMESTAMP``.
        start_timestamp: Epoch seconds of an ``AT_TIMESTAMP`` start.
        max_records: Records to read per stream before stopping, or ``None``.
        max_read_time: Seconds to read before stopping, or ``None``.
        bounded: Whether the read is bounded (then drain reads the restriction to its end, else drops it).

    ``LATEST`` is pinned to ``AT_TIMESTAMP`` of the listing instant, so that a checkpoint taken
    before the first record resumes without losing what arrived meanwhile.
    """

    def __init__(
        self,
        iterator_type: str,
        start_timestamp: Optional[float] = None,
        max_records: Optional[int] = None,
        max_read_time: Optional[float] = None,
        bounded: bool = False,
    ) -> None:
        if iterator_type not in START_TYPES:
            raise ValueError(f"expected one of {START_TYPES}, got {iterator_type!r}")
        self.iterator_type = iterator_type
        self.start_timestamp = start_timestamp
        self.max_records = max_records
        self.max_read_time = max_read_time
        self.bounded = bounded

    def initial_restriction(self, element: StreamShards) -> StreamRestriction:
        """A cursor per listed shard, at the startup position."""
        kind, stamp = self.iterator_type, self.start_timestamp
        if kind == LATEST:
            kind, stamp = AT_TIMESTAMP, element.started_at
        shards = tuple(ShardCursor(s.shard_id, tuple(s.parents), kind, stamp) for s in element.shards)
        deadline = None if self.max_read_time is None else element.started_at + self.max_read_time
        return StreamRestriction(
            stream=element.stream,
            shards=shards,
            records_left=self.max_records,
            deadline=deadline,
            bounded=self.bounded,
            complete=not shards,
        )

    def create_tracker(self, restriction: StreamRestriction) -> StreamRestrictionTracker:
        """A :class:`StreamRestrictionTracker` for ``restriction``."""
        return StreamRestrictionTracker(restriction)

    def restriction_size(self, element: StreamShards, restriction: StreamRestriction) -> float:
        """Records left for ``max_records`` reads, else the number of unfinished shards."""
        if restriction.complete:
            return 0.0
        if restriction.records_left is not None:
            return float(restriction.records_left)
        return float(len(restriction.unfinished()))

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
    "ShardCursor",
    "ShardEndClaim",
    "ShardInfo",
    "StopClaim",
    "StreamRestriction",
    "StreamRestrictionProvider",
    "StreamRestrictionTracker",
    "StreamShards",
]
