"""What a write outcome looks like: a record's result, a dead-lettered record, the errors, and the writer's counters."""

from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Sequence

from pyflink_kinesis.spec.records import MAX_RECORD_BYTES, EgressRecord


class KinesisWriteResult(NamedTuple):
    """Where one record was written.

    Attributes:
        stream: The stream it was written to.
        partition_key: Its partition key.
        explicit_hash_key: Its explicit hash key, or ``None``.
        shard_id: The shard Kinesis put it in, e.g. ``"shardId-000000000001"``.
        sequence_number: Its sequence number within that shard.
        attempts: PutRecords calls it took (1 when it went through at once).
        sub_sequence_number: Its index inside the aggregate it was written in (``sink.aggregation.enabled``),
            ``None`` for a plain record.
    """

    stream: str
    partition_key: str
    explicit_hash_key: Optional[str]
    shard_id: str
    sequence_number: str
    attempts: int
    sub_sequence_number: Optional[int] = None


class KinesisFailedRecord(NamedTuple):
    """A record that was not written (dead-letter output).

    Attributes:
        record: The record, as the serializer made it.
        error_code: ``RecordTooLarge``, the PutRecords entry ``ErrorCode`` or the whole-call error code.
        error_message: What went wrong, in words.
        attempts: PutRecords calls made for it (0 for records rejected before sending).
    """

    record: EgressRecord
    error_code: str
    error_message: str
    attempts: int


class RecordTooLargeError(ValueError):
    """A record is larger than its stream accepts (1 MiB of data plus partition key, unless the stream allows more)."""

    def __init__(self, record: EgressRecord, limit: int = MAX_RECORD_BYTES, source: Optional[str] = None) -> None:
        self.record = record
        self.limit = limit
        super().__init__(too_large_message(record, limit, source))


def too_large_message(record: EgressRecord, limit: int = MAX_RECORD_BYTES, source: Optional[str] = None) -> str:
    """The error text for a record over ``limit`` bytes, naming its stream, partition key, size and where the
    limit came from."""
    key = record.partition_key if len(record.partition_key) <= 64 else record.partition_key[:61] + "..."
    return (
        f"record for stream '{record.stream}' with partition key '{key}' is {record.size} bytes "
        f"(data {len(record.data)} + partition key), over the Kinesis limit of {limit} bytes per record"
        f"{f' ({source})' if source else ''}"
    )


class KinesisWriteError(RuntimeError):
    """Records could not be written to a stream, after retrying where retrying could help.

    Attributes:
        stream: The stream.
        error_code: The last error code (entry ``ErrorCode`` or whole-call error).
        error_message: The last error message.
        records: How many records failed this way.
        attempts: PutRecords calls made for them.
        partition_keys: The partition keys of the failed records.
    """

    def __init__(self, stream: str, error_code: str, error_message: str, records: int, attempts: int,
                 elapsed: float, retryable: bool, partition_keys: Sequence[str] = ()) -> None:
        self.stream = stream
        self.partition_keys = list(partition_keys)
        self.error_code = error_code
        self.error_message = error_message
        self.records = records
        self.attempts = attempts
        why = "retries exhausted" if retryable else "not retryable"
        keys = ", ".join(repr(k if len(k) <= 40 else k[:37] + "...") for k in self.partition_keys[:3])
        if len(self.partition_keys) > 3:
            keys += ", ..."
        super().__init__(
            f"PutRecords to stream '{stream}' failed for {records} record(s)"
            f"{f' (partition key {keys})' if keys else ''} after {attempts} attempt(s) "
            f"in {elapsed:.1f} s ({why}): {error_code}: {error_message}"
        )


class KinesisThrottledError(KinesisWriteError):
    """A record was throttled and ``sink.fail-on-throttling`` is set: the write fails at once.

    Attributes:
        shard: The throttled shard (from the service's message, else the writer's prediction), or ``"?"``.
    """

    def __init__(self, stream: str, shard: str, message: str, partition_key: str, attempts: int,
                 elapsed: float) -> None:
        self.shard = shard
        super().__init__(stream, "ProvisionedThroughputExceededException",
                         f"shard {shard} of stream '{stream}' throttled a record and sink.fail-on-throttling is set: "
                         f"{message}", 1, attempts, elapsed, False, [partition_key])


class WriterStats:
    """Plain counters of a writer (read them from the thread that calls put/flush).

    Attributes:
        records_written: Records Kinesis accepted.
        records_failed: Records given up on.
        calls: PutRecords calls made.
        call_retries: Whole calls repeated after a throttle, 5xx or connection error.
        entry_retries: Entries resent after a partial failure.
        split_calls: Calls refused as a whole for their content, then split in halves.
        high_water: The most records ever buffered plus in flight at once.
        records_expired: Records not written within the record TTL.
    """

    __slots__ = ("records_written", "records_failed", "calls", "call_retries", "entry_retries", "split_calls",
                 "high_water", "records_expired")

    def __init__(self) -> None:
        self.records_written = 0
        self.records_failed = 0
        self.calls = 0
        self.call_retries = 0
        self.entry_retries = 0
        self.split_calls = 0
        self.high_water = 0
        self.records_expired = 0

    def as_dict(self) -> Dict[str, int]:
        """The counters by name."""
        return {name: getattr(self, name) for name in self.__slots__}
