"""Where a Kinesis read stands, without Beam: shard cursors, a stream's restriction, and the reader's claims.

:class:`ShardCursor` is one shard's position (where reading starts and the last record emitted, with the
sub-sequence number inside a KPL aggregate); :class:`StreamRestriction` holds the cursors of the shards
one worker reads; the claims (:class:`RecordClaim`, :class:`ShardEndClaim`, :class:`NewShardsClaim`,
:class:`StopClaim`) are what the reader asks the tracker (:mod:`.restriction`) to move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

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
        hash_range: Its hash key range (first, last), when the listing gave it; not compared.
    """

    shard_id: str
    parents: Tuple[str, ...] = ()
    hash_range: Optional[Tuple[int, int]] = field(default=None, compare=False)


@dataclass(frozen=True)
class ShardCursor:
    """Where reading one shard stands.

    Attributes:
        shard_id: The shard.
        parents: Its parent shards; it is read once no parent is owned by its restriction any more.
        start_type: ``TRIM_HORIZON``, ``LATEST`` or ``AT_TIMESTAMP``: where to start when nothing was emitted yet.
        start_timestamp: Seconds since the epoch for ``AT_TIMESTAMP``.
        sequence_number: The last record emitted from this shard, or ``None``.
        sub_sequence_number: The last user record emitted inside the aggregate at ``sequence_number``;
            ``None`` when that record was plain or its aggregate was emitted completely.
        last_arrival_micros: The highest element timestamp emitted from this shard (microseconds since the
            epoch), for the watermark: the arrival time, or the event time ``timestamp_fn`` gives (the name is
            kept so that restrictions checkpointed by earlier versions still load).
        hash_range: The shard's hash key range (first, last), to attribute the listed descendants of a shard
            whose children expired (:func:`expired_successors`); ``None`` in restrictions of earlier versions.
    """

    shard_id: str
    parents: Tuple[str, ...] = ()
    start_type: str = TRIM_HORIZON
    start_timestamp: Optional[float] = None
    sequence_number: Optional[str] = None
    sub_sequence_number: Optional[int] = None
    last_arrival_micros: Optional[int] = None
    hash_range: Optional[Tuple[int, int]] = None

    @classmethod
    def of(cls, info: ShardInfo, start_type: str, start_timestamp: Optional[float] = None) -> "ShardCursor":
        """A cursor at the start of a listed shard."""
        return cls(info.shard_id, tuple(info.parents), start_type, start_timestamp, hash_range=info.hash_range)

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
                 timestamp_micros: Optional[int]) -> "ShardCursor":
        """This cursor moved to a record just emitted, whose element timestamp is ``timestamp_micros`` (``None``:
        none, e.g. a skipped record) (``dataclasses.replace`` without its per-call cost: this runs once per record)."""
        high = self.last_arrival_micros
        if timestamp_micros is not None and (high is None or timestamp_micros > high):
            high = timestamp_micros
        return ShardCursor(self.shard_id, self.parents, self.start_type, self.start_timestamp, sequence_number,
                           sub_sequence_number, high, self.hash_range)

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


def position_key(cursor: ShardCursor) -> Tuple[Any, ...]:
    """Where a cursor stands, as far as where reading continues is concerned."""
    return (cursor.start_type, cursor.start_timestamp, cursor.sequence_number, cursor.sub_sequence_number)


@dataclass(frozen=True)
class StreamRestriction:
    """The work of reading some shards of one stream: a cursor per owned shard, plus the limits of a bounded read.

    Attributes:
        stream: The stream name.
        shards: A cursor per unfinished shard this restriction owns, in discovery order.
        records_left: Records still to read for ``max_records`` (``None``: no limit).
        deadline: Epoch seconds at which a ``max_read_time`` read stops (``None``: no limit).
        bounded: Whether the read is bounded (any of ``max_records``, ``max_read_time``, ``stop_when_caught_up``).
        complete: Nothing is left to read: the primary of a checkpoint, or a read that stopped.
        stream_created: When the stream whose positions these are was created (epoch seconds), to recognise a
            stream deleted and created again under its name; ``None`` in restrictions of earlier versions.
    """

    stream: str
    shards: Tuple[ShardCursor, ...]
    records_left: Optional[int] = None
    deadline: Optional[float] = None
    bounded: bool = False
    complete: bool = False
    stream_created: Optional[float] = None

    def cursor(self, shard_id: str) -> Optional[ShardCursor]:
        """The cursor of ``shard_id``, or ``None`` if this restriction does not own it."""
        for c in self.shards:
            if c.shard_id == shard_id:
                return c
        return None

    def ready(self) -> List[ShardCursor]:
        """Shards none of whose parents is still owned here (unfinished): the shards to read now."""
        owned = {c.shard_id for c in self.shards}
        return [c for c in self.shards if not any(p in owned for p in c.parents)]

    def lineages(self) -> List[Tuple[ShardCursor, ...]]:
        """The shards grouped so that a shard and its owned parents are in one group, in discovery order."""
        root = {c.shard_id: c.shard_id for c in self.shards}

        def find(shard_id: str) -> str:
            while root[shard_id] != shard_id:
                root[shard_id] = root[root[shard_id]]
                shard_id = root[shard_id]
            return shard_id

        for c in self.shards:  # a split joins a child to its parent, a merge both parents too
            for parent in c.parents:
                if parent in root:
                    root[find(parent)] = find(c.shard_id)
        groups: Dict[str, List[ShardCursor]] = {}
        for c in self.shards:
            groups.setdefault(find(c.shard_id), []).append(c)
        return [tuple(g) for g in groups.values()]


