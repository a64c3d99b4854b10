"""PyFlink DataStream API: read an ingress spec as a DataStream, write a DataStream to an egress spec.

::

    from pyflink_kinesis.datastream import from_ingress, to_egress
    ds = from_ingress(env, ingress_spec)          # the deserializer's values (IngressRecords without one)
    to_egress(ds.map(enrich), egress_spec)        # the serializer's EgressRecord picks stream / key / hash key
    env.execute("job")

Both run the connector shipped in this package (``pyflink_kinesis/jars/``, built from ``java/``): a FLIP-27
source with one split per shard and an async sink batching PutRecords per stream. Both add the jar to the
environment themselves. Importing this module does not import PyFlink; calling these functions does.
"""

from __future__ import annotations

import os
import site
import sys
from typing import Any, Mapping, Optional

from ..spec.errors import ConfigError
from .jar import add_connector_jar, call_java, connector_class, java_list, java_map
from ..spec.keys import drop_unhonoured
from ..spec.records import CONSUMER_LIFECYCLES, CONSUMER_NAME
from ..spec.serde import ON_DESERIALIZE_ERROR
from ..spec.builders import KinesisEgressSpec, KinesisIngressSpec

ENGINE = "PyFlink"
DEFAULT_IDLE_TIMEOUT_SECONDS = 30
# PyFlink's Python execution modes: a Python worker process per task (the default), or an interpreter in the JVM.
EXECUTION_MODE_KEY = "python.execution-mode"
EXECUTION_MODES = ("process", "thread")
PYTHON_PATH_KEY = "python.pythonpath"


def _supported(spec: Any, properties: Mapping[str, str]) -> dict[str, str]:
    """``properties`` without the keys the PyFlink connector does not act on (keys.json, path ``flink``):
    a ConfigWarning names each, so nothing reaches the jar that it would refuse."""
    return drop_unhonoured(spec, properties, "flink",
                           lambda key, why: f"{spec.id}: client property '{key}' is ignored by the {ENGINE} connector: {why}")


def source_configuration(ingress_spec: KinesisIngressSpec) -> dict[str, str]:
    """The properties :func:`from_ingress` hands the connector's source: :meth:`source_properties`, less the
    keys it cannot honour (each named in a :class:`ConfigWarning`). Secrets included: print :func:`masked`."""
    return _supported(ingress_spec, ingress_spec.source_properties())


def sink_configuration(egress_spec: KinesisEgressSpec) -> dict[str, str]:
    """The properties :func:`to_egress` hands the connector's sink: :meth:`sink_properties` and
    ``max_outstanding_records`` as ``sink.requests.max-buffered``, less the keys it cannot honour (each
    named in a :class:`ConfigWarning`). Secrets included: print :func:`masked`."""
    return _supported(egress_spec, {**egress_spec.sink_properties(), **egress_spec.buffer_properties()})


def _fan_out(properties: dict[str, str], consumer_name: Optional[str], consumer_lifecycle: Optional[str]) -> None:
    """``from_ingress``'s consumer arguments (those of Beam's ``ReadFromKinesis``) as the source's EFO keys."""
    if consumer_name is None:
        if consumer_lifecycle is not None:
            raise ConfigError("it needs consumer_name", field="consumer_lifecycle")
        return
    if not isinstance(consumer_name, str) or not CONSUMER_NAME.match(consumer_name):
        raise ConfigError(f"expected 1 to 128 letters, digits, '_', '.' or '-', got {consumer_name!r}",
                          field="consumer_name")
    if consumer_lifecycle is not None and consumer_lifecycle not in CONSUMER_LIFECYCLES:
        raise ConfigError(f"expected 'self-managed' or 'job-managed', got {consumer_lifecycle!r}",
                          field="consumer_lifecycle")
    properties["source.reader.type"] = "EFO"
    properties["source.efo.consumer.name"] = consumer_name
    if consumer_lifecycle is not None:
        properties["source.efo.lifecycle"] = consumer_lifecycle.upper().replace("-", "_")


def _uid(kind: str, spec_id: str, name: Optional[str]) -> str:
    # Stable across runs, so savepoints map operator state back; a name tells two uses of one spec apart.
    return f"kinesis-{kind}:{spec_id}" + (f":{name}" if name else "")


