"""What from_ingress / to_egress hand the Java connector, checked without a JVM: every named setting of a spec
arrives as a connector key, and keys the PyFlink connector cannot honour are dropped with a ConfigWarning."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import pytest

from pyflink_kinesis import (
    AwsCredentials,
    AwsRegion,
    ConfigError,
    ConfigWarning,
    KinesisEgressBuilder,
    KinesisIngressBuilder,
    KinesisIngressStartupPosition,
    load_module,
)
from pyflink_kinesis.flink.datastream import from_ingress, sink_configuration, source_configuration, to_egress
from pyflink_kinesis.flink.jar import JAR_DIR, ConnectorJarMissing, UnsupportedFlinkVersion, connector_jar


def ingress(**props: object):
    return (KinesisIngressBuilder.for_identifier("t/in")
            .with_aws_region(AwsRegion.of_custom_endpoint("http://127.0.0.1:4568", "eu-west-1"))
            .with_aws_credentials(AwsCredentials.basic("AKID", "s3cr3t"))
            .with_streams(["a", "b"])
            .with_startup_position(KinesisIngressStartupPosition.from_date(datetime(2026, 1, 2, 3, 4, 5, 6000,
                                                                                    tzinfo=timezone.utc)))
            .with_client_configuration_properties(props).build())


def test_every_named_ingress_setting_reaches_the_source() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        props = source_configuration(ingress(**{"source.shard.discovery.interval": "1 s"}))
    assert props["aws.region"] == "eu-west-1" and props["aws.endpoint"] == "http://127.0.0.1:4568"
    assert props["aws.credentials.provider"] == "BASIC"
    assert props["aws.credentials.provider.basic.accesskeyid"] == "AKID"
    assert props["aws.credentials.provider.basic.secretkey"] == "s3cr3t"
    assert props["source.init.position"] == "AT_TIMESTAMP"
    assert props["source.init.timestamp"] == "2026-01-02T03:04:05.006Z"
    assert props["source.shard.discovery.interval"] == "1 s"
    assert not {"aws.trust.all.certificates", "aws.http.protocol.version", "aws.emulator"} & set(props)  # none added


def test_max_outstanding_records_becomes_the_sinks_buffer_bound() -> None:
    spec = (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(AwsRegion.of("eu-west-1"))
            .with_max_outstanding_records(300).with_client_configuration_property("MaxConnections", 7).build())
    props = sink_configuration(spec)
    assert props["sink.requests.max-buffered"] == "300"
    assert props["sink.batch.max-size"] == "299"  # Flink's async sinks need a batch below the buffer
    assert props["aws.http-client.max-concurrency"] == "7" and props["aws.region"] == "eu-west-1"
    yaml_spec = load_module("kind: io.statefun.kinesis.v1/egress\nspec:\n  id: t/y\n"
                            "  awsRegion: {type: specific, id: us-east-1}\n  maxOutstandingRecords: 5000\n").egresses["t/y"]
    assert sink_configuration(yaml_spec)["sink.requests.max-buffered"] == "5000"


def test_max_buffered_property_decides_when_max_outstanding_is_left_at_its_default() -> None:
    """The rule the Beam writer follows (beam_transforms.settings.write_settings), so both engines agree."""
    builder = (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(AwsRegion.of("eu-west-1"))
               .with_client_configuration_property("sink.requests.max-buffered", 3))
    props = sink_configuration(builder.build())
    assert props["sink.requests.max-buffered"] == "3" and props["sink.batch.max-size"] == "2"
    assert sink_configuration(builder.with_max_outstanding_records(50).build())["sink.requests.max-buffered"] == "50"


def test_aggregating_the_batch_is_left_to_the_java_sink_unless_set() -> None:
    """Aggregating, a batch counts user records: the Java sink's default (half the buffer) may exceed 500."""
    builder = (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(AwsRegion.of("eu-west-1"))
               .with_max_outstanding_records(10_000).with_client_configuration_property("AggregationEnabled", "true"))
    props = sink_configuration(builder.build())
    assert props["sink.aggregation.enabled"] == "true" and props["sink.requests.max-buffered"] == "10000"
    assert "sink.batch.max-size" not in props
    props = sink_configuration(builder.with_client_configuration_property("sink.batch.max-size", 4000).build())
    assert props["sink.batch.max-size"] == "4000"


@pytest.mark.parametrize("key, value", [("source.efo.consumer.registration.timeout", "10 s"),
                                        ("ConnectTimeout", 1000), ("MaxErrorRetry", 3)])
def test_keys_pyflink_cannot_honour_warn_naming_key_and_engine(key: str, value: object) -> None:
    spec = ingress(**{key: value})
    with pytest.warns(ConfigWarning, match=f"'{key}' is ignored by the PyFlink connector"):
        props = source_configuration(spec)
    assert key not in props


