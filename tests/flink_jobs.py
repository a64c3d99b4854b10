"""PyFlink jobs the DataStream tests run, as a user's job script: ``python tests/flink_jobs.py``.

Run as a script, so :class:`RouteSerializer` (the egress serializer of the roundtrip job) and the functions
below are defined in ``__main__``; PyFlink must ship them to its Python workers by value (cloudpickle). The
jobs take their streams and the emulator's endpoint as arguments; ``pyflink_kinesis/testing/flink_host.py`` runs them.

Every job writes what it saw as JSON "observations" (one per record: data in base64 and the metadata) so the
tests can check records and metadata byte for byte in the output streams.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from datetime import datetime
from typing import Any, Dict, Iterator, List, Optional, Tuple


from pyflink.common import WatermarkStrategy
from pyflink.datastream.connectors.number_seq import NumberSequenceSource
from pyflink.datastream.functions import MapFunction, RuntimeContext

from pyflink_kinesis import (
    AwsCredentials,
    AwsRegion,
    EgressRecord,
    IngressRecord,
    KinesisEgressBuilder,
    KinesisEgressSerializer,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    KinesisIngressStartupPosition,
    KinesisEgressSpec,
    load_module,
)
from pyflink_kinesis.flink.datastream import from_ingress, to_egress
from pyflink_kinesis.testing.faultproxy import FaultProxy
from pyflink_kinesis.testing.flink_host import serve
from tests.flink_support import emulator_source, hash_key_for

POISON = "poison"  # records with partition keys starting so make the test deserializer raise


def region(args: Dict[str, Any]) -> AwsRegion:
    """The sink's endpoint: ``sink_endpoint`` (a FaultProxy: see its CLIENT_PROPERTIES) or the emulator's."""
    return AwsRegion.of_custom_endpoint(args.get("sink_endpoint") or args["endpoint"], "us-east-1")


def ingress(args: Dict[str, Any], spec_id: str, streams: List[str], position: KinesisIngressStartupPosition,
            deserializer: Any = None, **properties: Any) -> KinesisIngressSpec:
    builder = (emulator_source(KinesisIngressBuilder.for_identifier(spec_id),
                               args.get("source_endpoint") or args["endpoint"])
               .with_streams(streams).with_startup_position(position)
               .with_client_configuration_property("source.shard.discovery.interval", "1 s")
               .with_client_configuration_properties(properties))
    if deserializer is not None:
        builder = builder.with_deserializer(deserializer)
    return builder.build()


def egress(args: Dict[str, Any], spec_id: str, serializer: Any = None, **properties: Any) -> KinesisEgressSpec:
    builder = (KinesisEgressBuilder.for_identifier(spec_id).with_aws_region(region(args))
               .with_aws_credentials(AwsCredentials.basic("local", "local"))
               .with_client_configuration_property("sink.flush-buffer.timeout", "200")
               .with_client_configuration_properties(FaultProxy.CLIENT_PROPERTIES if "sink_endpoint" in args else {})
               .with_client_configuration_properties(properties)
               .with_max_outstanding_records(args.get("max_outstanding", 1000)))
    if serializer is not None:
        builder = builder.with_serializer(serializer)
    return builder.build()


def observation(record: IngressRecord, **extra: Any) -> Dict[str, Any]:
    """What a job saw of one record, as JSON-able values."""
    return {"data": base64.b64encode(record.data).decode(), "stream": record.stream, "shard": record.shard_id,
            "key": record.partition_key, "seq": record.sequence_number, "sub": record.sub_sequence_number,
            "arrival_ms": round(record.approximate_arrival_timestamp.timestamp() * 1000),
            "tz": str(record.approximate_arrival_timestamp.tzinfo), **extra}


class Observe(MapFunction):
    """IngressRecord -> an EgressRecord of its observation, to ``stream``; adds the subtask and emit order."""

    def __init__(self, stream: str, tag: str, subtask: bool = True) -> None:
        self.stream = stream
        self.tag = tag
        self.subtask = -1
        self.with_subtask = subtask
        self.emitted = 0

    def open(self, runtime_context: RuntimeContext) -> None:
        if self.with_subtask:  # PyFlink 2.x's thread mode lacks it (its RuntimeContext calls a removed Java method)
            self.subtask = runtime_context.get_index_of_this_subtask()

    def map(self, record: IngressRecord) -> EgressRecord:
        self.emitted += 1
        body = observation(record, tag=self.tag, subtask=self.subtask, order=self.emitted)
        return EgressRecord(json.dumps(body).encode(), stream=self.stream, partition_key=record.sequence_number)


class FailOnce(MapFunction):
    """Like :class:`Observe`, adding the task's attempt number and the emit time (``t``); raises on the record
    keyed ``trigger`` in a task's first attempt, so the failover region reading that record restarts once."""

    def __init__(self, stream: str, trigger: str) -> None:
        self.stream = stream
        self.trigger = trigger
        self.subtask = self.attempt = -1
        self.emitted = 0

    def open(self, runtime_context: RuntimeContext) -> None:
        self.subtask = runtime_context.get_index_of_this_subtask()
        self.attempt = runtime_context.get_attempt_number()

    def map(self, record: IngressRecord) -> EgressRecord:
        if record.partition_key == self.trigger and self.attempt == 0:
            raise RuntimeError(f"failing subtask {self.subtask} once on record {record.sequence_number}")
        self.emitted += 1
        body = observation(record, subtask=self.subtask, attempt=self.attempt, order=self.emitted, t=time.time())
        return EgressRecord(json.dumps(body).encode(), stream=self.stream, partition_key=record.sequence_number)


