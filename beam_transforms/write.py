"""WriteToKinesis: a pure-Python (boto3) Beam sink for Kinesis Data Streams, driven by a KinesisEgressSpec.

Runs on any Beam runner, the Python DirectRunner included; no Java, no expansion service.

Example::

    spec = (KinesisEgressBuilder.for_identifier("example/out")
            .with_aws_region(AwsRegion.of("eu-west-1"))
            .with_serializer(lambda v: EgressRecord(v.encode(), "my-stream", v[:8]))
            .build())
    result = lines | WriteToKinesis(spec, dead_letter=True)
    result.written   # PCollection[KinesisWriteResult]: stream, shard id, sequence number per record
    result.failed    # PCollection[KinesisFailedRecord]: too large, or still failing after the retries

The transform is two small DoFns (the style of ``apache_beam.io.gcp.pubsub``):

1. ``_SerializeFn`` applies the spec's serializer. ``None`` skips the value and counts it
   (counter ``kinesis/skipped_records``); an exception fails the bundle naming the value's position in the
   bundle and its type; a record over 10 MiB (data plus partition key: no stream takes it) fails naming its
   stream, partition key and size, or goes to the dead-letter output.
2. ``_WriteFn`` checks each record against its stream's limit (``sink.max-record-size``, else the stream's
   ``MaxRecordSizeInKiB`` from DescribeStreamSummary, else 1 MiB), the error naming where the limit came from;
   with ``sink.aggregation.enabled`` it packs user records per shard (:mod:`.aggregating`), and it hands
   records to a :class:`~.batching.KinesisBatchWriter`: one buffer per stream, PutRecords
   of up to 500 records / 5 MiB, ``max_concurrent_requests`` calls at once, at most the spec's
   ``max_outstanding_records`` buffered plus in flight (``process`` blocks beyond that), retries with
   exponential backoff and jitter. A thread sends the partial buffers every ``flush_interval`` seconds, so a
   long bundle does not hold records back. ``finish_bundle`` flushes and waits for every call, so a committed
   bundle has all its records in Kinesis (or in the dead-letter output). Batch sizes, requests in flight and
   the flush interval come from the arguments or the spec's ``sink.*`` properties (:mod:`beam_transforms.settings`),
   as do the KPL's ways: ``sink.record-ttl`` (drop, dead-letter or fail a record not written in time),
   ``sink.rate-limit`` (pace each shard, :mod:`.pacing`) and ``sink.fail-on-throttling``.

Delivery is at least once: a bundle that fails is retried by the runner, and a whole call retried after a
dropped connection may write records that had already been written. Records sharing a partition key may be
written out of order (batches run concurrently and failed entries are resent later).
"""

from __future__ import annotations

import threading
from typing import Any, Iterable, Iterator, NamedTuple, Optional, Union

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.pvalue import PCollection, TaggedOutput
from apache_beam.utils.windowed_value import WindowedValue

from pyflink_kinesis.spec.boto import transform_client
from pyflink_kinesis.spec.records import EgressRecord, InvalidRecordError
from pyflink_kinesis.spec.shard_limits import MAX_RECORD_SIZE_LIMIT
from pyflink_kinesis.spec.serde import SerializationError, to_egress_record
from beam_transforms.settings import DEFAULT_MAX_RETRY_TIME, WriteSettings, write_settings
from pyflink_kinesis.spec.builders import KinesisEgressSpec
from pyflink_kinesis.statefun.module import resolve_spec

from .aggregating import Aggregator, ShardMaps
from .pacing import RecordSizeLimits, ShardPacer
from .batching import (
    KinesisBatchWriter,
    KinesisFailedRecord,
    KinesisWriteError,
    KinesisWriteResult,
    RecordTooLargeError,
)
from .retry import RetryPolicy
from .write_results import too_large_message

__all__ = [
    "WriteToKinesis",
    "WriteToKinesisResult",
    "KinesisWriteResult",
    "KinesisFailedRecord",
    "KinesisWriteError",
    "RecordTooLargeError",
    "SerializationError",
]

