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

How many restrictions the initial split makes depends on the runner: see :mod:`beam_transforms.read`.

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

Watermark: per shard, the highest element timestamp emitted (the arrival time, or the event time of
``timestamp_fn``) less ``max_out_of_orderness``; a shard that returns no records with
``MillisBehindLatest == 0`` advances to ``now - idle_timeout``. A restriction's watermark is the minimum
over the shards it reads (a ManualWatermarkEstimator), and never goes back; a split's residual starts
from the primary's, a resumed restriction from its cursors' highest timestamps.

Enhanced fan-out (``consumer_name`` / ``consumer_arn``): :class:`beam_transforms.efo.FanOut` keeps
the consumers and subscriptions. A shard's pending future is then "its subscription buffered an
event", and the event, adapted to a GetRecords answer, goes through the same claiming code.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Generator, Iterator, List, Optional, Tuple

import apache_beam as beam
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.metrics import Metrics
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration, Timestamp

from pyflink_kinesis.spec.boto import transform_client
from beam_transforms.settings import JOB_MANAGED, ReadSettings
from pyflink_kinesis.spec.builders import KinesisIngressSpec
from pyflink_kinesis.spec.keys import declares_emulator

from . import efo
from .emit import RecordEmitter
from .readcall import ReadCall
from .fetch import GONE, ShardFetcher, ShardStates
from .positions import NewShardsClaim, ShardCursor, ShardEndClaim, ShardInfo, StreamRestriction, StreamShards
from .restriction import StreamRestrictionProvider, StreamRestrictionTracker
from .retry import RetryPolicy
from .moved import StreamChanges
from .shards import RateLimiter, child_shards

_LOG = logging.getLogger(__name__)
METRICS_NAMESPACE = "kinesis"
_EFO_COUNTERS = ("efo_events", "efo_subscriptions", "efo_resubscriptions", "efo_fallbacks", "efo_closed_shards_polled")