def test_enhanced_fan_out_keys_reach_the_source_as_they_reach_beam() -> None:
    efo = {"source.reader.type": "EFO", "source.efo.consumer.name": "app", "source.efo.lifecycle": "SELF_MANAGED",
           "source.efo.subscription.timeout": "30 s"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        props = source_configuration(ingress(**efo))
    assert {k: props[k] for k in efo} == efo


def test_from_ingress_consumer_arguments_become_the_efo_keys() -> None:
    from pyflink_kinesis.flink.datastream import _fan_out

    props = source_configuration(ingress(**{"source.efo.consumer.name": "old"}))
    _fan_out(props, "my-app", "self-managed")
    assert (props["source.reader.type"], props["source.efo.consumer.name"], props["source.efo.lifecycle"]) == (
        "EFO", "my-app", "SELF_MANAGED")
    untouched = source_configuration(ingress())
    _fan_out(untouched, None, None)
    assert "source.reader.type" not in untouched


def test_from_ingress_consumer_arguments_are_checked_as_beams() -> None:
    with pytest.raises(ConfigError, match="consumer_name: expected 1 to 128 letters"):
        from_ingress(object(), ingress(), consumer_name="no spaces")
    with pytest.raises(ConfigError, match="consumer_lifecycle: expected 'self-managed' or 'job-managed'"):
        from_ingress(object(), ingress(), consumer_name="app", consumer_lifecycle="JOB")
    with pytest.raises(ConfigError, match="consumer_lifecycle: it needs consumer_name"):
        from_ingress(object(), ingress(), consumer_lifecycle="job-managed")


def test_sink_partitioner_warns_and_is_left_out() -> None:
    spec = (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(AwsRegion.of("eu-west-1"))
            .with_client_configuration_property("sink.partitioner", "random").build())
    with pytest.warns(ConfigWarning, match="'sink.partitioner' is ignored by the PyFlink connector: the serializer"):
        assert "sink.partitioner" not in sink_configuration(spec)


def test_wrong_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="on_deserialize_error: expected 'fail' or 'skip'"):
        from_ingress(object(), ingress(), on_deserialize_error="ignore")
    with pytest.raises(ConfigError, match="ingress_spec: expected a KinesisIngressSpec"):
        from_ingress(object(), "t/in")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="egress_spec: expected a KinesisEgressSpec"):
        to_egress(object(), ingress())  # type: ignore[arg-type]


def test_missing_jar_says_how_to_build_it(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr("pyflink_kinesis.flink.jar.JAR_DIR", tmp_path)
    with pytest.raises(ConnectorJarMissing, match="./dev test"):
        connector_jar("1.20.5")


@pytest.mark.parametrize("version, jar", [
    ("1.20.5", "pyflink-kinesis-connector-flink-1.20.jar"), ("1.20.0", "pyflink-kinesis-connector-flink-1.20.jar"),
    ("2.2.1", "pyflink-kinesis-connector-flink-2.x.jar"), ("2.3.0", "pyflink-kinesis-connector-flink-2.x.jar"),
])
def test_the_jar_is_the_one_built_for_the_flink_line(version: str, jar: str) -> None:
    assert connector_jar(version) == JAR_DIR / jar


@pytest.mark.parametrize("version", ["1.19.3", "2.0.2", "3.0.0", "latest"])
def test_a_flink_without_a_jar_is_refused_naming_the_lines_built(version: str) -> None:
    with pytest.raises(UnsupportedFlinkVersion, match=f"Flink '{version}': the connector is built for Flink 1.20, 2.1"):
        connector_jar(version)


def test_the_total_retry_time_keys_reach_the_connector_without_a_warning() -> None:
    egress = (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(AwsRegion.of("eu-west-1"))
              .with_client_configuration_property("sink.max-retry-time", "90 s").build())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        source = source_configuration(ingress(**{"source.max-retry-time": "2 min"}))
        sink = sink_configuration(egress)
    assert source["source.max-retry-time"] == "2 min" and sink["sink.max-retry-time"] == "90 s"


@pytest.mark.parametrize("version", ["1.20.0", "2.2.0"])
def test_the_connector_jar_carries_the_shared_error_codes_and_no_benchmark_code(version: str) -> None:
    """Each line's jar: its error list is pyflink_kinesis/spec/error_codes.txt byte for byte, the key registry and
    the SQL table factory's service file are in it; sink.ToStream (benchmarks only) lives in
    java/target/pyflink-kinesis-connector-flink-<line>-benchmark.jar, not in the jar users get."""
    import zipfile
    from pathlib import Path

    spec = Path(__file__).resolve().parents[1] / "pyflink_kinesis" / "spec"
    with zipfile.ZipFile(connector_jar(version)) as jar:
        names = jar.namelist()
        assert jar.read("io/github/pyflinkkinesis/aws/retry/error_codes.txt") == (spec / "error_codes.txt").read_bytes()
        assert jar.read("io/github/pyflinkkinesis/keys.json") == (spec / "keys.json").read_bytes()
        factories = jar.read("META-INF/services/org.apache.flink.table.factories.Factory").decode()
    assert "io.github.pyflinkkinesis.table.KinesisDynamicTableFactory" in factories
    assert "io/github/pyflinkkinesis/sink/KinesisSink.class" in names
    assert not [n for n in names if n.startswith("io/github/pyflinkkinesis/sink/ToStream")]