METRICS_NAMESPACE = "kinesis"
FAILED_TAG = "failed"
_NO_STREAM = "the most any stream's MaxRecordSizeInKiB allows"


class WriteToKinesisResult(NamedTuple):
    """What :class:`WriteToKinesis` returns.

    Attributes:
        written: One :class:`~.batching.KinesisWriteResult` per record Kinesis accepted (stream,
            partition key, explicit hash key, shard id, sequence number, attempts), in the record's window.
        failed: One :class:`~.batching.KinesisFailedRecord` per record that was not written. Only with
            ``dead_letter=True``; otherwise such records fail the pipeline and this stays empty.
    """

    written: PCollection
    failed: PCollection

    @property
    def dead_letter(self) -> PCollection:
        """The same as :attr:`failed`."""
        return self.failed


class _SerializeFn(beam.DoFn):
    """Value -> EgressRecord with the spec's serializer; counts skips, routes oversized records."""

    def __init__(self, egress_id: str, serializer: Any, dead_letter: bool) -> None:
        self._egress_id = egress_id
        self._serializer = serializer
        self._dead_letter = dead_letter
        self._skipped = Metrics.counter(METRICS_NAMESPACE, "skipped_records")
        self._too_large = Metrics.counter(METRICS_NAMESPACE, "too_large_records")
        self._invalid = Metrics.counter(METRICS_NAMESPACE, "invalid_records")
        self._index = 0

    def start_bundle(self) -> None:
        self._index = 0

    def process(self, value: Any) -> Iterator[Any]:
        index = self._index
        self._index += 1
        try:
            record = to_egress_record(self._egress_id, self._serializer, value, f"value #{index} of the bundle")
        except InvalidRecordError as e:  # a record Kinesis would refuse: only this one fails
            self._invalid.inc()
            if self._dead_letter:
                yield TaggedOutput(FAILED_TAG, KinesisFailedRecord(e.record, "InvalidRecord", str(e), 0))
                return
            raise SerializationError(
                f"egress {self._egress_id}: the serializer made a record Kinesis would refuse from value "
                f"#{index} of the bundle: {e}"
            ) from e
        if record is None:
            self._skipped.inc()
            return
        if record.size > MAX_RECORD_SIZE_LIMIT:  # no stream takes it (each stream's own limit: _WriteFn)
            self._too_large.inc()
            if not self._dead_letter:
                raise RecordTooLargeError(record, MAX_RECORD_SIZE_LIMIT, _NO_STREAM)
            yield TaggedOutput(FAILED_TAG, KinesisFailedRecord(
                record, "RecordTooLarge", too_large_message(record, MAX_RECORD_SIZE_LIMIT, _NO_STREAM), 0))
            return
        yield record