def set_execution_mode(env: Any, execution_mode: Optional[str]) -> str:
    """Set the Python execution mode (PyFlink's ``python.execution-mode``) of ``env``'s job; returns it.

    The mode is the job's, not an operator's: PyFlink picks a Python operator's kind (a worker process, or the
    JVM's embedded interpreter) from it when the function is added, and the embedded kind reads it again when the
    job runs, refusing any other value. ``None`` keeps the job's mode (PyFlink's default: ``process``). A mode
    the job already names is fine; another one is a ConfigError, as a function added before in the other mode
    would fail at run time.
    In thread mode (asked for, or the job's) from a virtualenv, its site-packages become ``python.pythonpath``
    unless that is set: the
    JVM's embedded interpreter would not see them otherwise (it finds the base installation only).
    """
    if execution_mode is not None and execution_mode not in EXECUTION_MODES:
        raise ConfigError(f"expected 'process' or 'thread', got {execution_mode!r}", field="execution_mode")
    from pyflink.common import Configuration
    from pyflink.util.java_utils import get_j_env_configuration

    conf = Configuration(j_configuration=get_j_env_configuration(env._j_stream_execution_environment))
    current = conf.get_string(EXECUTION_MODE_KEY, None)
    if execution_mode is not None:
        if current not in (None, execution_mode):
            raise ConfigError(f"the job's {EXECUTION_MODE_KEY} is already {current!r}; it is one for the whole job",
                              field="execution_mode")
        conf.set_string(EXECUTION_MODE_KEY, execution_mode)
    mode = execution_mode or current or "process"
    if mode == "thread" and sys.prefix != sys.base_prefix and not conf.contains_key(PYTHON_PATH_KEY):
        # The JVM embeds the interpreter's shared library, which does not read a virtualenv's pyvenv.cfg.
        conf.set_string(PYTHON_PATH_KEY, os.pathsep.join(site.getsitepackages()))
    return mode


def default_watermark_strategy() -> Any:
    """Event time = arrival time (the source's record timestamps), per shard, idle shards ignored after 30 s."""
    from pyflink.common import Duration, WatermarkStrategy

    return WatermarkStrategy.for_monotonous_timestamps().with_idleness(Duration.of_seconds(DEFAULT_IDLE_TIMEOUT_SECONDS))


def from_ingress(env: Any, ingress_spec: KinesisIngressSpec, *, watermark_strategy: Any = None,
                 on_deserialize_error: str = "fail", name: Optional[str] = None,
                 consumer_name: Optional[str] = None, consumer_lifecycle: Optional[str] = None,
                 execution_mode: Optional[str] = None) -> Any:
    """Read the streams of ``ingress_spec`` as a DataStream.

    The elements are the spec's deserializer's values; without a deserializer, :class:`IngressRecord`s
    (a StateFun routable ingress: one :class:`RoutableMessage` per target instead). Records the deserializer
    maps to ``None`` are skipped and counted (metric ``kinesis.skipped_records``).

    Args:
        env: The ``pyflink.datastream.StreamExecutionEnvironment``; the connector jar is added to it.
        ingress_spec: What to read: streams, startup position (on a fresh start only), region, credentials,
            ``source.*`` client properties.
        watermark_strategy: A ``pyflink.common.WatermarkStrategy`` replacing the default: event time is the
            arrival time, watermarks per shard, shards idle for 30 s do not hold windows back. Without a
            timestamp assigner of its own it keeps the arrival time as the event time.
        on_deserialize_error: ``"fail"`` (default): a deserializer that raises fails the job with an error
            naming the stream, shard and sequence number; ``"skip"``: the record is skipped, logged and counted
            in the metric ``kinesis.deserialize_errors``.
        name: The source's operator name (default ``Kinesis source <id>``); also part of the operator uids,
            so reading one spec twice in a job needs two names. Keep it stable to restore savepoints.
        consumer_name: Read with enhanced fan-out (SubscribeToShard) through the stream consumer of this name,
            as Beam's ``ReadFromKinesis`` does; the same as the spec's client properties
            ``source.reader.type: EFO`` and ``source.efo.consumer.name``, which it overrides.
        consumer_lifecycle: ``"job-managed"`` (the connector's default): the job registers the consumer and
            deregisters it when it ends; ``"self-managed"``: it must exist and stays registered. The same as
            ``source.efo.lifecycle`` (``JOB_MANAGED`` / ``SELF_MANAGED``).
        execution_mode: ``"thread"``: the job's Python functions run in the TaskManager's JVM (PyFlink's
            ``python.execution-mode: thread``, through PEMJA); ``"process"``: in Python worker processes;
            ``None`` (default): the job's mode (PyFlink's default: ``process``). It is the job's mode, for
            every Python function of it, those added later included (:func:`set_execution_mode`).

    Returns:
        A ``pyflink.datastream.DataStream``.
    """
    from pyflink.datastream.connectors import Source

    from .functions import SourceRowsToValues

    if not isinstance(ingress_spec, KinesisIngressSpec):
        raise ConfigError(f"expected a KinesisIngressSpec, got {type(ingress_spec).__name__}", field="ingress_spec")
    if on_deserialize_error not in ON_DESERIALIZE_ERROR:
        raise ConfigError(f"expected 'fail' or 'skip', got {on_deserialize_error!r}", field="on_deserialize_error")
    properties = source_configuration(ingress_spec)
    _fan_out(properties, consumer_name, consumer_lifecycle)
    set_execution_mode(env, execution_mode)
    add_connector_jar(env)
    j_source = call_java(
        lambda: connector_class("source.KinesisSource").create(java_map(properties), java_list(ingress_spec.streams)),
        f"ingress {ingress_spec.id}")
    label = name or f"Kinesis source {ingress_spec.id}"
    rows = env.from_source(Source(j_source), watermark_strategy or default_watermark_strategy(), label)
    rows = rows.uid(_uid("source", ingress_spec.id, name))
    values = rows.flat_map(SourceRowsToValues(ingress_spec, on_deserialize_error))
    return values.name(f"{label}: records to values").uid(_uid("deserialize", ingress_spec.id, name))


