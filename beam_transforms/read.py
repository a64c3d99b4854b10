"""``ReadFromKinesis``: a pure-Python (boto3) Beam source for Kinesis Data Streams.

The transform and its arguments (resolved with the spec's ``source.*`` properties by
:mod:`beam_transforms.settings`); the reading itself (shards, cursors, checkpoints, resharding,
watermark, enhanced fan-out) is in :mod:`beam_transforms.reader`.

How many restrictions the initial split makes depends on the runner (``read._initial_splits``): one
per lineage where runners spread initial restrictions; one on Prism, which splits a running
restriction (``try_split(0.5)``) and reads the residuals on other threads. The DirectRunner never
splits a running restriction: with one worker (its default) the stream stays in one restriction,
whose fetch threads overlap the shards. With ``direct_num_workers=N`` the initial split deals the lineages
over N restrictions, and a bounded read then waits in ``process()`` rather than deferring: Beam
2.61's multi-worker DirectRunner drops self-checkpointed residuals (its ParallelBundleManager merges
the workers' answers without their residual roots).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from datetime import timedelta
from typing import Any, Callable, Dict, Iterator, Optional, Union

import apache_beam as beam
from apache_beam.options.pipeline_options import DirectOptions

from pyflink_kinesis.spec.boto import transform_client
from pyflink_kinesis.spec.records import IngressRecord, RoutableMessage
from pyflink_kinesis.spec.routing import route
from pyflink_kinesis.spec.serde import DeserializationError
from beam_transforms.settings import DEFAULT_MAX_RETRY_TIME, ReadSettings, read_settings
from pyflink_kinesis.spec.builders import KinesisIngressSpec
from pyflink_kinesis.statefun.module import resolve_spec

from . import coders  # noqa: F401 - registers the IngressRecord coder
from . import efo
from .positions import StreamShards
from .reader import _ReadStreamFn, _ReadStreamUnboundedFn
from .retry import RetryPolicy
from .listing import client_key, shared_listing, stream_created
from .shards import KinesisReadError

_LOG = logging.getLogger(__name__)


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
        policy = RetryPolicy(max_elapsed=self._max_retry_time)
        for stream in self._spec.streams:
            if self._consumer is not None:
                efo.describe_stream_arn(self._client, stream, self._consumer, policy)
            key = client_key(self._spec.aws_properties())
            created = stream_created(self._client, key, stream, policy, 0.0)
            shards = shared_listing(self._client, key, stream, policy, 0.0).shards
            _LOG.info("ingress %s: stream %s has %d shards", self._spec.id, stream, len(shards))
            yield StreamShards(stream, tuple(shards), started_at, created)


class ReadFromKinesis(beam.PTransform):
    """Read the streams of a Kinesis ingress spec into a PCollection (boto3; no Java, no expansion service).

    Each element is the deserializer's value for a record (records it maps to ``None`` are
    skipped and counted in the ``kinesis/skipped_records`` counter), or the
    :class:`~pyflink_kinesis.IngressRecord` itself when the spec has no deserializer. A StateFun
    routable ingress (YAML streams with targets, no deserializer) emits one
    :class:`~pyflink_kinesis.RoutableMessage` per target instead: id = partition key, payload = the
    record's bytes tagged with the stream's type url. Elements are
    timestamped with the record's approximate arrival time, or with ``timestamp_fn``'s event time. KPL-aggregated records are
    de-aggregated into their user records. ``kinesis/records_read`` counts records read.

    The output type is declared: ``IngressRecord`` (which has a deterministic Beam coder,
    :mod:`beam_transforms.coders`), ``RoutableMessage``, or ``Any`` with a deserializer.

    Without a bounded mode the read is unbounded (run it on a streaming runner such as Flink).
    With ``max_records``, ``max_read_time`` or ``stop_when_caught_up`` it ends, and runs to
    completion on the DirectRunner.

    Args:
        ingress: A :class:`~pyflink_kinesis.KinesisIngressSpec`, or the ``"namespace/name"`` id of an
            ingress of ``module``.
        module: A module from :func:`pyflink_kinesis.load_module`, or a module YAML path; needed when
            ``ingress`` is an id.
        max_records: Stop after this many records (user records of aggregates count one each, skipped
            ones too). Counted per stream: exact for a one-stream spec, up to ``max_records`` per stream otherwise.
        max_read_time: Stop reading after this many seconds, counted from when the shards were listed.
        stop_when_caught_up: Stop once every shard being read reported ``MillisBehindLatest == 0``
            (closed shards are read to their end, their children until caught up).
        idle_timeout: Seconds of idleness after which a caught-up shard that returns no records stops
            holding the watermark back: its watermark becomes ``now - idle_timeout`` (default 120).
        poll_interval: Seconds to wait before reading a shard again after it returned no records
            (GetRecords is never called more than 5 times per second per shard). Default: the spec's
            ``source.reader.empty-records-fetch-interval``, else 1 s.
        shard_discovery_interval: Seconds between ListShards calls that find new shards (shards born
            of a split or merge are also found at their parent's end, through ChildShards). Default: the
            spec's ``source.shard.discovery.interval``, else 30 s.
        checkpoint_interval: Seconds after which the reader checkpoints even while data keeps coming,
            so runners can commit its progress (default 10).
        max_records_per_call: The GetRecords ``Limit`` (1 to 10,000). Default: the spec's
            ``source.shard.get-records.max-record-count``, else 10,000.
        on_deserialize_error: ``"fail"`` (default) raises an error naming the stream, shard and
            sequence number of the record; ``"skip"`` skips it and counts it in ``kinesis/deserialize_errors``.
        fetch_threads: GetRecords calls in flight at once per restriction (one per shard at most); records
            are still claimed and emitted by one thread, in order within each shard (default 8).
        consumer_name: Read with enhanced fan-out: register this stream consumer on each stream (or reuse
            it if it exists), wait until it is ACTIVE, and read every shard with SubscribeToShard instead
            of GetRecords. Records, metadata, checkpoints, de-aggregation, the watermark, bounded modes and
            resharding work as with GetRecords; see docs/beam.md for what differs. Default: the spec's
            ``source.efo.consumer.name`` when its ``source.reader.type`` is ``EFO``.
        consumer_arn: Read with enhanced fan-out through this existing consumer (one-stream specs only;
            never registered nor deregistered by the reader). Give either this or ``consumer_name``.
        consumer_lifecycle: ``"self-managed"`` (default): the reader never deregisters the consumer.
            ``"job-managed"`` (bounded reads with ``consumer_name`` only): the reader deregisters it when
            the read of a stream ends, and after the read fails with an error. Default: the spec's
            ``source.efo.lifecycle`` (for bounded reads).
        timestamp_fn: ``timestamp_fn(record, value)`` gives each element's event time, from the
            :class:`~pyflink_kinesis.IngressRecord` and the element made of it (the deserializer's value, or the
            record itself without a deserializer): a ``datetime`` (naive means UTC), a Beam ``Timestamp`` or
            seconds since the epoch. Records the deserializer skips are not asked. A function that raises
            is handled as a failing deserializer (``on_deserialize_error``). Default: the arrival time.
        max_out_of_orderness: How far back in time a shard's elements may come after a later one (seconds,
            a ``datetime.timedelta`` or a Beam ``Duration``; default 0): each shard's watermark is the
            highest element timestamp it emitted less this, so no element within it is late. The read's
            watermark is the minimum over the shards being read; idle shards as for ``idle_timeout``.
        stream_recreated: What a read does when its stream was deleted and created again since its positions
            were taken (a restored checkpoint, or a bundle of a long-running read: the stream's creation time
            differs from the one kept with them): ``"fail"`` (default) with one line naming the stream and both
            creation times, or ``"start_over"``: read the new stream from the spec's startup position. Default:
            the spec's ``source.stream-recreated`` (``FAIL`` / ``START_OVER``).
        max_retry_time: Seconds a Kinesis call keeps being retried (throttling, 5xx, an endpoint that refuses
            connections or does not answer) before the read fails naming the stream and shard; default 300.
            A call that gets no answer is logged as a WARNING naming the stream and shard when it first fails.

    Arguments override the spec's ``source.*`` properties; properties Beam cannot honour give a
    :class:`~pyflink_kinesis.spec.errors.ConfigWarning` (see :mod:`beam_transforms.settings`).
    """

    def __init__(
        self,
        ingress: Union[KinesisIngressSpec, str],
        module: Any = None,
        *,
        max_records: Optional[int] = None,
        max_read_time: Optional[float] = None,
        stop_when_caught_up: bool = False,
        idle_timeout: Optional[float] = None,
        poll_interval: Optional[float] = None,
        shard_discovery_interval: Optional[float] = None,
        checkpoint_interval: Optional[float] = None,
        max_records_per_call: Optional[int] = None,
        on_deserialize_error: str = "fail",
        fetch_threads: Optional[int] = None,
        consumer_name: Optional[str] = None,
        consumer_arn: Optional[str] = None,
        consumer_lifecycle: Optional[str] = None,
        max_retry_time: float = DEFAULT_MAX_RETRY_TIME,
        timestamp_fn: Optional[Callable[[IngressRecord, Any], Any]] = None,
        max_out_of_orderness: Union[float, timedelta, None] = None,
        stream_recreated: Optional[str] = None,
    ) -> None:
        super().__init__()
        self.spec: KinesisIngressSpec = resolve_spec(ingress, module, "ingress")
        self.settings: ReadSettings = read_settings(
            self.spec,
            max_records=max_records,
            max_read_time=max_read_time,
            stop_when_caught_up=stop_when_caught_up,
            idle_timeout=idle_timeout,
            poll_interval=poll_interval,
            shard_discovery_interval=shard_discovery_interval,
            checkpoint_interval=checkpoint_interval,
            max_records_per_call=max_records_per_call,
            on_deserialize_error=on_deserialize_error,
            fetch_threads=fetch_threads,
            consumer_name=consumer_name,
            consumer_arn=consumer_arn,
            consumer_lifecycle=consumer_lifecycle,
            max_retry_time=max_retry_time,
            timestamp_fn=timestamp_fn,
            max_out_of_orderness=max_out_of_orderness,
            stream_recreated=stream_recreated,
        )

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        consumer = self.settings.consumer_label if self.settings.fan_out else None
        shards = pbegin | "Impulse" >> beam.Impulse() | "ListShards" >> beam.ParDo(
            _ListShardsFn(self.spec, consumer, self.settings.max_retry_time))
        if len(self.spec.streams) > 1:
            shards = shards | "SpreadStreams" >> beam.Reshuffle()
        reader_class = _ReadStreamFn if self.settings.bounded else _ReadStreamUnboundedFn
        output = Any if self.spec.deserializer is not None else IngressRecord
        records = shards | "ReadStreamShards" >> beam.ParDo(
            reader_class(self.spec, self.settings, _initial_splits(pbegin.pipeline))).with_output_types(output)
        if self.spec.routing and self.spec.deserializer is None:
            # A StateFun routable ingress: one RoutableMessage per target function of the record's stream.
            return records | "Route" >> beam.FlatMap(functools.partial(route, self.spec)).with_output_types(
                RoutableMessage)
        return records

    def display_data(self) -> Dict[str, Any]:
        data = {"ingress": self.spec.id, "streams": ", ".join(self.spec.streams),
                "startup_position": self.spec.startup_position.iterator_type}
        if self.settings.fan_out:
            data["consumer"] = self.settings.consumer_label
            data["consumer_lifecycle"] = self.settings.consumer_lifecycle
        return data


def _initial_splits(pipeline: beam.Pipeline) -> Optional[int]:
    """How many restrictions the initial split makes, at most, on this pipeline's runner.

    The DirectRunner: its worker count (``direct_num_workers``, 0 meaning one per CPU); it spreads initial
    restrictions over its workers but never splits a running one. Prism: 1; it splits running restrictions
    (``try_split(0.5)``) and runs the residuals on other threads, but runs initial restrictions one after
    another. Other runners: ``None``, one restriction per shard lineage, for runners that spread them.
    """
    runner = type(pipeline.runner).__name__
    if runner in ("DirectRunner", "SwitchingDirectRunner", "FnApiRunner"):
        workers = pipeline.options.view_as(DirectOptions).direct_num_workers
        return workers if workers > 0 else (os.cpu_count() or 1)
    if runner == "PrismRunner":
        return 1
    return None


__all__ = ["DeserializationError", "KinesisReadError", "ReadFromKinesis", "ReadSettings"]
