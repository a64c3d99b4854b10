"""Claiming and emitting the records of one GetRecords answer (or one subscription event adapted to it)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from pyflink_kinesis.spec.builders import KinesisIngressSpec
from pyflink_kinesis.spec.records import IngressRecord
from pyflink_kinesis.spec.serde import DeserializationError, deserialization_error, record_location
from pyflink_kinesis.spec.shard_limits import hash_key_of

from .aggregation import deaggregate
from .positions import RecordClaim, ShardCursor, StopClaim
from .shards import start_floor_micros

_LOG = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc) - _EPOCH

# One user record: (sub-sequence number or None, partition key, data, last of its Kinesis record).
_UserRecord = Tuple[Optional[int], str, bytes, bool]


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _ONE_MICRO


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def event_micros(moment: Any) -> int:
    """Microseconds since the epoch of what a ``timestamp_fn`` returned: a ``datetime`` (naive: UTC), a Beam
    ``Timestamp``, or seconds since the epoch (int or float)."""
    if isinstance(moment, datetime):
        return _micros(moment)
    if isinstance(moment, Timestamp):
        return int(moment.micros)
    if isinstance(moment, (int, float)) and not isinstance(moment, bool) and moment == moment:
        return int(round(moment * 1_000_000))
    raise TypeError(f"expected a datetime, a Beam Timestamp or epoch seconds, got {type(moment).__name__} {moment!r}")


def user_records(record: Dict[str, Any], hash_range: Optional[Tuple[int, int]] = None) -> List[_UserRecord]:
    """The user records of a Kinesis record: itself, or those of its KPL aggregate whose hash key the shard's
    ``hash_range`` (first, last; ``None``: not known) holds. The KCL drops the others too: a writer that packed
    the aggregate for a shard since split wrote them again to the shard they hash to now."""
    data = bytes(record["Data"])
    users = deaggregate(data)
    if users is None:
        return [(None, record["PartitionKey"], data, True)]
    held = [(i, u) for i, u in enumerate(users)
            if hash_range is None or hash_range[0] <= hash_key_of(u.partition_key, u.explicit_hash_key) <= hash_range[1]]
    return [(i, u.partition_key, u.data, n == len(held) - 1) for n, (i, u) in enumerate(held)]


class RecordEmitter:
    """Claims each record of an answer from the tracker, then emits it as a timestamped element.

    Args:
        spec: The ingress spec (its deserializer and startup position).
        on_deserialize_error: ``"fail"`` or ``"skip"`` (also for a ``timestamp_fn`` that raises).
        counters: Beam counters ``records_read``, ``skipped_records`` and ``deserialize_errors``.
        timestamp_fn: ``timestamp_fn(record, value)``: the element's event time (see ``ReadFromKinesis``);
            ``None``: the record's arrival time.
        max_out_of_orderness: Seconds a shard's element timestamps may go back; its watermark mark is the
            highest timestamp emitted less this.
    """

    def __init__(self, spec: KinesisIngressSpec, on_deserialize_error: str, counters: Dict[str, Any],
                 timestamp_fn: Optional[Callable[[IngressRecord, Any], Any]] = None,
                 max_out_of_orderness: float = 0.0) -> None:
        self._spec = spec
        self._skip_errors = on_deserialize_error == "skip"
        self._counters = counters
        self._floor = start_floor_micros(spec.startup_position)
        self._timestamp_fn = timestamp_fn
        self.held_back = int(round(max_out_of_orderness * 1_000_000))

    def emit(self, tracker: Any, stream: str, cursor: ShardCursor, response: Dict[str, Any],
             marks: Dict[str, int], records_left: Optional[int], outcome: List[Any]) -> Iterator[Any]:
        """Claim and emit the records of ``response``; sets ``outcome`` to [status, records claimed, cursor].

        Status: ``"ok"``, ``"end"`` (the shard ended), ``"stopped"`` (``max_records`` ended the restriction)
        or ``"stop"`` (a claim failed: the restriction was checkpointed, or the shard split off to a residual).
        The cursor is where the shard stands after the records claimed.
        """
        count = 0
        resuming = cursor.sequence_number is not None
        for record in response.get("Records") or ():
            sequence_number = record["SequenceNumber"]
            arrival = _utc(record["ApproximateArrivalTimestamp"])
            micros = _micros(arrival)
            if self._floor is not None and micros < self._floor:
                continue  # arrived before an AT_TIMESTAMP start (see start_floor_micros)
            for sub, partition_key, payload, last in user_records(record, cursor.hash_range):
                if resuming:  # the records of one answer only move forward: check until one is new
                    if cursor.is_after(sequence_number, sub):
                        continue  # emitted before this resume (inside an aggregate)
                    resuming = False
                if records_left is not None and count >= records_left:
                    stopped = tracker.try_claim(StopClaim())
                    outcome[:] = ["stopped" if stopped else "stop", count, cursor]
                    return
                record = IngressRecord(
                    data=payload, stream=stream, shard_id=cursor.shard_id, partition_key=partition_key,
                    sequence_number=sequence_number, approximate_arrival_timestamp=arrival, sub_sequence_number=sub,
                )
                value = self._value(record)
                stamp = self._timestamp(record, value, micros)
                if not tracker.try_claim(RecordClaim(cursor.shard_id, sequence_number, sub, last, stamp)):
                    outcome[:] = ["stop", count, cursor]
                    return
                cursor = cursor.advanced(sequence_number, None if last else sub, stamp)  # mirrors the claim
                count += 1
                self._counters["records_read"].inc()
                if stamp is not None:
                    mark = stamp - self.held_back
                    marks[cursor.shard_id] = max(marks.get(cursor.shard_id, mark), mark)
                if value is not None and stamp is not None:
                    yield TimestampedValue(value, Timestamp(micros=stamp))
        outcome[:] = ["end" if response.get("NextShardIterator") is None else "ok", count, cursor]

    def _timestamp(self, record: IngressRecord, value: Any, arrival_micros: int) -> Optional[int]:
        """The element's timestamp in microseconds: ``timestamp_fn``'s event time, else the arrival time;
        ``None`` for a record emitted as no element when ``timestamp_fn`` is set (skipped, or its error skipped)."""
        if self._timestamp_fn is None:
            return arrival_micros
        if value is None:
            return None
        try:
            return event_micros(self._timestamp_fn(record, value))
        except Exception as e:  # noqa: BLE001 - user code
            error = DeserializationError(f"ingress {self._spec.id}: timestamp_fn failed on the record at "
                                         f"{record_location(record)}: {type(e).__name__}: {e}")
            if not self._skip_errors:
                raise error from e
            self._counters["deserialize_errors"].inc()
            _LOG.warning("%s; skipping it", error)
            return None

    def _value(self, record: IngressRecord) -> Any:
        """The element for a record: the deserializer's value (``None``: skip it), or the record itself."""
        deserializer = self._spec.deserializer
        if deserializer is None:
            return record
        try:
            value = deserializer(record)
        except Exception as e:  # noqa: BLE001 - user code
            if not self._skip_errors:
                raise deserialization_error(self._spec.id, record, e) from e
            self._counters["deserialize_errors"].inc()
            _LOG.warning("ingress %s: skipping a record that failed to deserialize (%s): %r",
                         self._spec.id, record_location(record), e)
            return None
        if value is None:
            self._counters["skipped_records"].inc()
        return value
