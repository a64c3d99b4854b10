"""``ReadFromKinesis``: a pure-Python (boto3) Beam source for Kinesis Data Streams.

Pipeline shape (``expand``)::

    Impulse -> ListShards (one element per stream of the spec, ListShards with pagination)
            -> [Reshuffle, with several streams] -> ReadStreamShards (a splittable DoFn)

The splittable DoFn reads every shard of one stream: GetRecords calls run on a few fetch
threads (one call in flight per shard, at most 5 per second per shard, retries included),
while one thread claims and emits the records, in order within each shard. Its restriction
(:mod:`beam_transforms.restriction`) holds a cursor per shard: the last sequence number
emitted (and the sub-sequence number inside a KPL aggregate) or the startup position. It
self-checkpoints with ``defer_remainder`` when no shard has data (and every
``checkpoint_interval`` seconds), and a residual resumes right after the last record emitted.

Resharding: a stream's shards share one restriction, so the reader finishes a closed
parent (GetRecords returns no NextShardIterator) before it reads the children it names
in ``ChildShards`` (a merged child waits for both parents), keeping per-partition-key
order. Shards that appear later (SplitShard, MergeShards, UpdateShardCount) join through
ChildShards and a periodic ListShards, without a restart. Children start at TRIM_HORIZON;
shards listed at the start use the spec's startup position. The cost: one stream is read
by one worker at a time (its fetch threads overlap the calls); parallelism across workers
is per stream.

On the DirectRunner (FnApiRunner) ``defer_remainder`` delays are ignored, so an unbounded
read never ends there: use ``max_records``, ``max_read_time`` or ``stop_when_caught_up``.

Watermark: per shard, the arrival time of the last record read; a shard that returns no
records with ``MillisBehindLatest == 0`` advances to ``now - idle_timeout``. The element
watermark is the minimum over the shards being read (a ManualWatermarkEstimator).
"""

from __future__ import annotations

import functools
import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import apache_beam as beam
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.metrics import Metrics
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp

from pyflink_kinesis.errors import ConfigError
from pyflink_kinesis.records import IngressRecord
from pyflink_kinesis.routing import route
from pyflink_kinesis.spec import KinesisIngressSpec

from .aggregation import deaggregate
from .restriction import (
    LATEST,
    NewShardsClaim,
    RecordClaim,
    ShardCursor,
    ShardEndClaim,
    ShardInfo,
    StopClaim,
    StreamRestriction,
    StreamRestrictionProvider,
    StreamRestrictionTracker,
    StreamShards,
)
from .shards import (
    EXPIRED_ITERATOR,
    Backoff,
    KinesisReadError,
    RateLimiter,
    child_shards,
    error_code,
    is_retryable,
    list_shards,
)

_LOG = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
METRICS_NAMESPACE = "kinesis"
ON_DESERIALIZE_ERROR = ("fail", "skip")


class DeserializationError(RuntimeError):
    """The deserializer raised; the message names the stream, shard and sequence number of the record."""


@dataclass(frozen=True)
class ReadSettings:
    """How :class:`ReadFromKinesis` reads; see its arguments for each field."""

    max_records: Optional[int] = None
    max_read_time: Optional[float] = None
    stop_when_caught_up: bool = False
    idle_timeout: float = 120.0
    poll_interval: float = 1.0
    shard_discovery_interval: float = 30.0
    checkpoint_interval: float = 10.0
    max_records_per_call: int = 10_000
    on_deserialize_error: str = "fail"
    fetch_threads: int = 8

    @property
    def bounded(self) -> bool:
        """True if any bounded mode is set."""
        return self.max_records is not None or self.max_read_time is not None or self.stop_when_caught_up


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _ONE_MICRO


