"""SQL / Table API jobs on 'pyflink-kinesis' tables, as a user's job script: ``python tests/table_jobs.py``.

Each builder registers its tables with ``pyflink_kinesis.table.create_table`` and attaches its INSERTs to the
StreamExecutionEnvironment (``StatementSet.attach_as_datastream``), so ``tests/flink_host.py`` runs, stops and
resumes them like the DataStream jobs. Arguments: the emulator's endpoint and the streams.
"""

from __future__ import annotations

from typing import Any, Dict

from pyflink.table import StreamTableEnvironment

from pyflink_kinesis import (
    AwsCredentials,
    AwsRegion,
    KinesisEgressBuilder,
    KinesisEgressSpec,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    KinesisIngressStartupPosition,
)
from pyflink_kinesis.table import create_table
from pyflink_kinesis.testing.flink_host import serve
from tests.flink_support import emulator_source

METADATA = ("arrived TIMESTAMP_LTZ(3) METADATA FROM 'timestamp', shard STRING METADATA FROM 'shard-id' VIRTUAL, "
            "seq STRING METADATA FROM 'sequence-number' VIRTUAL, pk STRING METADATA FROM 'partition-key' VIRTUAL, "
            "src STRING METADATA FROM 'stream' VIRTUAL, sub BIGINT METADATA FROM 'sub-sequence-number' VIRTUAL")


def ingress(args: Dict[str, Any], stream: str, **properties: str) -> KinesisIngressSpec:
    """Reads ``stream`` from the earliest record at ``source_endpoint`` (default: ``endpoint``), with the
    connector keys ``properties``."""
    return (emulator_source(KinesisIngressBuilder.for_identifier(f"t/{stream}"),
                            args.get("source_endpoint") or args["endpoint"]).with_stream(stream)
            .with_startup_position(KinesisIngressStartupPosition.from_earliest())
            .with_client_configuration_property("source.shard.discovery.interval", "1 s")
            .with_client_configuration_properties(properties).build())


def egress(args: Dict[str, Any]) -> KinesisEgressSpec:
    """Writes to ``endpoint``; with ``aggregate`` set, in KPL aggregates (flushed each second)."""
    builder = (KinesisEgressBuilder.for_identifier("t/out")
               .with_aws_region(AwsRegion.of_custom_endpoint(args["endpoint"], "us-east-1"))
               .with_aws_credentials(AwsCredentials.basic("local", "local"))
               .with_client_configuration_property("sink.flush-buffer.timeout", "200"))
    if args.get("aggregate"):
        builder = builder.with_client_configuration_properties(
            {"sink.aggregation.enabled": "true", "sink.flush-buffer.timeout": "1000"})
    return builder.build()


def table_env(env: Any) -> Any:
    t_env = StreamTableEnvironment.create(env)
    # A shard without records for 20 s stops holding the watermark back (Flink's default: never). Longer than a
    # busy shard's reader may lag on a loaded 2-core machine (kinesis-local can take over 10 s to answer): a
    # lagging shard taken for idle would make its records late, dropped by the windows.
    t_env.get_config().set("table.exec.source.idle-timeout", "20 s")
    # One-phase window aggregation: the two-phase plan pre-aggregates in each source task and sends a partial
    # only when that task's own watermark passes the window; a task whose shards went idle never does, so the
    # windows closed by the other task's watermark would miss its last records (docs/sql.md, "Watermarks").
    t_env.get_config().set("table.optimizer.agg-phase-strategy", "ONE_PHASE")
    return t_env