@dataclass(frozen=True)
class RecordClaim:
    """Claim of one record (or one user record of an aggregate) of a shard, before it is emitted.

    Attributes:
        shard_id: The shard.
        sequence_number: The Kinesis record's sequence number.
        sub_sequence_number: Index of the user record inside its aggregate, ``None`` for a plain record.
        last_in_aggregate: This is the aggregate's last user record.
        arrival_micros: The element's timestamp, microseconds since the epoch: the record's approximate arrival
            time, or the event time ``timestamp_fn`` gives; ``None`` for a record emitted as no element.
    """

    shard_id: str
    sequence_number: str
    sub_sequence_number: Optional[int] = None
    last_in_aggregate: bool = True
    arrival_micros: Optional[int] = None


@dataclass(frozen=True)
class ShardEndClaim:
    """A closed shard was read to its end (or expired): it leaves the restriction, and the shards it adopts join.

    It adopts the children whose first parent (Kinesis' ``ParentShardId``) it is: both children of a
    split, and the child of a merge only on the ``ParentShardId`` side; and ``descendants``, every one of them
    (listed shards whose parents expired too: :func:`expired_successors`).
    """

    shard_id: str
    children: Tuple[ShardInfo, ...] = ()
    descendants: Tuple[ShardInfo, ...] = ()


@dataclass(frozen=True)
class NewShardsClaim:
    """Shards found by ListShards after the start; those whose ``ParentShardId`` is owned join, from TRIM_HORIZON."""

    shards: Tuple[ShardInfo, ...]


@dataclass(frozen=True)
class RestartClaim:
    """The stream was deleted and created again (``stream_recreated="start_over"``): the restriction's cursors
    become ``shards``, at the startup position of the stream created at ``stream_created``."""

    stream_created: float
    shards: Tuple[ShardCursor, ...]


@dataclass(frozen=True)
class StopClaim:
    """End a bounded read at the current position (nothing is left in the restriction)."""


Claim = Union[RecordClaim, ShardEndClaim, NewShardsClaim, RestartClaim, StopClaim]


def adopted(parent: str, children: Iterable[ShardInfo]) -> Tuple[ShardInfo, ...]:
    """The children the owner of ``parent`` reads: those whose ``ParentShardId`` (first parent) it is."""
    return tuple(c for c in children if c.parents and c.parents[0] == parent)


def restart_roots(listed: Iterable[ShardInfo], owned: Iterable[ShardCursor]) -> Tuple[ShardInfo, ...]:
    """The shards of a recreated stream that a restriction of the old one reads: those none of whose parents is
    listed (their listed children join at their end), whose first hash key lies in the hash range of one of the
    restriction's shards. The old shards' ranges, across all restrictions, cover every hash key once, so each
    new shard is read by one restriction."""
    listed = tuple(listed)
    ids = {s.shard_id for s in listed}
    ranges = [c.hash_range for c in owned if c.hash_range is not None]
    return tuple(s for s in listed if not any(p in ids for p in s.parents) and s.hash_range is not None
                 and any(first <= s.hash_range[0] <= last for first, last in ranges))


def expired_successors(gone: ShardCursor, listed: Iterable[ShardInfo], owned: Iterable[str]
                       ) -> Tuple[Tuple[ShardInfo, ...], Tuple[ShardInfo, ...]]:
    """What the restriction of a shard that is gone (past the retention period) reads instead: (its listed
    children, adopted as at a shard's end; its listed descendants whose own parents are gone too).

    A descendant is a listed shard with parents, none of them listed, not owned here nor a child of ``gone``,
    whose first hash key lies in ``gone``'s hash range: the hash keys of a shard pass, over time, to exactly
    one shard at a time, so that shard descends from ``gone``. Without a hash range (a restriction checkpointed
    by an earlier version) no descendant can be attributed: none is returned.
    """
    listed = tuple(listed)
    ids = {s.shard_id for s in listed}
    owned = set(owned)
    children = tuple(s for s in listed if gone.shard_id in s.parents)
    if gone.hash_range is None:
        return children, ()
    first, last = gone.hash_range
    descendants = tuple(
        s for s in listed
        if s.parents and not any(p in ids for p in s.parents) and s.shard_id not in owned
        and gone.shard_id not in s.parents and s.hash_range is not None and first <= s.hash_range[0] <= last
    )
    return children, descendants


@dataclass(frozen=True)
class StreamShards:
    """The element the reader's splittable DoFn gets: a stream and the shards listed at the start.

    Attributes:
        stream: The stream name.
        shards: Every shard ListShards returned (open and closed), with their parents.
        started_at: Epoch seconds of the listing: the instant ``LATEST`` is pinned to and ``max_read_time`` counts from.
        created: When the stream was created (epoch seconds; DescribeStreamSummary), kept by the restrictions.
    """

    stream: str
    shards: Tuple[ShardInfo, ...]
    started_at: float
    created: Optional[float] = None
