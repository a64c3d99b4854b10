"""A deterministic Beam coder for :class:`~pyflink_kinesis.IngressRecord` (no pickling per record).

Layout: a fixed header (lengths of the data and the four text fields, the arrival time in
microseconds since the epoch, the sub-sequence number or -1), then the data bytes and the UTF-8
text fields. Equal records always encode to the same bytes, so records can be keys of a GroupByKey
and are compared as bytes by runners. Importing :mod:`beam_transforms.read` registers it.
"""

from __future__ import annotations

import struct
from datetime import datetime, timedelta, timezone
from typing import Any

import apache_beam as beam

from pyflink_kinesis.spec.records import IngressRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_HEAD = struct.Struct(">IHHHHqq")  # data, stream, shard id, partition key, sequence number; arrival; sub


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class IngressRecordCoder(beam.coders.Coder):
    """Encodes an IngressRecord field by field; arrival times come back as aware UTC datetimes."""

    def encode(self, value: IngressRecord) -> bytes:
        stream = value.stream.encode("utf-8")
        shard = value.shard_id.encode("utf-8")
        key = value.partition_key.encode("utf-8")
        sequence = value.sequence_number.encode("ascii")
        sub = -1 if value.sub_sequence_number is None else value.sub_sequence_number
        head = _HEAD.pack(len(value.data), len(stream), len(shard), len(key), len(sequence),
                          _micros(value.approximate_arrival_timestamp), sub)
        return b"".join((head, value.data, stream, shard, key, sequence))

    def decode(self, encoded: bytes) -> IngressRecord:
        n_data, n_stream, n_shard, n_key, n_sequence, micros, sub = _HEAD.unpack_from(encoded)
        view = memoryview(encoded)
        at = _HEAD.size
        data = bytes(view[at:at + n_data])
        at += n_data
        stream = str(view[at:at + n_stream], "utf-8")
        at += n_stream
        shard = str(view[at:at + n_shard], "utf-8")
        at += n_shard
        key = str(view[at:at + n_key], "utf-8")
        at += n_key
        sequence = str(view[at:at + n_sequence], "ascii")
        return IngressRecord(data, stream, shard, key, sequence, _EPOCH + timedelta(microseconds=micros),
                             None if sub < 0 else sub)

    def is_deterministic(self) -> bool:
        return True

    def to_type_hint(self) -> Any:
        return IngressRecord

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


beam.coders.registry.register_coder(IngressRecord, IngressRecordCoder)

__all__ = ["IngressRecordCoder"]
