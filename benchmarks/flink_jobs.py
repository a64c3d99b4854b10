"""The PyFlink jobs of the benchmark (``benchmarks/flink.py`` runs this script in a child process).

- ``python_step``: from_ingress (a Python deserializer) -> to_egress (a Python serializer), in PyFlink's
  execution mode ``mode`` (``process`` or ``thread``);
- ``java_only``: the same connector source -> ``ToStream`` (Java) -> the same sink, no Python step; ``ToStream`` is
  benchmark-only Java in ``java/target/benchmark/pyflink-kinesis-connector-flink-<line>-benchmark.jar``
  (``mvn package`` in java/), never in the connector jar;
- ``sql_copy``: the same copy in SQL: ``INSERT INTO dst SELECT data, pk FROM src`` on 'pyflink-kinesis' tables
  (raw format, the partition key as a metadata column), no Python step;
- ``sql_generate``: a bounded SQL job writing ``count`` generated records of ``size`` bytes (datagen, partition
  keys ``pk-<i % 1000>``) to ``out`` through ``sink_endpoint`` with the egress's ``sink`` properties
  (``benchmarks/aggregation.py``: aggregated or not), no Python step;
- ``official_copy``: the official Flink connector (its jar given as ``official_jar``: ``--official-jar``, never
  downloaded by this project): ``KinesisStreamsSource`` -> (a Python map, with ``python_map``) ->
  ``KinesisStreamsSink``, records as byte arrays (Flink's ``ByteArraySchema``), streams by ARN; its sink's
  DataStream API takes no key from the record, so it uses the connector's random partition keys;
- ``sink_memory``: a bounded job writing ``count`` records of ``size`` bytes through ``sink_endpoint`` (a slow
  proxy), with ``max_outstanding_records``; small Python bundles, so the sink is what holds records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict


from pyflink.common import WatermarkStrategy
from pyflink.datastream import DataStream
from pyflink.datastream.connectors import Sink, Source
from pyflink.datastream.connectors.number_seq import NumberSequenceSource

from pyflink_kinesis import (
    AwsCredentials,
    AwsRegion,
    EgressRecord,
    KinesisEgressBuilder,
    KinesisEgressSpec,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    KinesisIngressStartupPosition,
)
from pyflink_kinesis.flink.datastream import from_ingress, sink_configuration, source_configuration, to_egress
from pyflink_kinesis.flink.functions import sink_row_type
from pyflink_kinesis.testing.faultproxy import FaultProxy
from pyflink_kinesis.flink.jar import add_connector_jar, connector_class, connector_jar, java_list, java_map
from pyflink_kinesis.testing.flink_host import serve

BENCHMARK_JARS = Path(__file__).resolve().parents[1] / "java" / "target" / "benchmark"
# kinesalite and the loopback proxies speak HTTP/1.1 only; the sink's client starts HTTP/2 on a plain http://
# endpoint unless told so.
HTTP1 = FaultProxy.CLIENT_PROPERTIES


def add_benchmark_jar(env: Any) -> None:
    """Add the benchmark jar of the running Flink's line (after the connector jar, whose classes it uses) to
    ``env``."""
    jar = BENCHMARK_JARS / connector_jar().name.replace(".jar", "-benchmark.jar")
    if not jar.is_file():
        raise FileNotFoundError(f"{jar} is missing: run `mvn -B package -DskipTests` in java/")
    add_connector_jar(env)
    env.add_jars(jar.as_uri())


def ingress(args: Dict[str, Any], deserializer: Any = None) -> KinesisIngressSpec:
    builder = (KinesisIngressBuilder.for_identifier("bench/in")
               .with_aws_region(AwsRegion.of_custom_endpoint(args["endpoint"], "us-east-1"))
               .with_aws_credentials(AwsCredentials.basic("local", "local"))
               .with_stream(args["in"]).with_startup_position(KinesisIngressStartupPosition.from_earliest()))
    return builder.with_deserializer(deserializer).build() if deserializer else builder.build()


def egress(args: Dict[str, Any], serializer: Any = None) -> KinesisEgressSpec:
    builder = (KinesisEgressBuilder.for_identifier("bench/out")
               .with_aws_region(AwsRegion.of_custom_endpoint(args.get("sink_endpoint") or args["endpoint"], "us-east-1"))
               .with_aws_credentials(AwsCredentials.basic("local", "local"))
               .with_client_configuration_properties(HTTP1)
               .with_client_configuration_properties(args.get("sink", {}))
               .with_client_configuration_properties({"sink.requests.max-inflight": str(args["max_inflight"])}
                                                     if args.get("max_inflight") else {})
               .with_max_outstanding_records(args.get("max_outstanding", 1000)))
    return builder.with_serializer(serializer).build() if serializer else builder.build()


def key_and_data(record: Any) -> Any:
    """The python_step job's deserializer."""
    return record.partition_key, record.data


def to_out(out: str) -> Any:
    """The python_step job's serializer: the same key and data, to ``out``."""
    return lambda v: EgressRecord(v[1], stream=out, partition_key=v[0])


def python_step(env: Any, args: Dict[str, Any]) -> None:
    env.set_parallelism(args["parallelism"])
    records = from_ingress(env, ingress(args, key_and_data), execution_mode=args.get("mode"))
    to_egress(records, egress(args, to_out(args["out"])))