_ONE_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc) - _EPOCH


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class _ListShardsFn(beam.DoFn):
    """Impulse -> one :class:`StreamShards` per stream of the spec, with every shard ListShards returns."""

    def __init__(self, spec: KinesisIngressSpec) -> None:
        super().__init__()
        self._spec = spec
        self._client: Any = None

    def setup(self) -> None:
        self._client = self._spec.create_client()

    def process(self, unused_impulse: Any) -> Iterator[StreamShards]:
        started_at = time.time()
        backoff = Backoff()
        for stream in self._spec.streams:
            shards = list_shards(self._client, stream, backoff)
            _LOG.info("ingress %s: stream %s has %d shards", self._spec.id, stream, len(shards))
            yield StreamShards(stream, tuple(shards), started_at)


@dataclass
class _ShardState:
    """What a DoFn instance remembers about a shard between process() calls (an optimisation only)."""

    position: Tuple[Any, ...] = ()
    iterator: Optional[str] = None
    caught_up: bool = False


class _ReadStreamFn(beam.DoFn, RestrictionProvider):
    """The splittable DoFn reading every shard of one stream; it is its own RestrictionProvider."""

    def __init__(self, spec: KinesisIngressSpec, settings: ReadSettings) -> None:
        super().__init__()
        self._spec = spec
        self._settings = settings
        position = spec.startup_position
        self._provider = StreamRestrictionProvider(
            position.iterator_type,
            position.date.timestamp() if position.date is not None else None,
            max_records=settings.max_records,
            max_read_time=settings.max_read_time,
            bounded=settings.bounded,
        )
        self._records_read = Metrics.counter(METRICS_NAMESPACE, "records_read")
        self._skipped = Metrics.counter(METRICS_NAMESPACE, "skipped_records")
        self._errors = Metrics.counter(METRICS_NAMESPACE, "deserialize_errors")
        self._client: Any = None
        self._pool: Optional[ThreadPoolExecutor] = None
        self._backoff = Backoff()
        self._limiter = RateLimiter()
        self._states: Dict[Tuple[str, str], _ShardState] = {}
        self._last_discovery: Dict[str, float] = {}

    # RestrictionProvider, delegated.
    def initial_restriction(self, element: StreamShards) -> StreamRestriction:
        return self._provider.initial_restriction(element)

    def create_tracker(self, restriction: StreamRestriction) -> StreamRestrictionTracker:
        return self._provider.create_tracker(restriction)

    def restriction_size(self, element: StreamShards, restriction: StreamRestriction) -> float:
        return self._provider.restriction_size(element, restriction)

    def truncate(self, element: StreamShards, restriction: StreamRestriction) -> Optional[StreamRestriction]:
        return self._provider.truncate(element, restriction)

    def setup(self) -> None:
        self._client = self._spec.create_client()
        self._pool = ThreadPoolExecutor(self._settings.fetch_threads, thread_name_prefix="kinesis-get-records")
        self._backoff = Backoff()
        self._limiter = RateLimiter()
        self._states = {}
        self._last_discovery = {}

    def teardown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def process(
        self,
        element: StreamShards,
        tracker: Any = beam.DoFn.RestrictionParam(),
        watermark_estimator: Any = beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider()),
    ) -> Iterator[Any]:
        yield from self._read(tracker, watermark_estimator)

    # The read loop.
    def _read(self, tracker: Any, watermark: Any) -> Iterator[Any]:
        if self._client is None or self._pool is None:
            self.setup()
        assert self._pool is not None
        settings = self._settings
        restriction: StreamRestriction = tracker.current_restriction()
        if restriction.complete:
            return
        stream = restriction.stream
        cursors: Dict[str, ShardCursor] = {c.shard_id: c for c in restriction.shards}
        order: List[str] = [c.shard_id for c in restriction.shards]
        records_left = restriction.records_left
        marks: Dict[str, int] = {c.shard_id: c.last_arrival_micros for c in restriction.shards if c.last_arrival_micros}
        read_empty: Dict[str, bool] = {}  # shards read in this call -> was their last read empty
        begun = time.monotonic()
        self._last_discovery.setdefault(stream, time.monotonic())

        # At most one GetRecords per shard is in flight (on the fetch threads); responses are
        # claimed and emitted here, in this thread, in shard order.
        pending: Dict[str, Future] = {}
        try:
            while True:
                if restriction.deadline is not None and time.time() >= restriction.deadline:
                    tracker.try_claim(StopClaim("max_read_time"))
                    return
                if records_left is not None and records_left <= 0:
                    tracker.try_claim(StopClaim("max_records"))
                    return
                if time.monotonic() - self._last_discovery[stream] >= settings.shard_discovery_interval:
                    self._last_discovery[stream] = time.monotonic()
                    found = list_shards(self._client, stream, self._backoff)
                    new = tuple(s for s in found if s.shard_id not in cursors)
                    if new:
                        if not tracker.try_claim(NewShardsClaim(new)):
                            return
                        self._add(cursors, order, new)
                ready = self._ready(cursors, order)
                if not ready:
                    tracker.try_claim(StopClaim("every shard ended"))
                    return
                self._advance_watermark(watermark, ready, marks)
                if settings.stop_when_caught_up and all(self._state(stream, c).caught_up for c in ready):
                    tracker.try_claim(StopClaim("caught up"))
                    return
                if all(read_empty.get(c.shard_id, False) for c in ready):
                    tracker.defer_remainder(Duration.of(settings.poll_interval))
                    return
                if time.monotonic() - begun >= settings.checkpoint_interval:
                    tracker.defer_remainder()
                    return

                # Start a fetch on every ready shard the rate limit allows.
                now = time.monotonic()
                for c in ready:
                    key = (stream, c.shard_id)
                    if c.shard_id not in pending and len(pending) < settings.fetch_threads \
                            and self._limiter.ready_at(key) <= now:
                        pending[c.shard_id] = self._pool.submit(self._get_records, stream, c, self._state(stream, c))
                waiting = [c for c in ready if c.shard_id not in pending]
                timeout = min((self._limiter.ready_at((stream, c.shard_id)) for c in waiting), default=now + 1.0) - now
                if restriction.deadline is not None:
                    timeout = min(timeout, restriction.deadline - time.time())
                timeout = max(0.0, timeout)
                if not pending:
                    time.sleep(timeout)
                    continue
                done, _ = wait(list(pending.values()), timeout=timeout, return_when=FIRST_COMPLETED)
                shard_id = next((s for s in order if s in pending and pending[s] in done), None)
                if shard_id is None:
                    continue
                response = pending.pop(shard_id).result()
                cursor = cursors[shard_id]
                outcome: List[Any] = []
                for out in self._emit(tracker, stream, cursor, response, cursors, marks, records_left, outcome):
                    yield out
                status, count = outcome
                if records_left is not None:
                    records_left -= count
                if status == "stop":
                    return
                if status == "end":
                    children = child_shards(response)
                    if not children:
                        children = tuple(
                            s for s in list_shards(self._client, stream, self._backoff) if shard_id in s.parents
                        )
                    if not tracker.try_claim(ShardEndClaim(shard_id, children)):
                        return
                    cursors[shard_id] = replace(cursors[shard_id], finished=True)
                    self._add(cursors, order, children)
                    marks.pop(shard_id, None)
                    self._states.pop((stream, shard_id), None)
                    if not any(not c.finished for c in cursors.values()):
                        return  # the tracker is done: every shard ended
                    continue
                empty = not response.get("Records")
                read_empty[shard_id] = empty
                if empty:
                    self._limiter.defer((stream, shard_id), settings.poll_interval)
                    if response.get("MillisBehindLatest") == 0:
                        idle_mark = int((time.time() - settings.idle_timeout) * 1e6)
                        marks[shard_id] = max(marks.get(shard_id, idle_mark), idle_mark)
        finally:
            # A response fetched but not claimed is dropped (the cursor did not move). A fetch still
            # running keeps its own shard state: the next call starts that shard from a fresh one.
            for shard_id, future in pending.items():
                future.cancel()
                self._states.pop((stream, shard_id), None)

    @staticmethod
    def _add(cursors: Dict[str, ShardCursor], order: List[str], infos: Tuple[ShardInfo, ...]) -> None:
        for info in infos:
            if info.shard_id not in cursors:
                cursors[info.shard_id] = ShardCursor(info.shard_id, tuple(info.parents))
                order.append(info.shard_id)

    @staticmethod
    def _ready(cursors: Dict[str, ShardCursor], order: List[str]) -> List[ShardCursor]:
        out = []
        for shard_id in order:
            c = cursors[shard_id]
            if c.finished:
                continue
            if all(p not in cursors or cursors[p].finished for p in c.parents):
                out.append(c)
        return out

    def _state(self, stream: str, cursor: ShardCursor) -> _ShardState:
        """The remembered state of a shard, reset unless it was left exactly at ``cursor``."""
        key = (stream, cursor.shard_id)
        position = (cursor.start_type, cursor.start_timestamp, cursor.sequence_number, cursor.sub_sequence_number)
        state = self._states.get(key)
        if state is None or state.position != position:
            state = _ShardState(position)
            self._states[key] = state
        return state

    @staticmethod
    def _advance_watermark(watermark: Any, ready: List[ShardCursor], marks: Dict[str, int]) -> None:
        if not ready or any(c.shard_id not in marks for c in ready):
            return
        low = Timestamp(micros=min(marks[c.shard_id] for c in ready))
        current = watermark.current_watermark()
        if current is None or low > current:
            watermark.set_watermark(low)

    def _iterator(self, stream: str, cursor: ShardCursor) -> Optional[str]:
        """A shard iterator right after the cursor; ``None`` if the shard no longer exists."""
        args = cursor.iterator_args()
        what = f"GetShardIterator stream {stream} shard {cursor.shard_id}"
        try:
            response = self._backoff.call(
                what, self._client.get_shard_iterator, StreamName=stream, ShardId=cursor.shard_id, **args
            )
        except Exception as e:  # noqa: BLE001
            code = error_code(e)
            if code == "InvalidArgumentException" and args.get("Timestamp") is not None and "future" in str(e):
                # The pinned LATEST instant is ahead of the service's clock: LATEST is the same place.
                response = self._backoff.call(
                    what, self._client.get_shard_iterator, StreamName=stream, ShardId=cursor.shard_id,
                    ShardIteratorType=LATEST,
                )
            elif code == "ResourceNotFoundException":
                _LOG.warning("%s: %s; treating the shard as ended", what, e)
                return None
            else:
                raise
        return response["ShardIterator"]

    def _get_records(self, stream: str, cursor: ShardCursor, state: _ShardState) -> Dict[str, Any]:
        """One GetRecords answer for a shard (runs on a fetch thread).

        Every attempt, retries included, waits for the shard's rate limit (5 calls per second);
        throttling and transient errors back off exponentially with jitter; an expired iterator
        is rebuilt from the cursor (AFTER_SEQUENCE_NUMBER of the last record emitted).
        """
        what = f"GetRecords stream {stream} shard {cursor.shard_id}"
        key = (stream, cursor.shard_id)
        attempt = expired = 0
        while True:
            if state.iterator is None:
                state.iterator = self._iterator(stream, cursor)
                if state.iterator is None:
                    return {"Records": []}  # the shard is gone: treated as ended (no NextShardIterator)
            self._limiter.acquire(key)
            try:
                return self._client.get_records(ShardIterator=state.iterator, Limit=self._settings.max_records_per_call)
            except Exception as e:  # noqa: BLE001 - classified below
                if error_code(e) == EXPIRED_ITERATOR:
                    expired += 1
                    if expired > 5:
                        raise KinesisReadError(f"{what}: the shard iterator kept expiring") from e
                    _LOG.info("%s: iterator expired; rebuilding it from the last position", what)
                    state.iterator = None
                    continue
                if not is_retryable(e):
                    raise
                if attempt + 1 >= self._backoff.max_attempts:
                    raise KinesisReadError(f"{what}: giving up after {attempt + 1} attempts: {e}") from e
                delay = self._backoff.delay(attempt)
                _LOG.info("%s: %s; retrying in %.2f s", what, error_code(e) or type(e).__name__, delay)
                self._backoff.sleep(delay)
                attempt += 1

    def _emit(
        self,
        tracker: Any,
        stream: str,
        cursor: ShardCursor,
        response: Dict[str, Any],
        cursors: Dict[str, ShardCursor],
        marks: Dict[str, int],
        records_left: Optional[int],
        outcome: List[Any],
    ) -> Iterator[Any]:
        """Claim and emit the records of one GetRecords answer; sets ``outcome`` to [status, records claimed]."""
        count = 0
        deserializer = self._spec.deserializer
        resuming = cursor.sequence_number is not None
        for record in response.get("Records") or ():
            sequence_number = record["SequenceNumber"]
            arrival = _utc(record["ApproximateArrivalTimestamp"])
            micros = _micros(arrival)
            data = bytes(record["Data"])
            users = deaggregate(data)
            if users is None:
                items: List[Tuple[Optional[int], str, bytes, bool]] = [(None, record["PartitionKey"], data, True)]
            else:
                items = [(i, u.partition_key, u.data, i == len(users) - 1) for i, u in enumerate(users)]
            for sub, partition_key, payload, last in items:
                if resuming:  # the records of one answer only move forward: check until one is new
                    if cursor.is_after(sequence_number, sub):
                        continue  # emitted before this resume (inside an aggregate)
                    resuming = False
                if records_left is not None and count >= records_left:
                    tracker.try_claim(StopClaim("max_records"))
                    outcome[:] = ["stop", count]
                    return
                if not tracker.try_claim(RecordClaim(cursor.shard_id, sequence_number, sub, last, micros)):
                    outcome[:] = ["stop", count]
                    return
                cursor = cursor.advanced(sequence_number, None if last else sub, micros)
                cursors[cursor.shard_id] = cursor
                marks[cursor.shard_id] = max(marks.get(cursor.shard_id, micros), micros)
                count += 1
                self._records_read.inc()
                value: Any = IngressRecord(
                    data=payload,
                    stream=stream,
                    shard_id=cursor.shard_id,
                    partition_key=partition_key,
                    sequence_number=sequence_number,
                    approximate_arrival_timestamp=arrival,
                    sub_sequence_number=sub,
                )
                if deserializer is not None:
                    try:
                        value = deserializer(value)
                    except Exception as e:  # noqa: BLE001 - user code
                        where = f"stream {stream}, shard {cursor.shard_id}, sequence number {sequence_number}"
                        if sub is not None:
                            where += f", sub-sequence number {sub}"
                        if self._settings.on_deserialize_error == "skip":
                            self._errors.inc()
                            _LOG.warning("ingress %s: skipping a record that failed to deserialize (%s): %r",
                                         self._spec.id, where, e)
                            continue
                        raise DeserializationError(
                            f"ingress {self._spec.id}: the deserializer failed on the record at {where}: "
                            f"{type(e).__name__}: {e}"
                        ) from e
                    if value is None:
                        self._skipped.inc()
                        continue
                yield TimestampedValue(value, Timestamp(micros=micros))
        next_iterator = response.get("NextShardIterator")
        # Remember the iterator for the next batch of this shard, keyed by where the shard now stands.
        state = self._state(stream, cursor)
        state.iterator = next_iterator
        millis = response.get("MillisBehindLatest")
        records = response.get("Records") or ()
        state.caught_up = millis == 0 and len(records) < self._settings.max_records_per_call
        outcome[:] = ["end" if next_iterator is None else "ok", count]


