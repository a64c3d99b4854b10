"""The records user code sees: what was read (IngressRecord) and what to write (EgressRecord)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from .errors import ConfigError

MAX_RECORD_BYTES = 1024 * 1024  # the Kinesis limit on data plus partition key
MAX_PARTITION_KEY_CHARS = 256


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
        if not isinstance(self.stream, str) or not self.stream:
            raise ConfigError(f"expected a stream name, got {self.stream!r}", field="EgressRecord.stream")
        if not isinstance(self.partition_key, str) or not 1 <= len(self.partition_key) <= MAX_PARTITION_KEY_CHARS:
            raise ConfigError(
                f"expected a partition key of 1 to {MAX_PARTITION_KEY_CHARS} characters, got {self.partition_key!r}",
                field="EgressRecord.partition_key",
            )
        if self.explicit_hash_key is not None and not (
            isinstance(self.explicit_hash_key, str) and self.explicit_hash_key.isdigit() and int(self.explicit_hash_key) < 2**128
        ):
            raise ConfigError(
                f"expected a decimal number below 2**128, got {self.explicit_hash_key!r}",
                field="EgressRecord.explicit_hash_key",
            )

    @property
    def size(self) -> int:
        """Bytes this record counts against the 1 MiB record limit (data plus UTF-8 partition key)."""
        return len(self.data) + len(self.partition_key.encode("utf-8"))

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