def java_only(env: Any, args: Dict[str, Any]) -> None:
    env.set_parallelism(args["parallelism"])
    add_benchmark_jar(env)
    spec = ingress(args)
    j_source = connector_class("source.KinesisSource").create(java_map(source_configuration(spec)),
                                                              java_list(spec.streams))
    rows = env.from_source(Source(j_source), WatermarkStrategy.no_watermarks(), "Kinesis source")
    to_stream = connector_class("sink.ToStream")(args["out"])
    mapped = DataStream(rows._j_data_stream.map(to_stream, sink_row_type().get_java_type_info()))
    j_sink = connector_class("sink.KinesisSink").create(java_map(sink_configuration(egress(args))))
    mapped.sink_to(Sink(j_sink))


def sql_copy(env: Any, args: Dict[str, Any]) -> None:
    from pyflink.table import StreamTableEnvironment

    from pyflink_kinesis.table import create_table

    env.set_parallelism(args["parallelism"])
    t_env = StreamTableEnvironment.create(env)
    columns = "data BYTES, pk STRING METADATA FROM 'partition-key'"
    create_table(t_env, "src", ingress(args), columns, format="raw")
    create_table(t_env, "dst", egress(args), columns, format="raw", stream=args["out"])
    statements = t_env.create_statement_set()
    statements.add_insert_sql("INSERT INTO dst SELECT data, pk FROM src")
    statements.attach_as_datastream()


def sql_generate(env: Any, args: Dict[str, Any]) -> None:
    from pyflink.table import StreamTableEnvironment

    from pyflink_kinesis.table import create_table

    env.set_parallelism(args["parallelism"])
    t_env = StreamTableEnvironment.create(env)
    t_env.execute_sql("CREATE TEMPORARY TABLE gen (i BIGINT) WITH ('connector' = 'datagen', 'fields.i.kind' = "
                      f"'sequence', 'fields.i.start' = '0', 'fields.i.end' = '{args['count'] - 1}', "
                      "'rows-per-second' = '100000000')")  # datagen's default, 10,000 rows/s, would bind the job
    create_table(t_env, "dst", egress(args), "data BYTES, pk STRING METADATA FROM 'partition-key'", format="raw",
                 stream=args["out"])
    statements = t_env.create_statement_set()
    statements.add_insert_sql(f"INSERT INTO dst SELECT CAST(RPAD(CAST(i AS STRING), {args['size']}, 'x') AS BYTES), "
                              "CONCAT('pk-', CAST(MOD(i, 1000) AS STRING)) FROM gen")
    statements.attach_as_datastream()


def official_copy(env: Any, args: Dict[str, Any]) -> None:
    from pyflink.common import Types
    from pyflink.java_gateway import get_gateway

    env.set_parallelism(args["parallelism"])
    env.add_jars(Path(args["official_jar"]).as_uri())
    jvm = get_gateway().jvm
    kinesis = jvm.org.apache.flink.connector.kinesis
    schema = jvm.org.apache.flink.api.common.serialization.ByteArraySchema
    properties = {"aws.region": "us-east-1", "aws.endpoint": args["endpoint"], "aws.credentials.provider": "BASIC",
                  "aws.credentials.provider.basic.accesskeyid": "local",
                  "aws.credentials.provider.basic.secretkey": "local", "aws.trust.all.certificates": "true",
                  "aws.http.protocol.version": "HTTP1_1"}
    config = jvm.org.apache.flink.configuration.Configuration.fromMap(
        java_map({**properties, "source.init.position": "TRIM_HORIZON"}))
    j_source = (kinesis.source.KinesisStreamsSource.builder().setStreamArn(args["in_arn"]).setSourceConfig(config)
                .setDeserializationSchema(schema()).build())
    records = env.from_source(Source(j_source), WatermarkStrategy.no_watermarks(), "official source",
                              Types.PRIMITIVE_ARRAY(Types.BYTE()))
    if args.get("python_map"):
        records = records.map(lambda data: data, Types.PRIMITIVE_ARRAY(Types.BYTE()))
    client_properties = jvm.java.util.Properties()
    for key, value in properties.items():
        client_properties.setProperty(key, value)
    builder = (kinesis.sink.KinesisStreamsSink.builder().setKinesisClientProperties(client_properties)
               .setStreamArn(args["out_arn"]).setSerializationSchema(schema())
               .setPartitionKeyGenerator(kinesis.table.RandomKinesisPartitionKeyGenerator())
               .setMaxBufferedRequests(args.get("max_outstanding", 10_000)))
    if args.get("max_inflight"):  # else the connector's own default, as ours keeps its own
        builder = builder.setMaxInFlightRequests(args["max_inflight"])
    records.sink_to(Sink(builder.build()))


def sink_memory(env: Any, args: Dict[str, Any]) -> None:
    env.set_parallelism(1)
    out, size = args["out"], args["size"]
    numbers = env.from_source(NumberSequenceSource(1, args["count"]), WatermarkStrategy.no_watermarks(), "numbers")
    to_egress(numbers, egress(args, lambda i: EgressRecord(b"%09d" % i + b"x" * (size - 9), stream=out,
                                                             partition_key=f"k{i % 100}")))


if __name__ == "__main__":
    serve({"python_step": python_step, "java_only": java_only, "sql_copy": sql_copy, "sql_generate": sql_generate,
           "official_copy": official_copy, "sink_memory": sink_memory})