# The DoFn parameters of both readers' process(): Beam fills them in (the restriction provider is the DoFn).
_RESTRICTION = beam.DoFn.RestrictionParam()
_WATERMARK = beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())


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
        counters = {name: Metrics.counter(METRICS_NAMESPACE, name)
                    for name in ("records_read", "skipped_records", "deserialize_errors")}
        self._emitter = RecordEmitter(spec, settings.on_deserialize_error, counters, settings.timestamp_fn,
                                      settings.max_out_of_orderness)
        self._discoveries = Metrics.counter(METRICS_NAMESPACE, "shard_discoveries")
        self._policy = RetryPolicy(max_elapsed=settings.max_retry_time)
        self._changes = StreamChanges(self._provider, settings.stream_recreated, self._policy,
                                      spec.aws_properties, settings.shard_discovery_interval,
                                      Metrics.counter(METRICS_NAMESPACE, "expired_shards"))
        self._lags: Dict[str, Any] = {}  # stream -> its millis_behind_latest distribution
        self._efo_counters = {name: Metrics.counter(METRICS_NAMESPACE, name) for name in _EFO_COUNTERS}
        self._client: Any = None
        self._pool: Optional[ThreadPoolExecutor] = None
        # Set when teardown ran (a cancelled job), maybe while process() reads; made in setup (cloudpickle
        # cannot pickle an Event).
        self._torn_down: Optional[threading.Event] = None
        self._limiter = RateLimiter()
        self._fetcher: Optional[ShardFetcher] = None
        self._states = ShardStates()
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
        self._limiter = RateLimiter()
        self._fetcher = None  # made by the first process() call, with the client it finds
        self._states = ShardStates()
        self._last_discovery = {}
        self._fan_out = None
        if self._settings.fan_out and declares_emulator(self._spec.aws_properties()):
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

    def process(self, element: StreamShards, tracker: Any = _RESTRICTION,
                watermark_estimator: Any = _WATERMARK) -> Iterator[Any]:
        yield from self._read(tracker, watermark_estimator)

    # The read loop.
    def _read(self, tracker: Any, watermark: Any) -> Iterator[Any]:
        restriction: StreamRestriction = tracker.current_restriction()
        if restriction.complete:
            return
        call = self._begin(tracker, watermark, restriction)
        try:
            while True:
                # The tracker owns the positions, and which shards this restriction still reads (a
                # runner's split may have handed some to a residual).
                call.restriction = tracker.current_restriction()
                if self._stopped(call):
                    return
                if time.monotonic() - self._last_discovery[call.stream] >= self._settings.shard_discovery_interval:
                    self._discover(tracker, call.restriction)
                    continue
                ready = self._ready(call)
                if ready is None:
                    return
                self._start_fetches(call, ready)
                answer = call.next_answer(ready, lambda c: self._limiter.ready_at((call.stream, c.shard_id)),
                                          None if self._wait_in_process else self._settings.checkpoint_interval)
                if answer is None:
                    continue
                finished = yield from self._follow(call, *answer)
                if finished:
                    return
        except BaseException as e:
            if call.fan_out is not None and not isinstance(e, GeneratorExit):
                call.fan_out.release(call.stream, [c.shard_id for c in call.restriction.shards], failed=e)
            raise
        finally:
            self._end(call)

    def _begin(self, tracker: Any, watermark: Any, restriction: StreamRestriction) -> ReadCall:
        """Set up what this call reads with (setup again after a teardown)."""
        if self._client is None or self._pool is None or self._torn_down is None or self._torn_down.is_set():
            self.setup()
        if self._fetcher is None:
            self._fetcher = ShardFetcher(self._client, self._policy, self._limiter,
                                         self._settings.max_records_per_call)
        restriction = self._changes.settle(self._client, tracker, restriction)
        stream = restriction.stream
        self._last_discovery.setdefault(stream, time.monotonic())
        if self._settings.fan_out and self._fan_out is None:
            self._fan_out = efo.FanOut(self._client, self._settings, self._policy,
                                       lambda name: self._efo_counters[name].inc())
        if self._fan_out is not None and self._fan_out.begin(stream):
            self._last_discovery[stream] = float("-inf")  # learn which shards are closed now (FanOut.caught_up)
        held_back = self._emitter.held_back
        marks = {c.shard_id: c.last_arrival_micros - held_back for c in restriction.shards if c.last_arrival_micros}
        return ReadCall(tracker, watermark, restriction, self._fan_out, marks)

    def _end(self, call: ReadCall) -> None:
        """A response fetched but not claimed is dropped (the cursor did not move). A fetch still running
        keeps its own shard state: the next call starts that shard from a fresh one. (A subscription keeps
        its buffered events: the next call continues on it if it starts there.)"""
        for shard_id, future in call.pending.items():
            future.cancel()
            if shard_id not in call.subscribed:
                self._states.forget(call.stream, shard_id)
        if call.fan_out is not None and call.ended:
            call.fan_out.release(call.stream, [c.shard_id for c in call.restriction.shards])

    def _stopped(self, call: ReadCall) -> bool:
        """True if this call ends now: the restriction is complete, torn down, or past a bound."""
        restriction, tracker = call.restriction, call.tracker
        if restriction.complete:
            return True
        assert self._torn_down is not None
        if self._torn_down.is_set():  # cancelled: give the rest back
            tracker.defer_remainder()
            return True
        if restriction.deadline is not None and time.time() >= restriction.deadline:
            call.stop()
            return True
        if restriction.records_left is not None and restriction.records_left <= 0:
            call.stop()
            return True
        return False

    def _ready(self, call: ReadCall) -> Optional[List[ShardCursor]]:
        """The shards to read now; ``None`` if this call ends (every shard ended, caught up, or a checkpoint)."""
        settings, stream, tracker = self._settings, call.stream, call.tracker
        ready = call.restriction.ready()
        if not ready:  # every shard ended, or was handed to a residual
            call.stop()
            return None
        for shard_id in [s for s in call.pending if call.restriction.cursor(s) is None]:
            self._drop(call, shard_id)  # split off to a residual
        self._advance_watermark(call.watermark, ready, call.marks)
        if settings.stop_when_caught_up and all(self._states.at(stream, c).caught_up for c in ready):
            call.stop()
            return None
        # On the DirectRunner with several workers a bounded read waits here instead of deferring:
        # Beam 2.61 drops the self-checkpointed residuals there.
        if not self._wait_in_process:
            if all(call.read_empty.get(c.shard_id, False) for c in ready):
                tracker.defer_remainder(Duration.of(settings.poll_interval))
                return None
            if time.monotonic() - call.begun >= settings.checkpoint_interval:
                tracker.defer_remainder()
                return None
        return ready

    def _start_fetches(self, call: ReadCall, ready: List[ShardCursor]) -> None:
        """Start a fetch on every ready shard the rate limit allows (subscribed shards: wait for an event)."""
        stream, fan_out, pending = call.stream, call.fan_out, call.pending
        assert self._pool is not None and self._torn_down is not None and self._fetcher is not None
        now = time.monotonic()
        for c in ready:
            if c.shard_id in pending:
                continue
            if fan_out is not None and fan_out.subscribes(stream, c.shard_id):
                pending[c.shard_id] = fan_out.ready(stream, c)
                call.subscribed.add(c.shard_id)
            elif len(pending) - len(call.subscribed) < self._settings.fetch_threads \
                    and self._limiter.ready_at((stream, c.shard_id)) <= now and not self._torn_down.is_set():
                try:
                    pending[c.shard_id] = self._pool.submit(self._fetcher.get_records, stream, c,
                                                            self._states.at(stream, c))
                except RuntimeError:  # the pool was shut down by teardown meanwhile
                    return

    def _follow(self, call: ReadCall, cursor: ShardCursor, response: Dict[str, Any],
                from_subscription: bool) -> Generator[Any, None, bool]:
        """Emit one answer's records and act on where the shard stands; returns True if this call ends."""
        stream, shard_id, fan_out = call.stream, cursor.shard_id, call.fan_out
        lag = response.get("MillisBehindLatest")
        if lag is not None:
            self._lag(stream).update(int(lag))
        outcome: List[Any] = []
        yield from self._emitter.emit(call.tracker, stream, cursor, response, call.marks,
                                      call.restriction.records_left, outcome)
        status, _, cursor = outcome
        if status == "stopped":
            call.ended = True
            return True
        if status == "stop":  # checkpointed (stop reading), or this shard split off (read the others)
            self._states.forget(stream, shard_id)
            return False
        self._states.remember(stream, cursor, response, self._settings.max_records_per_call)
        if from_subscription and status == "ok":
            assert fan_out is not None
            fan_out.emitted(stream, call.tracker.current_restriction().cursor(shard_id) or cursor)
        if status == "end":
            self._shard_ended(call, shard_id, response)
            after = call.tracker.current_restriction()
            call.ended = after.complete and not after.shards  # every shard ended (a checkpoint's primary keeps its)
            return call.ended
        empty = not response.get("Records")
        caught_up = empty and response.get("MillisBehindLatest") == 0
        if caught_up:
            idle_mark = int((time.time() - self._settings.idle_timeout) * 1e6)
            call.marks[shard_id] = max(call.marks.get(shard_id, idle_mark), idle_mark)
        if from_subscription:  # a subscription pushes events: no polling delay, no deferring on an empty one
            assert fan_out is not None
            if caught_up and fan_out.caught_up(stream, shard_id):
                self._states.forget(stream, shard_id)
            return False
        call.read_empty[shard_id] = empty
        if empty:
            self._limiter.defer((stream, shard_id), self._settings.poll_interval)
        return False

    def _discover(self, tracker: Any, restriction: StreamRestriction) -> None:
        """ListShards (this worker's listing of the stream, if one is recent: :mod:`.listing`): shards born of an
        owned shard join (from TRIM_HORIZON); EFO learns which shards closed."""
        stream = restriction.stream
        self._last_discovery[stream] = time.monotonic()
        self._discoveries.inc()
        listing = self._changes.listing(self._client, stream, self._settings.shard_discovery_interval)
        if self._fan_out is not None:
            self._fan_out.listed(stream, set(listing.closed))
        new = tuple(s for s in listing.shards if s.parents and restriction.cursor(s.parents[0]) is not None
                    and restriction.cursor(s.shard_id) is None)
        if new:
            tracker.try_claim(NewShardsClaim(new))  # the tracker adopts those whose ParentShardId it owns

    def _shard_ended(self, call: ReadCall, shard_id: str, response: Dict[str, Any]) -> None:
        """A shard was read to its end (or is gone: ``StreamChanges.expired``): it leaves the restriction; the shards
        it adopts join.

        ``ChildShards`` names the children; ListShards is asked when it is missing, and for a merge,
        to learn which parent Kinesis names ``ParentShardId`` (that side adopts the child): a recent listing
        of this worker if it has the children, else a new one.
        """
        stream = call.stream
        children = child_shards(response)
        descendants: Tuple[ShardInfo, ...] = ()
        if response.get(GONE) is not None:
            successors = self._changes.expired(self._client, call.tracker, call.restriction, shard_id, response[GONE])
            if successors is None:  # the stream was created again: checkpointed, settled by the next call
                return
            children, descendants = successors
        elif not children or any(len(c.parents) > 1 for c in children):
            children = self._children(stream, shard_id, self._settings.shard_discovery_interval) \
                or self._children(stream, shard_id, 0.0)
        call.tracker.try_claim(ShardEndClaim(shard_id, children, descendants))
        call.marks.pop(shard_id, None)
        self._states.forget(stream, shard_id)
        if self._fan_out is not None:
            self._fan_out.shard_ended(stream, shard_id)

    def _lag(self, stream: str) -> Any:
        """The ``millis_behind_latest`` distribution of ``stream`` (namespace ``kinesis/<stream>``)."""
        metric = self._lags.get(stream)
        if metric is None:
            metric = self._lags[stream] = Metrics.distribution(f"{METRICS_NAMESPACE}/{stream}", "millis_behind_latest")
        return metric

    def _children(self, stream: str, shard_id: str, max_age: float) -> Tuple[ShardInfo, ...]:
        return tuple(s for s in self._changes.listing(self._client, stream, max_age).shards if shard_id in s.parents)

    def _drop(self, call: ReadCall, shard_id: str) -> None:
        """Stop reading a shard the restriction no longer owns (a split handed it to the residual)."""
        call.pending.pop(shard_id).cancel()
        self._states.forget(call.stream, shard_id)
        if shard_id in call.subscribed:
            call.subscribed.discard(shard_id)
            assert self._fan_out is not None
            self._fan_out.shard_ended(call.stream, shard_id)

    @staticmethod
    def _advance_watermark(watermark: Any, ready: List[ShardCursor], marks: Dict[str, int]) -> None:
        if not ready or any(c.shard_id not in marks for c in ready):
            return
        low = Timestamp(micros=min(marks[c.shard_id] for c in ready))
        current = watermark.current_watermark()
        if current is None or low > current:
            watermark.set_watermark(low)


class _ReadStreamUnboundedFn(_ReadStreamFn):
    """The same reader, declared unbounded (used when no bounded mode is set)."""

    @beam.DoFn.unbounded_per_element()
    def process(self, element: StreamShards, tracker: Any = _RESTRICTION,
                watermark_estimator: Any = _WATERMARK) -> Iterator[Any]:
        yield from self._read(tracker, watermark_estimator)
