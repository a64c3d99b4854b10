"""The records user code sees: what was read (IngressRecord) and what to write (EgressRecord)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from .errors import ConfigError
from .shard_limits import DEFAULT_MAX_RECORD_BYTES

MAX_RECORD_BYTES = DEFAULT_MAX_RECORD_BYTES  # the Kinesis limit on data plus partition key, unless a stream raised it
MAX_PARTITION_KEY_CHARS = 256
# The service's rules (its API reference's patterns; kinesis-local enforces the same).
STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,128}")
CONSUMER_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")  # the RegisterStreamConsumer constraint
# An enhanced fan-out consumer's lifecycle, as the Beam transforms and from_ingress spell it.
SELF_MANAGED = "self-managed"
JOB_MANAGED = "job-managed"
CONSUMER_LIFECYCLES = (SELF_MANAGED, JOB_MANAGED)
EXPLICIT_HASH_KEY = re.compile(r"0|[1-9][0-9]{0,38}")  # ASCII digits only, no leading zero
MAX_HASH_KEY = 2**128 - 1


def partition_key_length(key: str) -> int:
    """The length Kinesis checks (1 to 256): UTF-16 code units, so a character beyond U+FFFF counts twice."""
    return len(key.encode("utf-16-le", "surrogatepass")) // 2


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


class InvalidRecordError(ConfigError):
    """An EgressRecord that Kinesis would refuse (stream name, partition key or explicit hash key).

    Attributes:
        record: The refused record as it was given, unchecked, for a dead-letter output.
    """

    def __init__(self, message: str, field: str, record: "EgressRecord") -> None:
        super().__init__(message, field=field)
        self.record = record


@dataclass(frozen=True)
class IngressRecord:
    """One record read from a Kinesis stream, with its metadata.

    Attributes:
        data: The record's payload, byte for byte.
        stream: The stream it was read from.
        shard_id: The shard it was read from, e.g. ``"shardId-000000000001"``.
        partition_key: The partition key it was written with.
        sequence_number: Its sequence number within the shard (a decimal string).
        approximate_arrival_timestamp: When Kinesis accepted it (aware, UTC).
        sub_sequence_number: Its index inside a KPL aggregate, ``None`` for plain records.
    """

    data: bytes
    stream: str
    shard_id: str
    partition_key: str
    sequence_number: str
    approximate_arrival_timestamp: datetime
    sub_sequence_number: Optional[int] = None

    # StateFun's Java IngressRecord getters, for code ported from it.
    def get_data(self) -> bytes:
        return self.data

    def get_stream(self) -> str:
        return self.stream

    def get_shard_id(self) -> str:
        return self.shard_id

    def get_partition_key(self) -> str:
        return self.partition_key

    def get_sequence_number(self) -> str:
        return self.sequence_number

    def get_approximate_arrival_timestamp(self) -> datetime:
        return self.approximate_arrival_timestamp


@dataclass(frozen=True)
class EgressRecord:
    """One record to write to Kinesis.

    Attributes:
        data: The payload (bytes; a str is encoded as UTF-8).
        stream: The target stream; lets one egress write to several streams.
        partition_key: Decides the shard (1 to 256 characters).
        explicit_hash_key: Overrides the partition key's hash to pick the shard (a decimal 128-bit number).
    """

    data: bytes
    stream: str
    partition_key: str
    explicit_hash_key: Optional[str] = None

    def __post_init__(self) -> None:
        if isinstance(self.data, str):
            object.__setattr__(self, "data", self.data.encode("utf-8"))
        elif isinstance(self.data, (bytearray, memoryview)):
            object.__setattr__(self, "data", bytes(self.data))
        elif not isinstance(self.data, bytes):
            raise ConfigError(f"expected bytes, got {type(self.data).__name__}", field="EgressRecord.data")
        if not isinstance(self.stream, str) or not STREAM_NAME.fullmatch(self.stream):
            self._refuse("stream", "expected a stream name of 1 to 128 characters from a-z, A-Z, 0-9, '_', '.', '-'")
        length = partition_key_length(self.partition_key) if isinstance(self.partition_key, str) else None
        if length is None or not 1 <= length <= MAX_PARTITION_KEY_CHARS:
            self._refuse("partition_key", f"expected a partition key of 1 to {MAX_PARTITION_KEY_CHARS} characters "
                          f"(UTF-16 code units, as Kinesis counts them), got {length}")
        key = self.explicit_hash_key
        if key is not None and not (isinstance(key, str) and EXPLICIT_HASH_KEY.fullmatch(key)
                                    and int(key) <= MAX_HASH_KEY):
            self._refuse("explicit_hash_key", "expected a decimal number of ASCII digits from 0 to 2**128-1 without "
                          f"leading zeros, got {_short(key)}")

    def _refuse(self, name: str, expected: str) -> None:
        where = f"stream {_short(self.stream)}, partition key {_short(self.partition_key)}"
        raise InvalidRecordError(f"{expected} (record for {where})", f"EgressRecord.{name}", self)

    @property
    def size(self) -> int:
        """Bytes this record counts against the 1 MiB record limit (data plus UTF-8 partition key)."""
        return len(self.data) + len(self.partition_key.encode("utf-8", "surrogatepass"))

    @staticmethod
    def new_builder() -> "EgressRecordBuilder":
        """Start building an EgressRecord, as ``EgressRecord.newBuilder()`` in StateFun's Java SDK."""
        return EgressRecordBuilder()


class EgressRecordBuilder:
    """Builds an :class:`EgressRecord`; every ``with_*`` returns the builder."""

    def __init__(self) -> None:
        self._data: Optional[bytes] = None
        self._stream: Optional[str] = None
        self._partition_key: Optional[str] = None
        self._explicit_hash_key: Optional[str] = None

    def with_data(self, data: bytes) -> "EgressRecordBuilder":
        """Set the payload."""
        self._data = data
        return self

    def with_stream(self, stream: str) -> "EgressRecordBuilder":
        """Set the target stream."""
        self._stream = stream
        return self

    def with_partition_key(self, partition_key: str) -> "EgressRecordBuilder":
        """Set the partition key."""
        self._partition_key = partition_key
        return self

    def with_explicit_hash_key(self, explicit_hash_key: str) -> "EgressRecordBuilder":
        """Set the explicit hash key."""
        self._explicit_hash_key = explicit_hash_key
        return self

    def build(self) -> EgressRecord:
        """Return the record; raises ConfigError naming a missing or invalid field."""
        for name, value in (("data", self._data), ("stream", self._stream), ("partition_key", self._partition_key)):
            if value is None:
                raise ConfigError("is required", field=f"EgressRecord.{name}")
        return EgressRecord(self._data, self._stream, self._partition_key, self._explicit_hash_key)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RoutableMessage:
    """What a routable (StateFun YAML) ingress emits: one per target function of the record's stream.

    Attributes:
        target: The target function type, ``"namespace/name"``.
        id: The function id: the record's partition key.
        type_url: The payload's type (the stream's ``typeUrl``/``valueType``).
        payload: The record's bytes, never parsed.
        record: The record it came from, with its metadata.
    """

    target: str
    id: str
    type_url: str
    payload: bytes
    record: IngressRecord