class _WriteFn(beam.DoFn):
    """Sends EgressRecords through a KinesisBatchWriter; emits results (and dead letters) in their windows."""

    def __init__(self, spec: KinesisEgressSpec, settings: WriteSettings, retry_policy: RetryPolicy) -> None:
        self._spec = spec
        self._settings = settings
        self._policy = retry_policy
        self._stop_flushing: Optional[threading.Event] = None  # made in setup (cloudpickle cannot pickle an Event)
        self._writer: Optional[KinesisBatchWriter] = None
        self._aggregator: Optional[Aggregator] = None
        self._pacer: Optional[ShardPacer] = None
        self._limits: Optional[RecordSizeLimits] = None
        self._too_large = Metrics.counter(METRICS_NAMESPACE, "too_large_records")
        self._expired = Metrics.counter(METRICS_NAMESPACE, "expired_records")
        self._sealing: Optional[threading.Lock] = None  # the flush thread's and finish_bundle's sealing of aggregates
        self._client: Any = None
        self._reported: dict = {}
        self._resent_reported = 0
        self._written = Metrics.counter(METRICS_NAMESPACE, "written_records")
        self._failed = Metrics.counter(METRICS_NAMESPACE, "failed_records")
        self._calls = Metrics.counter(METRICS_NAMESPACE, "put_records_calls")
        self._call_retries = Metrics.counter(METRICS_NAMESPACE, "retried_calls")
        self._entry_retries = Metrics.counter(METRICS_NAMESPACE, "retried_records")
        self._split_calls = Metrics.counter(METRICS_NAMESPACE, "split_calls")
        self._resharded = Metrics.counter(METRICS_NAMESPACE, "resharded_records")
        self._high_water = Metrics.distribution(METRICS_NAMESPACE, "outstanding_records_high_water")

    def _new_writer(self) -> KinesisBatchWriter:
        self._reported = {}
        s = self._settings
        return KinesisBatchWriter(
            self._client, max_outstanding_records=s.max_outstanding_records,
            max_concurrent_requests=s.max_concurrent_requests, retry_policy=self._policy, dead_letter=s.dead_letter,
            max_batch_records=min(s.max_batch_records, self._pacer.max_call_records if self._pacer else s.max_batch_records),
            max_batch_bytes=s.max_batch_bytes, record_ttl=s.record_ttl,
            fail_on_error=s.fail_on_error, fail_on_throttling=s.fail_on_throttling, pacer=self._pacer,
            max_record_bytes=MAX_RECORD_SIZE_LIMIT)

    def setup(self) -> None:
        self._client = transform_client(self._spec, max(10, self._settings.max_concurrent_requests))
        s = self._settings
        maps = ShardMaps(self._client, self._policy)
        self._limits = RecordSizeLimits(self._client, self._policy, s.max_record_size)
        self._pacer = None if s.rate_limit is None else ShardPacer(maps, s.rate_limit)
        self._writer = self._new_writer()
        if s.aggregation:
            self._aggregator = Aggregator(maps, s.aggregation_max_count, s.aggregation_max_size)
        self._sealing = threading.Lock()
        self._stop_flushing = stop = threading.Event()
        threading.Thread(target=self._flush_on_time, args=(stop,), name="kinesis-flush-on-time", daemon=True).start()

    def _flush_on_time(self, stop: threading.Event) -> None:
        """Every ``flush_interval`` seconds until ``stop`` is set, send what is buffered (a bundle may last long
        on a streaming runner)."""
        while not stop.wait(self._settings.flush_interval):
            writer = self._writer
            if writer is not None:
                try:
                    self._seal()
                    writer.send_buffered()
                except RuntimeError:  # the writer was closed meanwhile (teardown, or a failed bundle)
                    pass

    def _seal(self) -> None:
        """Hand every open aggregate to the writer (from the flush thread or finish_bundle, one at a time)."""
        if self._aggregator is not None and self._sealing is not None:
            with self._sealing:
                writer = self._writer
                for record, context in self._aggregator.flush():
                    assert writer is not None
                    writer.put(record, context)

    def _put(self, record: EgressRecord, context: Any) -> None:
        """Into an aggregate (the writer gets those that filled up) or, without aggregation, to the writer."""
        writer = self._writer
        assert writer is not None
        ready = [(record, context)] if self._aggregator is None else self._aggregator.add(record, context)
        for kinesis_record, kinesis_context in ready:
            writer.put(kinesis_record, kinesis_context)

    def start_bundle(self) -> None:
        writer = self._writer
        if writer is None:
            self.setup()
        elif writer.outstanding or writer.error is not None or (self._aggregator and self._aggregator.pending):
            writer.close(wait=False)  # left over from a failed bundle: start clean
            self._writer = self._new_writer()
            if self._aggregator is not None:
                self._aggregator.flush()  # the runner retries the failed bundle's records
        else:
            self._reported = writer.stats.as_dict()  # earlier bundles were reported already

    def process(self, record: EgressRecord, timestamp: Any = beam.DoFn.TimestampParam,
                window: Any = beam.DoFn.WindowParam) -> Iterator[Any]:
        writer = self._writer
        assert writer is not None and self._limits is not None
        exceeded = self._limits.exceeded(record)
        if exceeded is not None:
            limit, source = exceeded
            self._too_large.inc()
            if not self._settings.dead_letter:
                raise RecordTooLargeError(record, limit, source)
            failure = KinesisFailedRecord(record, "RecordTooLarge", too_large_message(record, limit, source), 0)
            yield TaggedOutput(FAILED_TAG, WindowedValue(failure, timestamp, (window,)))
            return
        self._put(record, (timestamp, window))
        if writer.has_results():
            yield from self._drain()

    def finish_bundle(self) -> Iterable[Any]:
        writer = self._writer
        assert writer is not None
        out: list = []
        try:
            while True:  # until no user record is written again after a resharding
                self._seal()
                writer.flush()
                out.extend(self._drain())
                if not writer.outstanding and (self._aggregator is None or not self._aggregator.pending):
                    break
        finally:
            self._report()
        return out

    def teardown(self) -> None:
        if self._stop_flushing is not None:
            self._stop_flushing.set()
        if self._writer is not None:
            self._writer.close(wait=False)
            self._writer = None

    def _drain(self) -> Iterator[Any]:
        """The results and dead letters resolved so far, one per user record; user records of an aggregate
        that a resharding put in another shard are written again."""
        assert self._writer is not None
        written, failed = self._writer.drain()
        aggregator = self._aggregator
        again = []
        for result, context in written:
            users, resend = ([(result, context)], []) if aggregator is None else aggregator.written(result, context)
            again.extend(resend)
            for user_result, (timestamp, window) in users:
                yield WindowedValue(user_result, timestamp, (window,))
        for failure, context in failed:
            for user_failure, (timestamp, window) in Aggregator.failed(failure, context):
                yield TaggedOutput(FAILED_TAG, WindowedValue(user_failure, timestamp, (window,)))
        for record, context in again:
            self._put(record, context)

    def _report(self) -> None:
        assert self._writer is not None
        stats = self._writer.stats.as_dict()
        before = self._reported
        for name, counter in (("records_written", self._written), ("records_failed", self._failed),
                              ("calls", self._calls), ("call_retries", self._call_retries),
                              ("entry_retries", self._entry_retries), ("split_calls", self._split_calls),
                              ("records_expired", self._expired)):
            delta = stats[name] - before.get(name, 0)
            if delta:
                counter.inc(delta)
        self._high_water.update(stats["high_water"])
        if self._aggregator is not None and self._aggregator.resent > self._resent_reported:
            self._resharded.inc(self._aggregator.resent - self._resent_reported)
            self._resent_reported = self._aggregator.resent
        self._reported = stats