def to_egress(ds: Any, egress_spec: KinesisEgressSpec, *, name: Optional[str] = None,
              execution_mode: Optional[str] = None) -> Any:
    """Write a DataStream to Kinesis with ``egress_spec``.

    The spec's serializer turns each element into an :class:`EgressRecord` (stream, partition key, explicit
    hash key, data); ``None`` skips it (metric ``kinesis.skipped_records``). Without a serializer the
    elements must be EgressRecords; a StateFun generic egress (YAML) also takes ``KinesisEgressRecord``
    protobuf bytes. Records are batched per stream into PutRecords calls; at most
    ``max_outstanding_records`` wait in the sink's buffer before it applies backpressure. Delivery is at
    least once (buffered records are flushed on every checkpoint).

    Args:
        ds: A ``pyflink.datastream.DataStream``; the connector jar is added to its environment.
        egress_spec: Where and how to write: region, credentials, serializer, ``max_outstanding_records``,
            ``sink.*`` client properties (``sink.batch.max-size``, ``sink.requests.max-inflight``,
            ``sink.flush-buffer.size``, ``sink.flush-buffer.timeout``, ``sink.skip-oversized-records``,
            ``sink.fail-on-error``, and the KPL's ways: ``sink.aggregation.*``, ``sink.record-ttl``,
            ``sink.rate-limit``, ``sink.fail-on-throttling``, ``sink.max-record-size``).
        name: The sink's operator name (default ``Kinesis sink <id>``); also part of the operator uids, so
            writing to one spec twice in a job needs two names.
        execution_mode: The job's Python execution mode, as in :func:`from_ingress`.

    Returns:
        The ``pyflink.datastream.DataStreamSink``.
    """
    from pyflink.datastream.connectors import Sink

    from .functions import ValuesToSinkRows, sink_row_type

    if not isinstance(egress_spec, KinesisEgressSpec):
        raise ConfigError(f"expected a KinesisEgressSpec, got {type(egress_spec).__name__}", field="egress_spec")
    properties = sink_configuration(egress_spec)
    set_execution_mode(ds.get_execution_environment(), execution_mode)
    add_connector_jar(ds.get_execution_environment())
    j_sink = call_java(lambda: connector_class("sink.KinesisSink").create(java_map(properties)),
                       f"egress {egress_spec.id}")
    label = name or f"Kinesis sink {egress_spec.id}"
    rows = ds.flat_map(ValuesToSinkRows(egress_spec), output_type=sink_row_type())
    rows = rows.name(f"{label}: values to records").uid(_uid("serialize", egress_spec.id, name))
    return rows.sink_to(Sink(j_sink)).name(label).uid(_uid("sink", egress_spec.id, name))


__all__ = ["default_watermark_strategy", "from_ingress", "set_execution_mode", "sink_configuration",
           "source_configuration", "to_egress"]
