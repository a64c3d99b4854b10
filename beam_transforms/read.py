"""``ReadFromKinesis``: a pure-Python (boto3) Beam source for Kinesis Data Streams.

The transform and its arguments; the reading itself (shards, cursors, checkpoints, resharding,
watermark, enhanced fan-out) is in :mod:`beam_transforms.reader`.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Optional, Union

import apache_beam as beam

from pyflink_kinesis.errors import ConfigError
from pyflink_kinesis.routing import route
from pyflink_kinesis.spec import KinesisIngressSpec
from pyflink_kinesis.yaml_module import resolve_spec

from . import efo
from .reader import (
    ON_DESERIALIZE_ERROR,
    DeserializationError,
    ReadSettings,
    _ListShardsFn,
    _ReadStreamFn,
    _ReadStreamUnboundedFn,
)
from .retry import DEFAULT_MAX_RETRY_TIME
from .shards import KinesisReadError


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
        module: A module from :func:`pyflink_kinesis.load_module`, or a module YAML path; needed when
            ``ingress`` is an id.
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
        consumer_name: Read with enhanced fan-out: register this stream consumer on each stream (or reuse
            it if it exists), wait until it is ACTIVE, and read every shard with SubscribeToShard instead
            of GetRecords. Records, metadata, checkpoints, de-aggregation, the watermark, bounded modes and
            resharding work as with GetRecords; see the README for what differs.
        consumer_arn: Read with enhanced fan-out through this existing consumer (one-stream specs only;
            never registered nor deregistered by the reader). Give either this or ``consumer_name``.
        consumer_lifecycle: ``"self-managed"`` (default): the reader never deregisters the consumer.
            ``"job-managed"`` (bounded reads with ``consumer_name`` only): the reader deregisters it when
            the read of a stream ends, and after the read fails with an error.
        max_retry_time: Seconds a Kinesis call keeps being retried (throttling, 5xx, an endpoint that refuses
            connections or does not answer) before the read fails naming the stream and shard; default 300.
            A call that gets no answer is logged as a WARNING naming the stream and shard when it first fails.
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
        consumer_name: Optional[str] = None,
        consumer_arn: Optional[str] = None,
        consumer_lifecycle: str = efo.SELF_MANAGED,
        max_retry_time: float = DEFAULT_MAX_RETRY_TIME,
    ) -> None:
        super().__init__()
        self.spec: KinesisIngressSpec = resolve_spec(ingress, module, "ingress")
        _positive(max_records, "max_records", integer=True)
        _positive(max_read_time, "max_read_time")
        _positive(idle_timeout, "idle_timeout", allow_zero=True)
        _positive(poll_interval, "poll_interval", allow_zero=True)
        _positive(shard_discovery_interval, "shard_discovery_interval")
        _positive(checkpoint_interval, "checkpoint_interval")
        _positive(max_records_per_call, "max_records_per_call", integer=True)
        _positive(fetch_threads, "fetch_threads", integer=True)
        _positive(max_retry_time, "max_retry_time")
        if max_records_per_call > 10_000:
            raise ConfigError(f"must be at most 10000 (the GetRecords limit), got {max_records_per_call}",
                              field="max_records_per_call")
        if on_deserialize_error not in ON_DESERIALIZE_ERROR:
            raise ConfigError(f"expected 'fail' or 'skip', got {on_deserialize_error!r}", field="on_deserialize_error")
        if not isinstance(stop_when_caught_up, bool):
            raise ConfigError(f"expected True or False, got {stop_when_caught_up!r}", field="stop_when_caught_up")
        bounded = max_records is not None or max_read_time is not None or stop_when_caught_up
        _check_fan_out(consumer_name, consumer_arn, consumer_lifecycle, bounded, len(self.spec.streams))
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
            consumer_name=consumer_name,
            consumer_arn=consumer_arn,
            consumer_lifecycle=consumer_lifecycle,
            max_retry_time=float(max_retry_time),
        )

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        consumer = self.settings.consumer_label if self.settings.fan_out else None
        shards = pbegin | "Impulse" >> beam.Impulse() | "ListShards" >> beam.ParDo(_ListShardsFn(self.spec, consumer))
        if len(self.spec.streams) > 1:
            shards = shards | "SpreadStreams" >> beam.Reshuffle()
        reader_class = _ReadStreamFn if self.settings.bounded else _ReadStreamUnboundedFn
        records = shards | "ReadStreamShards" >> beam.ParDo(reader_class(self.spec, self.settings))
        if self.spec.routing and self.spec.deserializer is None:
            # A StateFun routable ingress: one RoutableMessage per target function of the record's stream.
            return records | "Route" >> beam.FlatMap(functools.partial(route, self.spec))
        return records

    def display_data(self) -> Dict[str, Any]:
        data = {"ingress": self.spec.id, "streams": ", ".join(self.spec.streams),
                "startup_position": self.spec.startup_position.iterator_type}
        if self.settings.fan_out:
            data["consumer"] = self.settings.consumer_label
            data["consumer_lifecycle"] = self.settings.consumer_lifecycle
        return data


def _check_fan_out(name: Any, arn: Any, lifecycle: Any, bounded: bool, streams: int) -> None:
    if name is not None and (not isinstance(name, str) or not efo.CONSUMER_NAME.match(name)):
        raise ConfigError(f"expected 1 to 128 letters, digits, '_', '.' or '-', got {name!r}", field="consumer_name")
    if arn is not None:
        if not isinstance(arn, str) or not arn.startswith("arn:") or "/consumer/" not in arn:
            raise ConfigError(f"expected a stream consumer ARN (arn:...:stream/NAME/consumer/...), got {arn!r}",
                              field="consumer_arn")
        if name is not None:
            raise ConfigError("give consumer_name or consumer_arn, not both", field="consumer_arn")
        if streams != 1:
            raise ConfigError(f"a consumer ARN belongs to one stream; the spec reads {streams}", field="consumer_arn")
    if lifecycle not in efo.CONSUMER_LIFECYCLES:
        raise ConfigError(f"expected 'self-managed' or 'job-managed', got {lifecycle!r}", field="consumer_lifecycle")
    if lifecycle == efo.JOB_MANAGED and (name is None or not bounded):
        raise ConfigError("'job-managed' deregisters the consumer when a bounded read ends: it needs consumer_name "
                          "and max_records, max_read_time or stop_when_caught_up", field="consumer_lifecycle")


__all__ = ["DeserializationError", "KinesisReadError", "ReadFromKinesis", "ReadSettings"]