class RouteSerializer(KinesisEgressSerializer[IngressRecord]):
    """Defined in ``__main__``: the same bytes to out_a or out_b by their second byte, key ``o-<key>``;
    records whose key ends in an even digit get an explicit hash key."""

    def __init__(self, out_a: str, out_b: str) -> None:
        self.out_a, self.out_b = out_a, out_b

    def serialize(self, record: IngressRecord) -> EgressRecord:
        stream = self.out_a if record.data[1:2] < b"\x80" else self.out_b
        ehk = hash_key_for(record.data) if record.partition_key[-1] in "02468" else None
        return EgressRecord(record.data, stream=stream, partition_key="o-" + record.partition_key,
                            explicit_hash_key=ehk)


def raise_on_poison(record: IngressRecord) -> IngressRecord:
    """The test deserializer: the record itself, or an error for poison records."""
    if record.partition_key.startswith(POISON):
        raise ValueError(f"cannot read {record.partition_key}")
    return record


def roundtrip(env: Any, args: Dict[str, Any]) -> None:
    """Binary records (2 shards, parallelism 2) to two streams per record, their observations to ``meta``;
    KPL aggregates read from ``kpl``; poison records skipped by the ``skip`` policy."""
    env.set_parallelism(2)
    env.enable_checkpointing(2000)
    earliest = KinesisIngressStartupPosition.from_earliest()
    records = from_ingress(env, ingress(args, "t/in", [args["in"]], earliest, raise_on_poison),
                           on_deserialize_error="skip")
    to_egress(records, egress(args, "t/out", RouteSerializer(args["out_a"], args["out_b"])))
    observed = records.map(Observe(args["meta"], "in"))
    kpl = from_ingress(env, ingress(args, "t/kpl", [args["kpl"]], earliest), name="kpl")
    to_egress(observed.union(kpl.map(Observe(args["meta"], "kpl"))), egress(args, "t/meta"), name="meta")


def live(env: Any, args: Dict[str, Any]) -> None:
    """Three startup positions on one stream, and a stream resharded while the job runs, each observed to
    its own output stream through one egress (parallelism 1: the emit order is the reader's order)."""
    env.set_parallelism(1)
    env.enable_checkpointing(2000)
    positions = {
        "latest": KinesisIngressStartupPosition.from_latest(),
        "earliest": KinesisIngressStartupPosition.from_earliest(),
        "at": KinesisIngressStartupPosition.from_date(datetime.fromisoformat(args["at"])),
    }
    observed = []
    for tag, position in positions.items():
        ds = from_ingress(env, ingress(args, f"t/{tag}", [args["positions"]], position), name=tag)
        observed.append(ds.map(Observe(args["out"][tag], tag)))
    reshard = from_ingress(env, ingress(args, "t/reshard", [args["reshard"]], positions["earliest"]), name="reshard")
    observed.append(reshard.map(Observe(args["out"]["reshard"], "reshard")))
    to_egress(observed[0].union(*observed[1:]), egress(args, "t/live"))


