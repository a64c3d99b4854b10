"""The splittable DoFn behind ``ReadFromKinesis`` (:mod:`beam_transforms.read`).

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

Enhanced fan-out (``consumer_name`` / ``consumer_arn``, :mod:`beam_transforms.efo`): a shard's
pending future is then "its subscription buffered an event", and the event, adapted to a
GetRecords answer, goes through the same claiming code. Subscribed shards have no polling delay:
the reader waits on them up to ``checkpoint_interval`` before deferring. A subscription survives
a checkpoint in the DoFn instance and serves the residual if it starts where the subscription
stands. Shards switch to GetRecords (from the cursor) when ListShards shows them closed and their
subscription is caught up (the emulator never sends the ``ChildShards`` event), or when another
subscription keeps holding them (``ResourceInUseException`` after retries).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import apache_beam as beam
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.metrics import Metrics
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp

from pyflink_kinesis.records import IngressRecord
from pyflink_kinesis.serde import DeserializationError, deserialization_error, record_location
from pyflink_kinesis.spec import KinesisIngressSpec

from . import efo
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
    consumer_name: Optional[str] = None
    consumer_arn: Optional[str] = None
    consumer_lifecycle: str = efo.SELF_MANAGED

    @property
    def bounded(self) -> bool:
        """True if any bounded mode is set."""
        return self.max_records is not None or self.max_read_time is not None or self.stop_when_caught_up

    @property
    def fan_out(self) -> bool:
        """True when shards are read with enhanced fan-out (SubscribeToShard) rather than GetRecords."""
        return self.consumer_name is not None or self.consumer_arn is not None

    @property
    def consumer_label(self) -> str:
        """The consumer as errors name it."""
        return repr(self.consumer_name) if self.consumer_name is not None else str(self.consumer_arn)


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

    def __init__(self, spec: KinesisIngressSpec, consumer: Optional[str] = None) -> None:
        super().__init__()
        self._spec = spec
        self._consumer = consumer  # the enhanced fan-out consumer, named in the error for a missing stream
        self._client: Any = None

    def setup(self) -> None:
        self._client = self._spec.create_client()

    def process(self, unused_impulse: Any) -> Iterator[StreamShards]:
        started_at = time.time()
        backoff = Backoff()
        for stream in self._spec.streams:
            if self._consumer is not None:
                efo.describe_stream_arn(self._client, stream, self._consumer, backoff)
            shards = list_shards(self._client, stream, backoff)
            _LOG.info("ingress %s: stream %s has %d shards", self._spec.id, stream, len(shards))
            yield StreamShards(stream, tuple(shards), started_at)


_MAX_RESUBSCRIPTIONS = 10


class _FanOut:
    """What a DoFn instance keeps for enhanced fan-out (an optimisation, like :class:`_ShardState`).

    Attributes:
        consumers: The ACTIVE consumer of each stream.
        subscriptions: Open subscriptions by (consumer, shard).
        polling: (stream, shard) read with GetRecords instead: closed shards, and shards another
            subscription kept holding.
        closed: Per stream, the shards the last ListShards showed closed.
        failures: Subscriptions in a row that ended without an event, per (stream, shard).
    """

    def __init__(self) -> None:
        self.consumers: Dict[str, efo.StreamConsumer] = {}
        self.subscriptions = efo.Subscriptions()
        self.polling: Set[Tuple[str, str]] = set()
        self.closed: Dict[str, Set[str]] = {}
        self.failures: Dict[Tuple[str, str], int] = {}


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
        self._efo_events = Metrics.counter(METRICS_NAMESPACE, "efo_events")
        self._efo_subscriptions = Metrics.counter(METRICS_NAMESPACE, "efo_subscriptions")
        self._efo_resubscriptions = Metrics.counter(METRICS_NAMESPACE, "efo_resubscriptions")
        self._efo_fallbacks = Metrics.counter(METRICS_NAMESPACE, "efo_fallbacks")
        self._efo_closed_polled = Metrics.counter(METRICS_NAMESPACE, "efo_closed_shards_polled")
        self._client: Any = None
        self._pool: Optional[ThreadPoolExecutor] = None
        self._backoff = Backoff()
        self._limiter = RateLimiter()
        self._states: Dict[Tuple[str, str], _ShardState] = {}
        self._last_discovery: Dict[str, float] = {}
        self._efo = _FanOut()

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
        if self._settings.fan_out:
            efo.tolerate_missing_initial_response(self._client)
        self._pool = ThreadPoolExecutor(self._settings.fetch_threads, thread_name_prefix="kinesis-get-records")
        self._backoff = Backoff()
        self._limiter = RateLimiter()
        self._states = {}
        self._last_discovery = {}
        self._efo = _FanOut()

    def teardown(self) -> None:
        self._efo.subscriptions.close_all()
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
        fan_out = settings.fan_out
        if fan_out:
            self._efo.subscriptions.close_idle(max(60.0, 3 * settings.checkpoint_interval))
            if stream not in self._efo.closed:  # learn which shards are closed now (see _efo_closed_shard)
                self._last_discovery[stream] = float("-inf")
        ended = False  # the restriction ended (a stop or every shard read): not a checkpoint

        # At most one GetRecords per shard is in flight (on the fetch threads); responses are
        # claimed and emitted here, in this thread, in shard order. Under enhanced fan-out a
        # shard's pending future is its subscription's "an event is buffered".
        pending: Dict[str, Future] = {}
        subscribed: Set[str] = set()  # shards of ``pending`` whose future is a subscription's
        try:
            while True:
                if restriction.deadline is not None and time.time() >= restriction.deadline:
                    ended = tracker.try_claim(StopClaim("max_read_time"))
                    return
                if records_left is not None and records_left <= 0:
                    ended = tracker.try_claim(StopClaim("max_records"))
                    return
                if time.monotonic() - self._last_discovery[stream] >= settings.shard_discovery_interval:
                    self._last_discovery[stream] = time.monotonic()
                    closed: Set[str] = set()
                    found = list_shards(self._client, stream, self._backoff, closed)
                    self._efo.closed[stream] = closed
                    new = tuple(s for s in found if s.shard_id not in cursors)
                    if new:
                        if not tracker.try_claim(NewShardsClaim(new)):
                            return
                        self._add(cursors, order, new)
                ready = self._ready(cursors, order)
                if not ready:
                    ended = tracker.try_claim(StopClaim("every shard ended"))
                    return
                self._advance_watermark(watermark, ready, marks)
                if settings.stop_when_caught_up and all(self._state(stream, c).caught_up for c in ready):
                    ended = tracker.try_claim(StopClaim("caught up"))
                    return
                if all(read_empty.get(c.shard_id, False) for c in ready):
                    tracker.defer_remainder(Duration.of(settings.poll_interval))
                    return
                if time.monotonic() - begun >= settings.checkpoint_interval:
                    tracker.defer_remainder()
                    return

                # Start a fetch on every ready shard the rate limit allows (subscribed shards: wait for an event).
                now = time.monotonic()
                for c in ready:
                    key = (stream, c.shard_id)
                    if c.shard_id in pending:
                        continue
                    if self._subscribes(stream, c.shard_id):
                        pending[c.shard_id] = self._efo_ready(stream, c)
                        subscribed.add(c.shard_id)
                    elif len(pending) - len(subscribed) < settings.fetch_threads \
                            and self._limiter.ready_at(key) <= now:
                        pending[c.shard_id] = self._pool.submit(self._get_records, stream, c, self._state(stream, c))
                waiting = [c for c in ready if c.shard_id not in pending]
                timeout = min((self._limiter.ready_at((stream, c.shard_id)) for c in waiting), default=now + 1.0) - now
                timeout = min(timeout, begun + settings.checkpoint_interval - now)
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
                future = pending.pop(shard_id)
                from_subscription = shard_id in subscribed
                subscribed.discard(shard_id)
                response = self._efo_take(stream, cursors[shard_id]) if from_subscription else future.result()
                if response is None:
                    continue  # resubscribing, or the shard switched to GetRecords
                cursor = cursors[shard_id]
                outcome: List[Any] = []
                for out in self._emit(tracker, stream, cursor, response, cursors, marks, records_left, outcome):
                    yield out
                status, count = outcome
                if records_left is not None:
                    records_left -= count
                if status in ("stop", "stopped"):
                    ended = status == "stopped"
                    return
                if from_subscription and status == "ok":
                    self._efo_emitted(stream, cursors[shard_id])
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
                    if fan_out:
                        self._efo_shard_ended(stream, shard_id)
                    if not any(not c.finished for c in cursors.values()):
                        ended = True
                        return  # the tracker is done: every shard ended
                    continue
                empty = not response.get("Records")
                if empty and response.get("MillisBehindLatest") == 0:
                    idle_mark = int((time.time() - settings.idle_timeout) * 1e6)
                    marks[shard_id] = max(marks.get(shard_id, idle_mark), idle_mark)
                if from_subscription:
                    if empty and response.get("MillisBehindLatest") == 0:
                        self._efo_closed_shard(stream, shard_id)
                    continue  # a subscription pushes events: no polling delay, no deferring on an empty one
                read_empty[shard_id] = empty
                if empty:
                    self._limiter.defer((stream, shard_id), settings.poll_interval)
        except BaseException as e:
            if fan_out and not isinstance(e, GeneratorExit):
                self._efo_release(stream, failed=e)
            raise
        finally:
            # A response fetched but not claimed is dropped (the cursor did not move). A fetch still
            # running keeps its own shard state: the next call starts that shard from a fresh one.
            # (A subscription keeps its buffered events: the next call continues on it if it starts there.)
            for shard_id, future in pending.items():
                future.cancel()
                if shard_id not in subscribed:
                    self._states.pop((stream, shard_id), None)
            if fan_out and ended:
                self._efo_release(stream)

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

    # Enhanced fan-out.
    def _subscribes(self, stream: str, shard_id: str) -> bool:
        """True if the shard is read by a subscription (fan-out, and it did not switch to GetRecords)."""
        return self._settings.fan_out and (stream, shard_id) not in self._efo.polling

    def _consumer(self, stream: str) -> efo.StreamConsumer:
        consumer = self._efo.consumers.get(stream)
        if consumer is None:
            settings = self._settings
            consumer = efo.resolve_consumer(self._client, stream, self._backoff, name=settings.consumer_name,
                                            arn=settings.consumer_arn)
            self._efo.consumers[stream] = consumer
        return consumer

    def _efo_ready(self, stream: str, cursor: ShardCursor) -> Future:
        """The shard's subscription from the cursor on (reused or opened): a future done at its next event."""
        consumer = self._consumer(stream)
        subscription, opened = self._efo.subscriptions.get(self._client, consumer.arn, cursor)
        if opened:
            self._efo_subscriptions.inc()
        return subscription.ready()

    def _efo_take(self, stream: str, cursor: ShardCursor) -> Optional[Dict[str, Any]]:
        """The shard's next event as a GetRecords answer; ``None`` when the subscription ended without one.

        An ended subscription is replaced by a new one from the cursor (it lasted its 5 minutes, or met a
        transient error; at most ``_MAX_RESUBSCRIPTIONS`` in a row without an event). One that never got
        an event because another subscription held the shard (``ResourceInUseException`` after its
        retries) switches the shard to GetRecords, from the cursor (``kinesis/efo_fallbacks``). Any
        other error fails the read, naming the consumer and shard.
        """
        consumer = self._consumer(stream)
        subscription = self._efo.subscriptions.current(consumer.arn, cursor.shard_id)
        if subscription is None:
            return None
        event = subscription.peek()
        if event is not None:
            self._efo_events.inc()
            self._efo.failures.pop((stream, cursor.shard_id), None)
            return efo.as_response(event)
        if not subscription.done:
            return None
        self._efo.subscriptions.close(consumer.arn, cursor.shard_id)
        error = subscription.error
        where = f"enhanced fan-out consumer {consumer.name!r} of stream {stream}, shard {cursor.shard_id}"
        if error is not None and not subscription.events_received and error_code(error) == efo.IN_USE:
            _LOG.warning("%s: another subscription holds the shard (%s); reading it with GetRecords instead",
                         where, error)
            self._efo_fallbacks.inc()
            self._efo_switch_to_polling(stream, cursor.shard_id)
            return None
        if error is not None and not (subscription.events_received and
                                      (efo.is_transient(error) or error_code(error) == efo.IN_USE)):
            raise KinesisReadError(f"{where}: SubscribeToShard failed: {error}") from error
        failures = self._efo.failures.get((stream, cursor.shard_id), 0) + 1
        if failures > _MAX_RESUBSCRIPTIONS:
            raise KinesisReadError(f"{where}: {failures - 1} subscriptions in a row ended without an event")
        self._efo.failures[(stream, cursor.shard_id)] = failures
        _LOG.info("%s: the subscription ended (%s); subscribing again from the last record read", where,
                  error or "expired")
        self._efo_resubscriptions.inc()
        return None

    def _efo_emitted(self, stream: str, cursor: ShardCursor) -> None:
        """The subscription's first event was emitted completely: drop it; the subscription stands at ``cursor``."""
        subscription = self._efo.subscriptions.current(self._consumer(stream).arn, cursor.shard_id)
        if subscription is not None:
            subscription.commit(cursor)

    def _efo_shard_ended(self, stream: str, shard_id: str) -> None:
        self._efo.subscriptions.close(self._consumer(stream).arn, shard_id)
        self._efo.polling.discard((stream, shard_id))

    def _efo_closed_shard(self, stream: str, shard_id: str) -> None:
        """A subscribed shard sent an empty, caught-up event: if ListShards shows it closed, poll its end.

        Kinesis ends a closed shard's subscription with an event naming its ``ChildShards``. The local
        emulator never does: it sends empty events forever. A shard that ListShards (run every
        ``shard_discovery_interval``) shows with an ``EndingSequenceNumber`` is therefore read from the
        cursor to its end with GetRecords, whose answer at the end has no ``NextShardIterator``.
        """
        if shard_id in self._efo.closed.get(stream, ()):
            _LOG.info("stream %s shard %s is closed: reading its end with GetRecords", stream, shard_id)
            self._efo_closed_polled.inc()
            self._efo_switch_to_polling(stream, shard_id)

    def _efo_switch_to_polling(self, stream: str, shard_id: str) -> None:
        self._efo.subscriptions.close(self._consumer(stream).arn, shard_id)
        self._efo.polling.add((stream, shard_id))
        self._states.pop((stream, shard_id), None)

    def _efo_release(self, stream: str, failed: Optional[BaseException] = None) -> None:
        """The read of ``stream`` ended (or failed): close its subscriptions; deregister a job-managed consumer."""
        consumer = self._efo.consumers.get(stream)
        if consumer is None:
            return
        self._efo.subscriptions.close(consumer.arn)
        if self._settings.consumer_lifecycle != efo.JOB_MANAGED:
            return
        self._efo.consumers.pop(stream, None)
        try:
            efo.deregister_consumer(self._client, consumer, self._backoff)
        except Exception as e:  # noqa: BLE001
            if failed is None:
                raise
            _LOG.warning("could not deregister %s after the read failed: %s", consumer.arn, e)

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
        """Claim and emit the records of one GetRecords answer; sets ``outcome`` to [status, records claimed].

        Status: ``"ok"``, ``"end"`` (the shard ended), ``"stopped"`` (``max_records`` ended the restriction)
        or ``"stop"`` (a claim failed: the restriction was split off).
        """
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
                    stopped = tracker.try_claim(StopClaim("max_records"))
                    outcome[:] = ["stopped" if stopped else "stop", count]
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
