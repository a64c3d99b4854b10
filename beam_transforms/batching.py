"""A thread-pooled, bounded, retrying PutRecords batcher (no Beam in here; :mod:`.write` wraps it).

:class:`KinesisBatchWriter` takes :class:`~pyflink_kinesis.EgressRecord` objects one at a time, keeps one
buffer per stream, and sends a buffer as one PutRecords call when it holds ``max_batch_records`` records or
``max_batch_bytes`` bytes. Up to ``max_concurrent_requests`` calls run at once on a small thread pool (boto3
clients are thread safe). Records buffered plus records in flight never exceed ``max_outstanding_records``:
:meth:`KinesisBatchWriter.put` blocks until earlier records are resolved (backpressure). When it would block,
it first sends the partial buffers, so the bound can be smaller than a batch.

Each call's task retries on its own: only the entries that a partially failed PutRecords reports with a
retryable ``ErrorCode``, or the whole call after throttling, a 5xx answer or a connection error, with
exponential backoff and full jitter, bounded by :class:`~.retry.RetryPolicy`. A call refused as a whole for
its content (one record breaking a rule the local checks missed) is split in halves until the refused records
stand alone, so only they fail. Records that cannot be written
either become :class:`KinesisFailedRecord` objects (dead-lettering) or make the next :meth:`put` /
:meth:`flush` raise :class:`KinesisWriteError`.

Ordering: batches to the same stream may be in flight at once and retried entries are resent after later
ones, so records with the same partition key can land out of order (use ``max_concurrent_requests=1`` and
no throttling if order matters).
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from pyflink_kinesis.spec.records import MAX_RECORD_BYTES, EgressRecord
from beam_transforms.settings import MAX_BATCH_BYTES, MAX_BATCH_RECORDS

from .pacing import ShardPacer
from .retry import Attempts, RetryPolicy, error_code, is_rejected, is_retryable, is_retryable_entry
from .write_results import (
    KinesisFailedRecord,
    KinesisThrottledError,
    KinesisWriteError,
    KinesisWriteResult,
    RecordTooLargeError,
    WriterStats,
)

_LOG = logging.getLogger(__name__)
THROTTLED = "ProvisionedThroughputExceededException"
EXPIRED = "RecordTtlExpired"
_SHARD_IN_MESSAGE = re.compile(r"\bshard (shardId-[0-9]+)")

# put()/flush() waits in slices of this many seconds, re-checking for errors in between.
_WAIT_SLICE = 1.0


class _Pending:
    __slots__ = ("record", "entry", "size", "context", "deadline")

    def __init__(self, record: EgressRecord, size: int, context: Any, deadline: float) -> None:
        self.record = record
        self.size = size
        self.context = context
        self.deadline = deadline
        entry = {"Data": record.data, "PartitionKey": record.partition_key}
        if record.explicit_hash_key is not None:
            entry["ExplicitHashKey"] = record.explicit_hash_key
        self.entry = entry


class KinesisBatchWriter:
    """Batches records per stream into PutRecords calls on a thread pool, with bounded memory and retries.

    Args:
        client: A boto3 Kinesis client (from ``KinesisEgressSpec.create_client()``); shared by the threads.
        max_outstanding_records: Records buffered plus in flight at most; :meth:`put` blocks beyond it.
        max_concurrent_requests: PutRecords calls in flight at once (the thread pool size).
        retry_policy: Backoff and bounds of retries.
        dead_letter: ``True``: records that cannot be written are kept for :meth:`drain` as
            :class:`KinesisFailedRecord`; ``False``: they make :meth:`put`/:meth:`flush` raise.
        max_batch_records: Records per call (1 to 500).
        max_batch_bytes: Bytes (data plus partition keys) per call (up to 5 MiB).
        sleep: The sleep function for backoff (tests may replace it).
        rng: Random source for the jitter.
        record_ttl: Seconds from :meth:`put` within which a record must be written, else it is dropped and
            counted (``stats.records_expired``) with a warning naming the stream, dead-lettered with
            ``dead_letter``, or it fails the writer with ``fail_on_error``; ``None``: never.
        fail_on_error: A record past ``record_ttl`` fails the writer.
        fail_on_throttling: The first throttled record fails the writer (:class:`KinesisThrottledError`).
        pacer: Paces each call's shards (``sink.rate-limit``), or ``None``.
        max_record_bytes: The largest record :meth:`put` takes (the caller checks each stream's own limit).
    """

    def __init__(
        self,
        client: Any,
        *,
        max_outstanding_records: int = 1000,
        max_concurrent_requests: int = 4,
        retry_policy: RetryPolicy = RetryPolicy(),
        dead_letter: bool = False,
        max_batch_records: int = MAX_BATCH_RECORDS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        sleep: Callable[[float], None] = time.sleep,
        rng: Optional[random.Random] = None,
        record_ttl: Optional[float] = None,
        fail_on_error: bool = False,
        fail_on_throttling: bool = False,
        pacer: Optional[ShardPacer] = None,
        max_record_bytes: int = MAX_RECORD_BYTES,
    ) -> None:
        if not 1 <= max_batch_records <= MAX_BATCH_RECORDS:
            raise ValueError(f"max_batch_records must be 1 to {MAX_BATCH_RECORDS}, got {max_batch_records}")
        if not MAX_RECORD_BYTES <= max_batch_bytes <= MAX_BATCH_BYTES:
            raise ValueError(f"max_batch_bytes must be {MAX_RECORD_BYTES} to {MAX_BATCH_BYTES}, got {max_batch_bytes}")
        if max_outstanding_records < 1:
            raise ValueError(f"max_outstanding_records must be >= 1, got {max_outstanding_records}")
        if max_concurrent_requests < 1:
            raise ValueError(f"max_concurrent_requests must be >= 1, got {max_concurrent_requests}")
        self._client = client
        self._ttl = record_ttl
        self._fail_on_error = fail_on_error
        self._fail_on_throttling = fail_on_throttling
        self._pacer = pacer
        self._max_record_bytes = max_record_bytes
        self._max_outstanding = max_outstanding_records
        self._max_records = max_batch_records
        self._max_bytes = max_batch_bytes
        self._policy = retry_policy
        self._dead_letter = dead_letter
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._cond = threading.Condition()
        self._buffers: Dict[str, List[_Pending]] = {}
        self._buffer_bytes: Dict[str, int] = {}
        self._outstanding = 0
        self._inflight = 0
        self._error: Optional[BaseException] = None
        self._written: Deque[Tuple[KinesisWriteResult, Any]] = deque()
        self._failed: Deque[Tuple[KinesisFailedRecord, Any]] = deque()
        self._executor = ThreadPoolExecutor(max_concurrent_requests, thread_name_prefix="kinesis-put-records")
        # Longest a put()/flush() waits without any record being resolved before it gives up:
        # every call is bounded by the retry budget plus the client's own timeouts.
        self.stall_timeout = retry_policy.max_elapsed + 300.0
        self.stats = WriterStats()

    @property
    def error(self) -> Optional[BaseException]:
        """The error that stopped the writer (without dead-lettering), or ``None``."""
        return self._error

    @property
    def outstanding(self) -> int:
        """Records buffered or in flight now."""
        return self._outstanding

    def put(self, record: EgressRecord, context: Any = None) -> None:
        """Add a record; blocks while ``max_outstanding_records`` are buffered or in flight.

        Args:
            record: The record to write.
            context: Anything; handed back with the record's result or failure (the DoFn passes the
                element's timestamp and window).

        Raises:
            RecordTooLargeError: The record is over ``max_record_bytes`` (data plus partition key).
            KinesisWriteError: An earlier record failed for good (without dead-lettering).
        """
        size = record.size
        if size > self._max_record_bytes:
            raise RecordTooLargeError(record, self._max_record_bytes)
        deadline = float("inf") if self._ttl is None else time.monotonic() + self._ttl
        stream = record.stream
        with self._cond:
            if self._error is not None:
                raise self._error
            buffer = self._buffers.get(stream)
            if buffer is None:
                buffer = self._buffers[stream] = []
                self._buffer_bytes[stream] = 0
            elif self._buffer_bytes[stream] + size > self._max_bytes:
                self._submit(stream)
                buffer = self._buffers[stream]
            if self._outstanding >= self._max_outstanding:
                self._wait_locked(lambda: self._outstanding < self._max_outstanding, "capacity")
                buffer = self._buffers[stream]
            buffer.append(_Pending(record, size, context, deadline))
            self._buffer_bytes[stream] += size
            self._outstanding += 1
            if self._outstanding > self.stats.high_water:
                self.stats.high_water = self._outstanding
            if len(buffer) >= self._max_records or self._buffer_bytes[stream] >= self._max_bytes:
                self._submit(stream)

    def flush(self) -> None:
        """Send every buffer and wait until all records are written or failed.

        Raises:
            KinesisWriteError: Some record failed for good (without dead-lettering).
        """
        with self._cond:
            self._wait_locked(lambda: self._inflight == 0 and self._outstanding == 0, "flush")
            if self._error is not None:
                raise self._error

    def send_buffered(self) -> None:
        """Send every partial buffer now, without waiting for it (a flush on time, from any thread)."""
        with self._cond:
            if self._error is None:
                for stream in [s for s, b in self._buffers.items() if b]:
                    self._submit(stream)

    def drain(self) -> Tuple[List[Tuple[KinesisWriteResult, Any]], List[Tuple[KinesisFailedRecord, Any]]]:
        """Take the results and dead-lettered failures resolved so far, each with its ``context``."""
        written: List[Tuple[KinesisWriteResult, Any]] = []
        failed: List[Tuple[KinesisFailedRecord, Any]] = []
        while self._written:
            written.append(self._written.popleft())
        while self._failed:
            failed.append(self._failed.popleft())
        return written, failed

    def has_results(self) -> bool:
        """True when :meth:`drain` would return something."""
        return bool(self._written or self._failed)

    def close(self, wait: bool = True) -> None:
        """Stop the thread pool (buffered records that were not flushed are dropped)."""
        self._executor.shutdown(wait=wait)

    # -- internals; the *_locked methods run with self._cond held ------------------------------------

    def _wait_locked(self, done: Callable[[], bool], what: str) -> None:
        """Send partial buffers and wait until ``done()``, an error, or no progress for stall_timeout."""
        last_progress = time.monotonic()
        last_outstanding = self._outstanding
        while not done():
            if self._error is not None:
                raise self._error
            for stream in [s for s, b in self._buffers.items() if b]:
                self._submit(stream)
            if self._inflight == 0 and not done():  # nothing can free capacity: a bug, not a wait
                raise RuntimeError(f"kinesis writer stuck waiting for {what} with nothing in flight")
            self._cond.wait(_WAIT_SLICE)
            if self._outstanding != last_outstanding:
                last_outstanding, last_progress = self._outstanding, time.monotonic()
            elif time.monotonic() - last_progress > self.stall_timeout:
                raise TimeoutError(
                    f"kinesis writer made no progress for {self.stall_timeout:.0f} s waiting for {what} "
                    f"({self._outstanding} records outstanding, {self._inflight} calls in flight)"
                )

    def _submit(self, stream: str) -> None:
        batch = self._buffers[stream]
        if not batch:
            return
        self._buffers[stream] = []
        self._buffer_bytes[stream] = 0
        self._inflight += 1
        try:
            self._executor.submit(self._send, stream, batch)
        except BaseException:
            self._inflight -= 1
            raise

    def _send(self, stream: str, pending: List[_Pending]) -> None:
        """One batch's life on a pool thread: its calls, then the halves of a batch refused as a whole."""
        batches = [pending]
        current: List[List[_Pending]] = [[]]  # the records _send_batch has not resolved yet
        try:
            while batches:
                current[0] = batches.pop()
                batches.extend(self._send_batch(stream, current))
        except BaseException as e:  # a bug or an unexpected answer: never lose it silently
            with self._cond:
                if self._error is None:
                    self._error = e
                self._outstanding -= sum(len(b) for b in batches) + len(current[0])
                self._cond.notify_all()
        finally:
            with self._cond:
                self._inflight -= 1
                self._cond.notify_all()

    def _send_batch(self, stream: str, current: List[List[_Pending]]) -> List[List[_Pending]]:
        """Call, keep what was written, retry what may succeed later, give up on the rest.

        A call the service refuses as a whole for its content (``InvalidArgumentException``: one record
        breaks a rule the local checks do not know) is split in halves, returned to be sent on their own,
        until the refused records stand alone: only they fail, named by stream and partition key.
        """
        pending = current[0]
        attempts = self._policy.attempts(f"PutRecords stream {stream}", self._sleep, self._rng)
        calls = 0  # PutRecords calls made for these records
        while pending:
            pending = self._expire(stream, pending, calls)
            if not pending:
                break
            current[0] = pending
            tries = [0]
            try:
                response = attempts.call(self._put_records, stream, pending, tries, give_up=None,
                                         recover=self._throttled_call if self._fail_on_throttling else None)
            except Exception as e:  # noqa: BLE001 - not retryable, or retries spent
                if is_rejected(e) and len(pending) > 1:
                    with self._cond:
                        self.stats.split_calls += 1
                    half = len(pending) // 2
                    current[0] = []
                    return [pending[half:], pending[:half]]  # popped from the end: the first half goes first
                calls += tries[0]
                if self._fail_on_throttling and error_code(e) == THROTTLED:
                    raise self._throttled(stream, pending[0].record, str(e), calls, attempts.elapsed) from e
                self._give_up(stream, pending, error_code(e), str(e), calls, attempts.elapsed, is_retryable(e))
                break
            calls += tries[0]
            pending = self._resolve_entries(stream, pending, response, calls, attempts, current)
        current[0] = []
        return []

    def _put_records(self, stream: str, pending: List[_Pending], tries: List[int]) -> Dict[str, Any]:
        """One PutRecords call; ``tries`` counts them (beyond the first: a whole call repeated after an error)."""
        tries[0] += 1
        if self._pacer is not None:
            self._pacer.acquire(stream, [p.record for p in pending])
        with self._cond:
            self.stats.calls += 1
            if tries[0] > 1:
                self.stats.call_retries += 1
        started = time.monotonic()
        response: Dict[str, Any] = self._client.put_records(StreamName=stream, Records=[p.entry for p in pending])
        if self._pacer is not None:
            self._pacer.observe(time.monotonic() - started)
        return response

    def _resolve_entries(self, stream: str, pending: List[_Pending], response: Dict[str, Any], calls: int,
                         attempts: Attempts, current: List[List[_Pending]]) -> List[_Pending]:
        """Settle each entry of an answer by its ``ErrorCode``; sleep and return those to send again."""
        entries = response.get("Records") or []
        if len(entries) != len(pending):
            raise RuntimeError(f"PutRecords to stream '{stream}' answered {len(entries)} entries for {len(pending)} records")
        retry: List[_Pending] = []
        written: List[Tuple[KinesisWriteResult, Any]] = []
        last_code = last_message = ""
        for p, entry in zip(pending, entries):  # per-entry ErrorCode decides (FailedRecordCount only sums it)
            code = entry.get("ErrorCode")
            if not code:
                r = p.record
                written.append((KinesisWriteResult(stream, r.partition_key, r.explicit_hash_key,
                                                   entry["ShardId"], entry["SequenceNumber"], calls), p.context))
            elif is_retryable_entry(code):
                retry.append(p)
                last_code, last_message = code, entry.get("ErrorMessage", "")
            else:
                self._give_up(stream, [p], code, entry.get("ErrorMessage", ""), calls, attempts.elapsed, False)
        self._resolve_written(written)
        current[0] = retry
        if self._fail_on_throttling:
            self._fail_if_throttled(stream, pending, entries, calls, attempts.elapsed)
        if not retry:
            return []
        delay = attempts.delay_after(f"{len(retry)} entries failed with {last_code}")
        if delay is None:
            self._give_up(stream, retry, last_code, last_message, calls, attempts.elapsed, True)
            return []
        with self._cond:
            self.stats.entry_retries += len(retry)
        self._sleep(delay)
        return retry

    def _throttled_call(self, error: BaseException) -> bool:
        """A whole call throttled with ``fail_on_throttling``: handed to the caller at once (never retried)."""
        if error_code(error) == THROTTLED:
            raise error
        return False

    def _fail_if_throttled(self, stream: str, pending: List[_Pending], entries: List[Dict[str, Any]], calls: int,
                           elapsed: float) -> None:
        """Raise :class:`KinesisThrottledError` for the first throttled entry, naming its shard."""
        for p, entry in zip(pending, entries):
            if entry.get("ErrorCode") == THROTTLED:
                raise self._throttled(stream, p.record, entry.get("ErrorMessage", ""), calls, elapsed)

    def _throttled(self, stream: str, record: EgressRecord, message: str, calls: int,
                   elapsed: float) -> KinesisThrottledError:
        """The error for a throttled record: its shard from the service's words, else as the pacer predicts it."""
        found = _SHARD_IN_MESSAGE.search(message)
        shard = found.group(1) if found else self._pacer.maps.predict(record).shard_id if self._pacer else "?"
        return KinesisThrottledError(stream, shard, message, record.partition_key, calls, elapsed)

    def _expire(self, stream: str, pending: List[_Pending], calls: int) -> List[_Pending]:
        """The records still within the record TTL; the others are dropped, dead-lettered or fail the writer."""
        if self._ttl is None:
            return pending
        now = time.monotonic()
        expired = [p for p in pending if p.deadline <= now]
        if not expired:
            return pending
        message = f"not written within sink.record-ttl ({self._ttl:g} s)"
        with self._cond:
            self.stats.records_expired += len(expired)
            if self._fail_on_error:
                if self._error is None:
                    self._error = KinesisWriteError(stream, EXPIRED, f"{message}; sink.fail-on-error is set",
                                                    len(expired), calls, self._ttl, False,
                                                    [p.record.partition_key for p in expired])
            elif self._dead_letter:
                self._failed.extend((KinesisFailedRecord(p.record, EXPIRED, message, calls), p.context) for p in expired)
            self._outstanding -= len(expired)
            self._cond.notify_all()
        if not self._fail_on_error and not self._dead_letter:
            _LOG.warning("PutRecords stream %s: dropped %d record(s) %s", stream, len(expired), message)
        return [p for p in pending if p.deadline > now]

    def _resolve_written(self, written: List[Tuple[KinesisWriteResult, Any]]) -> None:
        if not written:
            return
        self._written.extend(written)
        with self._cond:
            self.stats.records_written += len(written)
            self._outstanding -= len(written)
            self._cond.notify_all()

    def _give_up(self, stream: str, pending: List[_Pending], code: str, message: str, attempts: int,
                 elapsed: float, retryable: bool) -> None:
        with self._cond:
            self.stats.records_failed += len(pending)
            if self._dead_letter:
                for p in pending:
                    self._failed.append((KinesisFailedRecord(p.record, code, message, attempts), p.context))
            elif self._error is None:
                self._error = KinesisWriteError(stream, code, message, len(pending), attempts, elapsed, retryable,
                                                [p.record.partition_key for p in pending])
            self._outstanding -= len(pending)
            self._cond.notify_all()