class _ReadStreamUnboundedFn(_ReadStreamFn):
    """The same reader, declared unbounded (used when no bounded mode is set)."""

    @beam.DoFn.unbounded_per_element()
    def process(
        self,
        element: StreamShards,
        tracker: Any = beam.DoFn.RestrictionParam(),
        watermark_estimator: Any = beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider()),
    ) -> Iterator[Any]:
        yield from self._read(tracker, watermark_estimator)


def _positive(value: Any, name: str, integer: bool = False, allow_zero: bool = False) -> Any:
    if value is None:
        return None
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ConfigError(f"expected a {'whole ' if integer else ''}number, got {value!r}", field=name)
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"must be {'at least' if allow_zero else 'greater than'} 0, got {value}", field=name)
    return value


class ReadFromKinesis(beam.PTransform):
    """Read the streams of a Kinesis ingress spec into a PCollection (boto3; no Java, no expansion service).

    Each element is the deserializer's value for a record (records it maps to ``None`` are
    skipped and counted in the ``kinesis/skipped_records`` counter), or the
    :class:`~pyflink_kinesis.IngressRecord` itself when the spec has no deserializer. A StateFun
    routable ingress (YAML streams with targets, no deserializer) emits one
    :class:`~pyflink_kinesis.RoutableMessage` per target instead: id = partition key, payload = the
    record's bytes tagged with the stream's type url. Elements are
    timestamped with the record's approximate arrival time. KPL-aggregated records are
    de-aggregated into their user records. ``kinesis/records_read`` counts records read.

    Without a bounded mode the read is unbounded (run it on a streaming runner such as Flink).
    With ``max_records``, ``max_read_time`` or ``stop_when_caught_up`` it ends, and runs to
    completion on the DirectRunner.

    Args:
        ingress: A :class:`~pyflink_kinesis.KinesisIngressSpec`, or the ``"namespace/name"`` id of an
            ingress of ``module``.
        module: A module from :func:`pyflink_kinesis.load_module`; needed when ``ingress`` is an id.
        max_records: Stop after this many records (user records of aggregates count one each, skipped
            ones too). Counted per stream: exact for a one-stream spec, up to ``max_records`` per stream otherwise.
        max_read_time: Stop reading after this many seconds, counted from when the shards were listed.
        stop_when_caught_up: Stop once every shard being read reported ``MillisBehindLatest == 0``
            (closed shards are read to their end, their children until caught up).
        idle_timeout: Seconds of idleness after which a caught-up shard that returns no records stops
            holding the watermark back: its watermark becomes ``now - idle_timeout``.
        poll_interval: Seconds to wait before reading a shard again after it returned no records
            (GetRecords is never called more than 5 times per second per shard).
        shard_discovery_interval: Seconds between ListShards calls that find new shards (shards born
            of a split or merge are also found at their parent's end, through ChildShards).
        checkpoint_interval: Seconds after which the reader checkpoints even while data keeps coming,
            so runners can commit its progress.
        max_records_per_call: The GetRecords ``Limit`` (1 to 10,000).
        on_deserialize_error: ``"fail"`` (default) raises an error naming the stream, shard and
            sequence number of the record; ``"skip"`` skips it and counts it in ``kinesis/deserialize_errors``.
        fetch_threads: GetRecords calls in flight at once per stream (one per shard at most); records are
            still claimed and emitted by one thread, in order within each shard.
    """

    def __init__(
        self,
        ingress: Union[KinesisIngressSpec, str],
        module: Any = None,
        *,
        max_records: Optional[int] = None,
        max_read_time: Optional[float] = None,
        stop_when_caught_up: bool = False,
        idle_timeout: float = 120.0,
        poll_interval: float = 1.0,
        shard_discovery_interval: float = 30.0,
        checkpoint_interval: float = 10.0,
        max_records_per_call: int = 10_000,
        on_deserialize_error: str = "fail",
        fetch_threads: int = 8,
    ) -> None:
        super().__init__()
        self.spec = _resolve(ingress, module)
        _positive(max_records, "max_records", integer=True)
        _positive(max_read_time, "max_read_time")
        _positive(idle_timeout, "idle_timeout", allow_zero=True)
        _positive(poll_interval, "poll_interval", allow_zero=True)
        _positive(shard_discovery_interval, "shard_discovery_interval")
        _positive(checkpoint_interval, "checkpoint_interval")
        _positive(max_records_per_call, "max_records_per_call", integer=True)
        _positive(fetch_threads, "fetch_threads", integer=True)
        if max_records_per_call > 10_000:
            raise ConfigError(f"must be at most 10000 (the GetRecords limit), got {max_records_per_call}",
                              field="max_records_per_call")
        if on_deserialize_error not in ON_DESERIALIZE_ERROR:
            raise ConfigError(f"expected 'fail' or 'skip', got {on_deserialize_error!r}", field="on_deserialize_error")
        if not isinstance(stop_when_caught_up, bool):
            raise ConfigError(f"expected True or False, got {stop_when_caught_up!r}", field="stop_when_caught_up")
        self.settings = ReadSettings(
            max_records=max_records,
            max_read_time=None if max_read_time is None else float(max_read_time),
            stop_when_caught_up=stop_when_caught_up,
            idle_timeout=float(idle_timeout),
            poll_interval=float(poll_interval),
            shard_discovery_interval=float(shard_discovery_interval),
            checkpoint_interval=float(checkpoint_interval),
            max_records_per_call=max_records_per_call,
            on_deserialize_error=on_deserialize_error,
            fetch_threads=fetch_threads,
        )

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        shards = pbegin | "Impulse" >> beam.Impulse() | "ListShards" >> beam.ParDo(_ListShardsFn(self.spec))
        if len(self.spec.streams) > 1:
            shards = shards | "SpreadStreams" >> beam.Reshuffle()
        reader_class = _ReadStreamFn if self.settings.bounded else _ReadStreamUnboundedFn
        records = shards | "ReadStreamShards" >> beam.ParDo(reader_class(self.spec, self.settings))
        if self.spec.routing and self.spec.deserializer is None:
            # A StateFun routable ingress: one RoutableMessage per target function of the record's stream.
            return records | "Route" >> beam.FlatMap(functools.partial(route, self.spec))
        return records

    def display_data(self) -> Dict[str, Any]:
        return {"ingress": self.spec.id, "streams": ", ".join(self.spec.streams),
                "startup_position": self.spec.startup_position.iterator_type}


def _resolve(ingress: Union[KinesisIngressSpec, str], module: Any) -> KinesisIngressSpec:
    if isinstance(ingress, KinesisIngressSpec):
        return ingress
    if isinstance(ingress, str):
        if module is None:
            raise ConfigError(
                f"the ingress id {ingress!r} needs module=pyflink_kinesis.load_module(path) to look it up",
                field="module",
            )
        ingresses = getattr(module, "ingresses", None)
        if not isinstance(ingresses, dict):
            raise ConfigError(f"expected a loaded module with .ingresses, got {type(module).__name__}", field="module")
        if ingress not in ingresses:
            known = ", ".join(sorted(ingresses)) or "none"
            raise ConfigError(f"no ingress {ingress!r} in the module (ingresses: {known})", field="ingress")
        return ingresses[ingress]
    raise ConfigError(f"expected a KinesisIngressSpec or an ingress id, got {type(ingress).__name__}", field="ingress")


__all__ = ["DeserializationError", "KinesisReadError", "ReadFromKinesis", "ReadSettings"]
