"""The KPL's aggregated record format, both ways, without protobuf: :func:`deaggregate` and :class:`AggregateBuilder`.

The Kinesis Producer Library (``aws_kinesis_agg`` and WriteToKinesis with ``sink.aggregation.enabled``) packs
several user records into one Kinesis record::

    F3 89 9A C2 | AggregatedRecord (protobuf) | MD5 of the protobuf bytes (16 bytes)

``AggregatedRecord`` holds a partition key table, an explicit hash key table and
the user records (``partition_key_index``, ``explicit_hash_key_index``, ``data``,
tags). A record that does not start with the magic bytes, or whose checksum or
protobuf does not check out, is a plain record, as the KCL treats it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import List, Optional, Tuple

MAGIC = b"\xf3\x89\x9a\xc2"
_DIGEST = 16


@dataclass(frozen=True)
class UserRecord:
    """One user record inside an aggregated Kinesis record.

    Attributes:
        partition_key: The partition key the user record was added with.
        explicit_hash_key: Its explicit hash key, if it had one.
        data: Its payload, byte for byte.
    """

    partition_key: str
    explicit_hash_key: Optional[str]
    data: bytes


class _Malformed(ValueError):
    pass


def _varint(buf: bytes, pos: int) -> Tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Malformed("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> List[Tuple[int, object]]:
    """(field number, value) pairs of a protobuf message: ints for varints, bytes for length-delimited."""
    out: List[Tuple[int, object]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise _Malformed("truncated field")
            out.append((number, bytes(buf[pos : pos + length])))
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise _Malformed(f"unsupported wire type {wire}")
    if pos != len(buf):
        raise _Malformed("truncated message")
    return out


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _varint_bytes(number << 3 | 2) + _varint_bytes(len(payload)) + payload


class AggregateBuilder:
    """User records packed into one KPL aggregated record (``AggregatedRecord`` protobuf, magic bytes and MD5).

    Each user record keeps its partition key and explicit hash key (in the message's key tables) and its
    data byte for byte; :meth:`encode` gives the Kinesis record's data. Not thread safe.
    """

    def __init__(self) -> None:
        self._keys: dict = {}
        self._hash_keys: dict = {}
        self._tables = bytearray()
        self._records = bytearray()
        self.count = 0

    @property
    def size(self) -> int:
        """Bytes of the encoded record (magic, message and digest)."""
        return len(MAGIC) + len(self._tables) + len(self._records) + _DIGEST

    def _entry(self, partition_key: str, explicit_hash_key: Optional[str], data: bytes) -> Tuple[bytes, bytes]:
        """(key table additions, record field) for one user record."""
        tables = b""
        key_index = self._keys.get(partition_key)
        if key_index is None:
            key_index = len(self._keys)
            tables += _length_delimited(1, partition_key.encode("utf-8"))
        inner = _varint_bytes(1 << 3) + _varint_bytes(key_index)
        if explicit_hash_key is not None:
            hash_index = self._hash_keys.get(explicit_hash_key)
            if hash_index is None:
                hash_index = len(self._hash_keys)
                tables += _length_delimited(2, explicit_hash_key.encode("ascii"))
            inner += _varint_bytes(2 << 3) + _varint_bytes(hash_index)
        inner += _length_delimited(3, data)
        return tables, _length_delimited(3, inner)

    def size_with(self, partition_key: str, explicit_hash_key: Optional[str], data: bytes) -> int:
        """Bytes of the encoded record if this user record were added."""
        tables, record = self._entry(partition_key, explicit_hash_key, data)
        return self.size + len(tables) + len(record)

    def add(self, partition_key: str, explicit_hash_key: Optional[str], data: bytes) -> None:
        """Add one user record."""
        tables, record = self._entry(partition_key, explicit_hash_key, data)
        self._keys.setdefault(partition_key, len(self._keys))
        if explicit_hash_key is not None:
            self._hash_keys.setdefault(explicit_hash_key, len(self._hash_keys))
        self._tables += tables
        self._records += record
        self.count += 1

    def encode(self) -> bytes:
        """The aggregated record's bytes: magic, ``AggregatedRecord`` (key tables first), MD5 of the message."""
        message = bytes(self._tables + self._records)
        return MAGIC + message + hashlib.md5(message).digest()


def is_aggregated(data: bytes) -> bool:
    """True if ``data`` starts with the KPL magic bytes and its MD5 checksum matches."""
    if len(data) < len(MAGIC) + _DIGEST or not data.startswith(MAGIC):
        return False
    body = data[len(MAGIC) : -_DIGEST]
    return hashlib.md5(body).digest() == data[-_DIGEST:]


def deaggregate(data: bytes) -> Optional[List[UserRecord]]:
    """The user records of a KPL-aggregated record, in order, or ``None`` if ``data`` is a plain record.

    Args:
        data: The payload of one Kinesis record.
    """
    if not is_aggregated(data):
        return None
    try:
        keys: List[str] = []
        hash_keys: List[str] = []
        raw: List[bytes] = []
        for number, value in _fields(data[len(MAGIC) : -_DIGEST]):
            if not isinstance(value, bytes):
                continue
            if number == 1:
                keys.append(value.decode("utf-8"))
            elif number == 2:
                hash_keys.append(value.decode("utf-8"))
            elif number == 3:
                raw.append(value)
        records: List[UserRecord] = []
        for message in raw:
            key_index: Optional[int] = None
            hash_index: Optional[int] = None
            payload = b""
            for number, value in _fields(message):
                if number == 1 and isinstance(value, int):
                    key_index = value
                elif number == 2 and isinstance(value, int):
                    hash_index = value
                elif number == 3 and isinstance(value, bytes):
                    payload = value
            if key_index is None or key_index >= len(keys):
                raise _Malformed("partition key index out of range")
            hash_key = hash_keys[hash_index] if hash_index is not None and hash_index < len(hash_keys) else None
            records.append(UserRecord(keys[key_index], hash_key, payload))
    except (_Malformed, UnicodeDecodeError):
        return None
    return records


__all__ = ["MAGIC", "AggregateBuilder", "UserRecord", "deaggregate", "is_aggregated"]