def pipeline(env: Any, args: Dict[str, Any]) -> None:
    """JSON readings (2 shards, parallelism 2) with every metadata column: a tumbling-window aggregate on the
    arrival time to ``windows`` (PARTITIONED BY sensor), every row with its metadata to ``meta``, every row to
    the even or odd stream by a ``stream`` metadata column; csv and raw tables copied to their outputs."""
    env.set_parallelism(2)
    s = args["streams"]
    t_env = table_env(env)
    create_table(t_env, "readings", ingress(args, s["readings"]), f"sensor INT, celsius DOUBLE, {METADATA}",
                 format="json", watermark="arrived")
    create_table(t_env, "windows", egress(args), "window_start TIMESTAMP_LTZ(3), sensor INT, n BIGINT, total DOUBLE",
                 format="json", stream=s["windows"], partition_by=["sensor"])
    create_table(t_env, "meta", egress(args), "sensor INT, celsius DOUBLE, shard STRING, seq STRING, pk STRING, "
                 "src STRING, sub BIGINT", format="json", stream=s["meta"])
    create_table(t_env, "routed", egress(args), "sensor INT, celsius DOUBLE, target STRING METADATA FROM 'stream'",
                 format="json")
    create_table(t_env, "csv_in", ingress(args, s["csv_in"]), f"name STRING, n INT, {METADATA}", format="csv")
    create_table(t_env, "csv_out", egress(args), "name STRING, n INT, k STRING METADATA FROM 'partition-key'",
                 format="csv", stream=s["csv_out"])
    create_table(t_env, "raw_in", ingress(args, s["raw_in"]), f"data BYTES, {METADATA}", format="raw")
    create_table(t_env, "raw_out", egress(args), "data BYTES, k STRING METADATA FROM 'partition-key'",
                 format="raw", stream=s["raw_out"])
    statements = t_env.create_statement_set()
    statements.add_insert_sql(
        "INSERT INTO windows SELECT window_start, sensor, COUNT(*), SUM(celsius) FROM TABLE("
        "TUMBLE(TABLE readings, DESCRIPTOR(arrived), INTERVAL '2' SECOND)) GROUP BY window_start, window_end, sensor")
    statements.add_insert_sql("INSERT INTO meta SELECT sensor, celsius, shard, seq, pk, src, sub FROM readings")
    statements.add_insert_sql(
        f"INSERT INTO routed SELECT sensor, celsius, CASE WHEN MOD(sensor, 2) = 0 THEN '{s['even']}' "
        f"ELSE '{s['odd']}' END FROM readings")
    statements.add_insert_sql("INSERT INTO csv_out SELECT name, n, pk FROM csv_in")
    statements.add_insert_sql("INSERT INTO raw_out SELECT data, pk FROM raw_in")
    statements.attach_as_datastream()


def copy(env: Any, args: Dict[str, Any]) -> None:
    """A raw copy of ``in`` to ``out`` that keeps partition keys (parallelism 2), to stop and resume; with
    ``aggregate``, written in KPL aggregates."""
    env.set_parallelism(2)
    env.enable_checkpointing(2000)
    t_env = table_env(env)
    create_table(t_env, "src", ingress(args, args["in"]), "data BYTES, pk STRING METADATA FROM 'partition-key'",
                 format="raw")
    create_table(t_env, "dst", egress(args), "data BYTES, pk STRING METADATA FROM 'partition-key'",
                 format="raw", stream=args["out"])
    statements = t_env.create_statement_set()
    statements.add_insert_sql("INSERT INTO dst SELECT data, pk FROM src")
    statements.attach_as_datastream()


def efo_copy(env: Any, args: Dict[str, Any]) -> None:
    """Raw rows of ``in`` read with enhanced fan-out (consumer ``consumer``, JOB_MANAGED) from ``source_endpoint``
    (kinesis-local's TLS port), copied with their shard, sequence number and partition key as JSON to ``out``
    (parallelism 2)."""
    env.set_parallelism(2)
    env.enable_checkpointing(2000)
    t_env = table_env(env)
    spec = ingress(args, args["in"], **{"source.reader.type": "EFO", "source.efo.consumer.name": args["consumer"]})
    create_table(t_env, "src", spec, f"data BYTES, {METADATA}", format="raw")
    create_table(t_env, "dst", egress(args), "data BYTES, shard STRING, seq STRING, pk STRING", format="json",
                 stream=args["out"])
    statements = t_env.create_statement_set()
    statements.add_insert_sql("INSERT INTO dst SELECT data, shard, seq, pk FROM src")
    statements.attach_as_datastream()


if __name__ == "__main__":
    serve({"pipeline": pipeline, "copy": copy, "efo_copy": efo_copy})