class WriteToKinesis(beam.PTransform):
    """Write a PCollection to Kinesis Data Streams with the egress spec's serializer and client settings.

    Returns a :class:`WriteToKinesisResult` with ``written`` (a :class:`~.batching.KinesisWriteResult` per
    record: stream, shard id, sequence number) and ``failed`` (dead letters, see ``dead_letter``).

    Beam metrics in namespace ``kinesis``: counters ``skipped_records``, ``too_large_records``, ``invalid_records``,
    ``written_records``, ``failed_records``, ``put_records_calls``, ``retried_calls``, ``retried_records``,
    ``split_calls``, ``expired_records`` (not written within ``sink.record-ttl``), ``resharded_records`` (user
    records of an aggregate written again after a resharding put it in another shard);
    distribution ``outstanding_records_high_water`` (most records buffered plus in flight, per bundle).
    """

    def __init__(
        self,
        egress: Union[KinesisEgressSpec, str],
        module: Any = None,
        *,
        max_concurrent_requests: Optional[int] = None,
        dead_letter: bool = False,
        max_attempts: Optional[int] = None,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
        max_retry_time: float = DEFAULT_MAX_RETRY_TIME,
        max_batch_records: Optional[int] = None,
        max_batch_bytes: Optional[int] = None,
        flush_interval: Optional[float] = None,
        label: Optional[str] = None,
    ) -> None:
        """
        Args:
            egress: A :class:`~pyflink_kinesis.KinesisEgressSpec`, or an egress id ``"namespace/name"``
                looked up in ``module``. Its serializer turns each value into an EgressRecord (``None``
                skips the value); without one, the values must already be EgressRecords.
            module: Where to look up an egress id: a loaded module (anything with an ``egresses`` dict,
                e.g. from :func:`pyflink_kinesis.load_module`) or a path to a StateFun module YAML file.
            max_concurrent_requests: PutRecords calls in flight at once per DoFn instance (thread pool size).
                Default: the spec's ``sink.requests.max-inflight``, else 4.
            dead_letter: ``False`` (default): a record over its stream's limit, or still failing after the retries, fails
                the pipeline with an error naming it. ``True``: it goes to the ``failed`` output instead.
            max_attempts: PutRecords attempts per record, the first included; ``None`` (default): bounded by
                ``max_retry_time`` only.
            initial_backoff: Upper bound in seconds of the first backoff sleep (full jitter, doubling).
            max_backoff: Upper bound in seconds of any backoff sleep.
            max_retry_time: Seconds after a batch's first attempt at which no retry is started any more
                (default 300: an endpoint outage of a few minutes is survived; the first call that gets no
                answer is logged as a WARNING naming the stream).
            max_batch_records: Records per PutRecords call, 1 to 500. Default: the spec's ``sink.batch.max-size``,
                else 500.
            max_batch_bytes: Bytes (data plus partition keys) per PutRecords call, 1 MiB to 5 MiB. Default: the
                spec's ``sink.flush-buffer.size``, else 5 MiB.
            flush_interval: Seconds after which buffered records are sent even if no batch is full, so a long
                bundle on a streaming runner does not hold them back. Default: the spec's
                ``sink.flush-buffer.timeout`` (milliseconds), else 5 s.
            label: The transform's label.

        The spec's ``sink.requests.max-buffered`` bounds the records buffered or in flight when the spec's
        ``max_outstanding_records`` was left at its default. Properties Beam cannot honour give a
        :class:`~pyflink_kinesis.spec.errors.ConfigWarning` (see :mod:`beam_transforms.settings`).
        """
        super().__init__(label)
        self.spec: KinesisEgressSpec = resolve_spec(egress, module, "egress")
        self.settings: WriteSettings = write_settings(
            self.spec, max_batch_records=max_batch_records, max_batch_bytes=max_batch_bytes,
            max_concurrent_requests=max_concurrent_requests, flush_interval=flush_interval, dead_letter=dead_letter,
            max_attempts=max_attempts, initial_backoff=initial_backoff, max_backoff=max_backoff,
            max_retry_time=max_retry_time)
        s = self.settings
        self.retry_policy = RetryPolicy(s.max_attempts, s.initial_backoff, s.max_backoff, s.max_retry_time)
        self.max_concurrent_requests = s.max_concurrent_requests
        self.dead_letter = s.dead_letter
        self.max_batch_records = s.max_batch_records
        self.max_batch_bytes = s.max_batch_bytes

    def expand(self, pcoll: PCollection) -> WriteToKinesisResult:
        spec = self.spec
        records = pcoll | "Serialize" >> beam.ParDo(
            _SerializeFn(spec.id, spec.serializer, self.dead_letter)
        ).with_outputs(FAILED_TAG, main="records")
        written = records.records | "PutRecords" >> beam.ParDo(
            _WriteFn(spec, self.settings, self.retry_policy)
        ).with_outputs(FAILED_TAG, main="written")
        failed = (records[FAILED_TAG], written[FAILED_TAG]) | "DeadLetters" >> beam.Flatten()
        return WriteToKinesisResult(written.written, failed)