def resumable(env: Any, args: Dict[str, Any]) -> None:
    """Observations of ``in`` to ``out``; the default deserializer-error policy (fail) for poison records; the
    Python functions in PyFlink's execution mode ``mode``."""
    env.set_parallelism(1)
    env.enable_checkpointing(5000)
    earliest = KinesisIngressStartupPosition.from_earliest()
    records = from_ingress(env, ingress(args, "t/resumable", [args["in"]], earliest, raise_on_poison),
                           execution_mode=args.get("mode"))
    to_egress(records.map(Observe(args["out"], "resumable", subtask=False)), egress(args, "t/resumable-out"))


def region_failover(env: Any, args: Dict[str, Any]) -> None:
    """Observations of ``in`` to ``out`` at parallelism 2 with nothing between source and sink that shuffles, so
    each reader's pipeline is a failover region of its own; the region reading the record keyed ``trigger``
    fails once. Checkpoints come only when the test triggers them (the interval is an hour)."""
    env.set_parallelism(2)
    env.enable_checkpointing(3_600_000)
    earliest = KinesisIngressStartupPosition.from_earliest()
    records = from_ingress(env, ingress(args, "t/failover", [args["in"]], earliest))
    to_egress(records.map(FailOnce(args["out"], args["trigger"])), egress(args, "t/failover-out"))


def numbered(i: int, outs: List[str]) -> Optional[EgressRecord]:
    """Record ``i`` of the fault job: 8 digits, then bytes that are not UTF-8, to one of ``outs``."""
    return EgressRecord(b"%08d\xff\xfe" % i, stream=outs[i % len(outs)], partition_key=f"k{i % 97}")


def through_faults(env: Any, args: Dict[str, Any]) -> None:
    """A bounded job: ``count`` numbered records written through the fault proxy (``sink_endpoint``)."""
    env.set_parallelism(2)
    outs = args["outs"]
    numbers = env.from_source(NumberSequenceSource(1, args["count"]), WatermarkStrategy.no_watermarks(), "numbers")
    to_egress(numbers, egress(args, "t/faults", lambda i: numbered(i, outs), **{"sink.requests.max-inflight": 4}))


def copy(env: Any, args: Dict[str, Any]) -> None:
    """Observations of ``in`` to ``out`` (parallelism 1, checkpoints every second), from the earliest record or
    from the date ``start_at``; ``source_endpoint`` / ``sink_endpoint`` (e.g. a fault proxy) and the connector
    keys ``source_props`` / ``sink_props`` as given."""
    env.set_parallelism(1)
    env.enable_checkpointing(1000)
    start_at = args.get("start_at")
    position = (KinesisIngressStartupPosition.from_date(datetime.fromisoformat(start_at)) if start_at
                else KinesisIngressStartupPosition.from_earliest())
    records = from_ingress(env, ingress(args, "t/copy", [args["in"]], position, **args.get("source_props", {})))
    to_egress(records.map(Observe(args["out"], "copy")), egress(args, "t/copy-out", **args.get("sink_props", {})))


def efo(env: Any, args: Dict[str, Any]) -> None:
    """Observations of ``in`` read with enhanced fan-out from ``source_endpoint`` (kinesis-local's TLS port,
    or a relay to it) to ``out``; consumer ``consumer`` with lifecycle ``lifecycle``."""
    env.set_parallelism(args["parallelism"])
    env.enable_checkpointing(2000)
    spec = ingress(args, "t/efo", [args["in"]], KinesisIngressStartupPosition.from_earliest(), **{
        "source.reader.type": "EFO", "source.efo.consumer.name": args["consumer"],
        "source.efo.lifecycle": args["lifecycle"], "source.efo.subscription.timeout": "20 s"})
    records = from_ingress(env, spec)
    to_egress(records.map(Observe(args["out"], "efo")), egress(args, "t/efo-out"))


BIG = bytes(range(256)) * (5 * 1024 * 4)  # 5 MiB of data


