"""The splittable DoFn behind ``ReadFromKinesis`` (:mod:`beam_transforms.read`).

Pipeline shape (``expand``)::

    Impulse -> ListShards (one element per stream of the spec, ListShards with pagination)
            -> [Reshuffle, with several streams] -> ReadStreamShards (a splittable DoFn)

Each element (a stream and its shards) gets one restriction, split at once into restrictions of
whole shard lineages (:mod:`beam_transforms.restriction`; how many: below), which runners spread over
their workers; runner-initiated splits hand whole lineages to other workers later. One ``process()``
call reads the shards of one restriction: GetRecords calls run on a few fetch threads (one call in
flight per shard, at most 5 per second per shard, retries included), while one thread claims and
emits the records, in order within each shard.
The restriction tracker owns every shard's position (last sequence number emitted, and the
sub-sequence number inside a KPL aggregate); the reader asks it where shards stand and which it
still owns. It self-checkpoints with ``defer_remainder`` when no shard has data (and every
``checkpoint_interval`` seconds), and a residual resumes right after the last record emitted.

How many restrictions the initial split makes depends on the runner (``read._initial_splits``): one
per lineage where runners spread initial restrictions; one on Prism, which splits a running
restriction (``try_split(0.5)``) and reads the residuals on other threads. The DirectRunner never
splits a running restriction: with one worker (its default) the stream stays in one restriction,
whose fetch threads overlap the shards. With ``direct_num_workers=N`` the initial split deals the lineages
over N restrictions, and a bounded read then waits in ``process()`` rather than deferring: Beam
2.61's multi-worker DirectRunner drops self-checkpointed residuals (its ParallelBundleManager merges
the workers' answers without their residual roots).

Order. Within a restriction a closed parent is read to its end before its children (a merged child
waits for both parents when the restriction owns both), so per-partition-key order holds there. Beam
promises no order across bundles or workers: across restrictions (a merge whose parents were read
by different restrictions) only event time orders records. Elements carry their arrival time as
timestamp, and each restriction's watermark is the minimum over its shards, so the adjacent parent's
unread tail holds the downstream watermark back until it is read. For comparison: KCL workers take
shard leases in a DynamoDB table and start a child only after its parents' leases checkpointed
SHARD_END; Flink's source enumerator assigns a child split only once all its parents are finished;
Beam Java KinesisIO spreads shards over its source splits and starts successors in the reader that
finished the parent. Here no coordinator exists between workers, so the merge rule (the
``ParentShardId`` side adopts the child) keeps each record read exactly once, without a shared table.

Children start at TRIM_HORIZON; shards listed at the start use the spec's startup position. Shards
that appear later join through ``ChildShards`` at their parent's end and a periodic ListShards.

On the DirectRunner (FnApiRunner) ``defer_remainder`` delays are ignored, so an unbounded
read never ends there: use ``max_records``, ``max_read_time`` or ``stop_when_caught_up``.

Watermark: per shard, the arrival time of the last record read; a shard that returns no
records with ``MillisBehindLatest == 0`` advances to ``now - idle_timeout``. A restriction's
watermark is the minimum over the shards it reads (a ManualWatermarkEstimator); a split's
residual starts from the primary's.

Enhanced fan-out (``consumer_name`` / ``consumer_arn``): :class:`beam_transforms.efo.FanOut` keeps
the consumers and subscriptions. A shard's pending future is then "its subscription buffered an
event", and the event, adapted to a GetRecords answer, goes through the same claiming code.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import apache_beam as beam
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.metrics import Metrics
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp

from pyflink_kinesis.spec.boto import transform_client
from pyflink_kinesis.spec.records import IngressRecord
from pyflink_kinesis.spec.serde import DeserializationError, deserialization_error, record_location
from beam_transforms.settings import DEFAULT_MAX_RETRY_TIME, JOB_MANAGED, ReadSettings
from pyflink_kinesis.spec.builders import KinesisIngressSpec

from . import efo
from .aggregation import deaggregate
from .restriction import (
    LATEST,
    NewShardsClaim,
    RecordClaim,
    ShardCursor,
    ShardEndClaim,
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
    list_shards,
    start_floor_micros,
)

_LOG = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc) - _EPOCH
METRICS_NAMESPACE = "kinesis"
_EFO_COUNTERS = ("efo_events", "efo_subscriptions", "efo_resubscriptions", "efo_fallbacks", "efo_closed_shards_polled")


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _ONE_MICRO


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class _ListShardsFn(beam.DoFn):
    """Impulse -> one :class:`StreamShards` per stream of the spec, with every shard ListShards returns."""

    def __init__(self, spec: KinesisIngressSpec, consumer: Optional[str] = None,
                 max_retry_time: float = DEFAULT_MAX_RETRY_TIME) -> None:
        super().__init__()
        self._spec = spec
        self._consumer = consumer  # the enhanced fan-out consumer, named in the error for a missing stream
        self._max_retry_time = max_retry_time
        self._client: Any = None

    def setup(self) -> None:
        self._client = transform_client(self._spec)

    def process(self, unused_impulse: Any) -> Iterator[StreamShards]:
        started_at = time.time()
        backoff = Backoff(max_elapsed=self._max_retry_time)
        for stream in self._spec.streams:
            if self._consumer is not None:
                efo.describe_stream_arn(self._client, stream, self._consumer, backoff)
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
    """The splittable DoFn reading the shards of one restriction of a stream; it is its own RestrictionProvider."""

    def __init__(self, spec: KinesisIngressSpec, settings: ReadSettings, max_splits: Optional[int] = None) -> None:
        """
        Args:
            spec: The ingress spec.
            settings: The read settings.
            max_splits: At most this many restrictions from the initial split (``None``: one per lineage; see
                ``read._initial_splits``). Above 1 (the DirectRunner's workers) a bounded read never self-checkpoints.
        """
        super().__init__()
        self._spec = spec
        self._settings = settings
        self._wait_in_process = settings.bounded and max_splits is not None and max_splits > 1
        position = spec.startup_position
        self._provider = StreamRestrictionProvider(
            position.iterator_type,
            position.date.timestamp() if position.date is not None else None,
            max_records=settings.max_records,
            max_read_time=settings.max_read_time,
            bounded=settings.bounded,
            splittable=settings.consumer_lifecycle != JOB_MANAGED,
            max_splits=max_splits,
        )
        self._records_read = Metrics.counter(METRICS_NAMESPACE, "records_read")
        self._skipped = Metrics.counter(METRICS_NAMESPACE, "skipped_records")
        self._errors = Metrics.counter(METRICS_NAMESPACE, "deserialize_errors")
        self._discoveries = Metrics.counter(METRICS_NAMESPACE, "shard_discoveries")
        self._efo_counters = {name: Metrics.counter(METRICS_NAMESPACE, name) for name in _EFO_COUNTERS}
        self._client: Any = None
        self._pool: Optional[ThreadPoolExecutor] = None
        # Set when teardown ran (a cancelled job), maybe while process() reads; made in setup (cloudpickle
        # cannot pickle an Event).
        self._torn_down: Optional[threading.Event] = None
        self._backoff = Backoff(max_elapsed=settings.max_retry_time)
        self._limiter = RateLimiter()
        self._states: Dict[Tuple[str, str], _ShardState] = {}
        self._last_discovery: Dict[str, float] = {}
        self._fan_out: Optional[efo.FanOut] = None

    # RestrictionProvider, delegated.
    def initial_restriction(self, element: StreamShards) -> StreamRestriction:
        return self._provider.initial_restriction(element)

    def split(self, element: StreamShards, restriction: StreamRestriction) -> Iterator[StreamRestriction]:
        return self._provider.split(element, restriction)

    def create_tracker(self, restriction: StreamRestriction) -> StreamRestrictionTracker:
        return self._provider.create_tracker(restriction)

    def restriction_size(self, element: StreamShards, restriction: StreamRestriction) -> float:
        return self._provider.restriction_size(element, restriction)

    def truncate(self, element: StreamShards, restriction: StreamRestriction) -> Optional[StreamRestriction]:
        return self._provider.truncate(element, restriction)

    def setup(self) -> None:
        self._client = transform_client(self._spec, max(10, self._settings.fetch_threads + 2))
        self._pool = ThreadPoolExecutor(self._settings.fetch_threads, thread_name_prefix="kinesis-get-records")
        self._torn_down = threading.Event()
        self._backoff = Backoff(max_elapsed=self._settings.max_retry_time)
        self._limiter = RateLimiter()
        self._states = {}
        self._last_discovery = {}
        self._fan_out = None
        if self._settings.fan_out:
            efo.tolerate_missing_initial_response(self._client)

    def teardown(self) -> None:
        """Stop fetching. A runner cancelling a job may call this while ``process()`` still reads: that call
        then checkpoints at its next step and returns, without an error."""
        if self._torn_down is not None:
            self._torn_down.set()
        if self._fan_out is not None:
            self._fan_out.close_all()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def process(
        self,
        element: StreamShards,
        tracker: Any = beam.DoFn.RestrictionParam(),
        watermark_estimator: Any = beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider()),
    ) -> Iterator[Any]:
        yield from self._read(tracker, watermark_estimator)

    # The read loop.
    def _read(self, tracker: Any, watermark: Any) -> Iterator[Any]:
        if self._client is None or self._pool is None or self._torn_down is None or self._torn_down.is_set():
            self.setup()
        torn_down = self._torn_down
        assert torn_down is not None
        pool = self._pool
        assert pool is not None
        settings = self._settings
        restriction: StreamRestriction = tracker.current_restriction()
        if restriction.complete:
            return
        stream = restriction.stream
        marks: Dict[str, int] = {c.shard_id: c.last_arrival_micros for c in restriction.shards if c.last_arrival_micros}
        read_empty: Dict[str, bool] = {}  # shards read in this call -> was their last read empty
        begun = time.monotonic()
        self._last_discovery.setdefault(stream, time.monotonic())
        if settings.fan_out and self._fan_out is None:
            self._fan_out = efo.FanOut(self._client, settings, self._backoff,
                                       lambda name: self._efo_counters[name].inc())
        fan_out = self._fan_out
        if fan_out is not None and fan_out.begin(stream):
            self._last_discovery[stream] = float("-inf")  # learn which shards are closed now (FanOut.caught_up)
        ended = False  # the restriction ended (a stop or every shard read): not a checkpoint

        # At most one GetRecords per shard is in flight (on the fetch threads); responses are
        # claimed and emitted here, in this thread, in shard order. Under enhanced fan-out a
        # shard's pending future is its subscription's "an event is buffered".
        pending: Dict[str, Future] = {}
        subscribed: Set[str] = set()  # shards of ``pending`` whose future is a subscription's
        try:
            while True:
                # The tracker owns the positions, and which shards this restriction still reads (a
                # runner's split may have handed some to a residual).
                restriction = tracker.current_restriction()
                if restriction.complete:
                    return
                if torn_down.is_set():  # cancelled: give the rest back
                    tracker.defer_remainder()
                    return
                if restriction.deadline is not None and time.time() >= restriction.deadline:
                    ended = tracker.try_claim(StopClaim("max_read_time"))
                    return
                records_left = restriction.records_left
                if records_left is not None and records_left <= 0:
                    ended = tracker.try_claim(StopClaim("max_records"))
                    return
                if time.monotonic() - self._last_discovery[stream] >= settings.shard_discovery_interval:
                    self._discover(tracker, restriction)
                    continue
                ready = restriction.ready()
                if not ready:  # every shard ended, or was handed to a residual
                    ended = tracker.try_claim(StopClaim("every shard ended"))
                    return
                for shard_id in [s for s in pending if restriction.cursor(s) is None]:
                    self._drop(stream, shard_id, pending, subscribed)  # split off to a residual
                self._advance_watermark(watermark, ready, marks)
                if settings.stop_when_caught_up and all(self._state(stream, c).caught_up for c in ready):
                    ended = tracker.try_claim(StopClaim("caught up"))
                    return
                # On the DirectRunner with several workers a bounded read waits here instead of deferring:
                # Beam 2.61 drops the self-checkpointed residuals there.
                if not self._wait_in_process:
                    if all(read_empty.get(c.shard_id, False) for c in ready):
                        tracker.defer_remainder(Duration.of(settings.poll_interval))
                        return
                    if time.monotonic() - begun >= settings.checkpoint_interval:
                        tracker.defer_remainder()
                        return

                # Start a fetch on every ready shard the rate limit allows (subscribed shards: wait for an event).
                now = time.monotonic()
                for c in ready:
                    if c.shard_id in pending:
                        continue
                    if fan_out is not None and fan_out.subscribes(stream, c.shard_id):
                        pending[c.shard_id] = fan_out.ready(stream, c)
                        subscribed.add(c.shard_id)
                    elif len(pending) - len(subscribed) < settings.fetch_threads \
                            and self._limiter.ready_at((stream, c.shard_id)) <= now and not torn_down.is_set():
                        try:
                            pending[c.shard_id] = pool.submit(self._get_records, stream, c, self._state(stream, c))
                        except RuntimeError:  # the pool was shut down by teardown meanwhile
                            break
                waiting = [c for c in ready if c.shard_id not in pending]
                timeout = min((self._limiter.ready_at((stream, c.shard_id)) for c in waiting), default=now + 1.0) - now
                if not self._wait_in_process:
                    timeout = min(timeout, begun + settings.checkpoint_interval - now)
                if restriction.deadline is not None:
                    timeout = min(timeout, restriction.deadline - time.time())
                timeout = max(0.0, timeout)
                if not pending:
                    time.sleep(timeout)
                    continue
                done, _ = wait(list(pending.values()), timeout=timeout, return_when=FIRST_COMPLETED)
                done_shard = next((c.shard_id for c in ready if c.shard_id in pending and pending[c.shard_id] in done),
                                  None)
                if done_shard is None:
                    continue
                shard_id = done_shard
                future = pending.pop(shard_id)
                from_subscription = shard_id in subscribed
                subscribed.discard(shard_id)
                cursor = restriction.cursor(shard_id)
                assert cursor is not None
                if from_subscription:
                    assert fan_out is not None
                    response = fan_out.take(stream, cursor)
                else:
                    try:
                        response = future.result()
                    except CancelledError:
                        continue  # teardown cancelled it
                if response is None:
                    continue  # resubscribing, or the shard switched to GetRecords
                outcome: List[Any] = []
                yield from self._emit(tracker, stream, cursor, response, marks, records_left, outcome)
                status, _ = outcome
                if status == "stopped":
                    ended = True
                    return
                if status == "stop":  # checkpointed (stop reading), or this shard split off (read the others)
                    self._states.pop((stream, shard_id), None)
                    continue
                if from_subscription and status == "ok":
                    assert fan_out is not None
                    fan_out.emitted(stream, tracker.current_restriction().cursor(shard_id) or cursor)
                if status == "end":
                    self._shard_ended(tracker, stream, shard_id, response, marks)
                    after = tracker.current_restriction()
                    if after.complete and not after.shards:
                        ended = True  # every shard ended (a checkpoint's primary keeps its shards)
                        return
                    continue
                empty = not response.get("Records")
                if empty and response.get("MillisBehindLatest") == 0:
                    idle_mark = int((time.time() - settings.idle_timeout) * 1e6)
                    marks[shard_id] = max(marks.get(shard_id, idle_mark), idle_mark)
                if from_subscription:
                    if empty and response.get("MillisBehindLatest") == 0:
                        assert fan_out is not None
                        if fan_out.caught_up(stream, shard_id):
                            self._states.pop((stream, shard_id), None)
                    continue  # a subscription pushes events: no polling delay, no deferring on an empty one
                read_empty[shard_id] = empty
                if empty:
                    self._limiter.defer((stream, shard_id), settings.poll_interval)
        except BaseException as e:
            if fan_out is not None and not isinstance(e, GeneratorExit):
                fan_out.release(stream, [c.shard_id for c in restriction.shards], failed=e)
            raise
        finally:
            # A response fetched but not claimed is dropped (the cursor did not move). A fetch still
            # running keeps its own shard state: the next call starts that shard from a fresh one.
            # (A subscription keeps its buffered events: the next call continues on it if it starts there.)
            for shard_id, future in pending.items():
                future.cancel()
                if shard_id not in subscribed:
                    self._states.pop((stream, shard_id), None)
            if fan_out is not None and ended:
                fan_out.release(stream, [c.shard_id for c in restriction.shards])

    def _discover(self, tracker: Any, restriction: StreamRestriction) -> None:
        """ListShards: shards born of an owned shard join (from TRIM_HORIZON); EFO learns which shards closed."""
        stream = restriction.stream
        self._last_discovery[stream] = time.monotonic()
        self._discoveries.inc()
        closed: Set[str] = set()
        found = list_shards(self._client, stream, self._backoff, closed)
        if self._fan_out is not None:
            self._fan_out.listed(stream, closed)
        new = tuple(s for s in found if s.parents and restriction.cursor(s.parents[0]) is not None
                    and restriction.cursor(s.shard_id) is None)
        if new:
            tracker.try_claim(NewShardsClaim(new))  # the tracker adopts those whose ParentShardId it owns

    def _shard_ended(self, tracker: Any, stream: str, shard_id: str, response: Dict[str, Any],
                     marks: Dict[str, int]) -> None:
        """A shard was read to its end: it leaves the restriction; the children it adopts join.

        ``ChildShards`` names the children; ListShards is asked when it is missing, and for a merge,
        to learn which parent Kinesis names ``ParentShardId`` (that side adopts the child).
        """
        children = child_shards(response)
        if not children or any(len(c.parents) > 1 for c in children):
            children = tuple(s for s in list_shards(self._client, stream, self._backoff) if shard_id in s.parents)
        tracker.try_claim(ShardEndClaim(shard_id, children))
        marks.pop(shard_id, None)
        self._states.pop((stream, shard_id), None)
        if self._fan_out is not None:
            self._fan_out.shard_ended(stream, shard_id)

    def _drop(self, stream: str, shard_id: str, pending: Dict[str, Future], subscribed: Set[str]) -> None:
        """Stop reading a shard the restriction no longer owns (a split handed it to the residual)."""
        pending.pop(shard_id).cancel()
        self._states.pop((stream, shard_id), None)
        if shard_id in subscribed:
            subscribed.discard(shard_id)
            assert self._fan_out is not None
            self._fan_out.shard_ended(stream, shard_id)

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
        key = (stream, cursor.shard_id)
        attempts = self._backoff.attempts(f"GetRecords stream {stream} shard {cursor.shard_id}")
        expired = 0
        if state.iterator == efo.SUBSCRIBED:
            state.iterator = None  # the shard was read by a subscription before
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
                        raise KinesisReadError(f"{attempts.what}: the shard iterator kept expiring") from e
                    _LOG.info("%s: iterator expired; rebuilding it from the last position", attempts.what)
                    state.iterator = None
                    continue
                attempts.retry(e, KinesisReadError)

    def _emit(
        self,
        tracker: Any,
        stream: str,
        cursor: ShardCursor,
        response: Dict[str, Any],
        marks: Dict[str, int],
        records_left: Optional[int],
        outcome: List[Any],
    ) -> Iterator[Any]:
        """Claim and emit the records of one GetRecords answer; sets ``outcome`` to [status, records claimed].

        Status: ``"ok"``, ``"end"`` (the shard ended), ``"stopped"`` (``max_records`` ended the restriction)
        or ``"stop"`` (a claim failed: the restriction was checkpointed, or the shard split off to a residual).
        """
        count = 0
        deserializer = self._spec.deserializer
        resuming = cursor.sequence_number is not None
        floor = start_floor_micros(self._spec.startup_position)
        for record in response.get("Records") or ():
            sequence_number = record["SequenceNumber"]
            arrival = _utc(record["ApproximateArrivalTimestamp"])
            micros = _micros(arrival)
            if floor is not None and micros < floor:
                continue  # arrived before an AT_TIMESTAMP start (see start_floor_micros)
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
                    stopped = tracker.try_claim(StopClaim("max_records"))
                    outcome[:] = ["stopped" if stopped else "stop", count]
                    return
                if not tracker.try_claim(RecordClaim(cursor.shard_id, sequence_number, sub, last, micros)):
                    outcome[:] = ["stop", count]
                    return
                cursor = cursor.advanced(sequence_number, None if last else sub, micros)  # mirrors the claim
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
                        if self._settings.on_deserialize_error == "skip":
                            self._errors.inc()
                            _LOG.warning("ingress %s: skipping a record that failed to deserialize (%s): %r",
                                         self._spec.id, record_location(value), e)
                            continue
                        raise deserialization_error(self._spec.id, value, e) from e
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