def expand(record: IngressRecord) -> Iterator[Tuple[str, int]]:
    """A command of the producer_limits job, ``kind:count``, as ``count`` values ``(kind, i)``."""
    kind, count = record.data.decode().split(":")
    for i in range(int(count)):
        yield kind, i


def limits_record(value: Tuple[str, int], streams: Dict[str, str]) -> EgressRecord:
    """Record ``i`` of a kind of the producer_limits job, to the stream of that kind."""
    kind, i = value
    stream = streams[kind]
    if kind == "ttl":
        return EgressRecord(b"r%03d" % i, stream, "k")
    if kind == "big":
        return EgressRecord(BIG, stream, "big") if i == 0 else EgressRecord(b"small", stream, "s")
    if kind == "over":
        return EgressRecord(b"x" * (1024 * 1024 + 100), stream, "big")
    return EgressRecord(b"%04d" % i + b"." * 96, stream, f"key-{i % 37}")  # paced, unpaced


def producer_limits(env: Any, args: Dict[str, Any]) -> None:
    """The KPL's ways on the Java sink (parallelism 1: one writer per sink). Commands read from ``in``
    (``kind:count``) become records for the sink of that kind: ``ttl`` (``RecordTtl`` 1500 ms) and ``over`` (a
    record over 1 MiB) through the proxy at ``slow`` (20 records/s per shard), ``paced`` (``RateLimit`` 20),
    ``unpaced`` and ``big`` (a 5 MiB record) through the proxy at ``fifth`` (a fifth of a shard's limits,
    reporting MaxRecordSizeInKiB 10240)."""
    env.set_parallelism(1)
    streams = args["streams"]
    commands = from_ingress(env, ingress(args, "t/commands", [args["in"]], KinesisIngressStartupPosition.from_earliest()))
    values = commands.flat_map(expand)
    sinks = {"ttl": ("slow", {"RecordTtl": 1500}), "over": ("slow", {}), "paced": ("fifth", {"RateLimit": 20}),
             "unpaced": ("fifth", {}), "big": ("fifth", {})}
    for kind, (proxy, props) in sinks.items():
        spec = egress(dict(args, sink_endpoint=args[proxy]), f"t/{kind}",
                      lambda v, s=streams: limits_record(v, s), **props)
        to_egress(values.filter(lambda v, k=kind: v[0] == k), spec, name=kind)


def aggregated(env: Any, args: Dict[str, Any]) -> None:
    """``in`` copied to ``out`` (data and partition key) through the egress of a StateFun module (``module``:
    examples/configs/aggregating_egress.yaml, its endpoint filled in), which aggregates as the KPL did; our source
    reads ``out`` back, de-aggregating, and its observations go to ``meta``; so do those of ``beam_out`` (the same
    egress's aggregates written by Beam's WriteToKinesis), when given."""
    env.set_parallelism(2)
    env.enable_checkpointing(2000)
    earliest = KinesisIngressStartupPosition.from_earliest()
    module_egress = load_module(args["module"]).egresses["example/orders-aggregated"]
    records = from_ingress(env, ingress(args, "t/agg-in", [args["in"]], earliest))
    to_egress(records.map(lambda r, out=args["out"]: EgressRecord(r.data, out, r.partition_key)), module_egress)
    observed = from_ingress(env, ingress(args, "t/agg-back", [args["out"]], earliest)).map(Observe(args["meta"], "flink"))
    if args.get("beam_out"):
        beam = from_ingress(env, ingress(args, "t/agg-beam", [args["beam_out"]], earliest))
        observed = observed.union(beam.map(Observe(args["meta"], "beam")))
    to_egress(observed, egress(args, "t/agg-meta"))


def bad_setting(env: Any, args: Dict[str, Any]) -> None:
    """Fails while building: the connector refuses a setting (no job is submitted)."""
    spec = ingress(args, "t/bad", ["s"], KinesisIngressStartupPosition.from_latest())
    from_ingress(env, dataclasses.replace(spec, client_properties=(("source.shard.discovery.interval", "soon"),)))


if __name__ == "__main__":
    serve({"roundtrip": roundtrip, "live": live, "resumable": resumable, "region_failover": region_failover,
           "through_faults": through_faults, "copy": copy, "efo": efo, "producer_limits": producer_limits,
           "aggregated": aggregated, "bad_setting": bad_setting})
