"""The spec layer in code: the ingress and egress builders and the specs they build."""

from __future__ import annotations

import pytest

from pyflink_kinesis import (AwsCredentials, AwsRegion, ConfigError, EgressRecord, IngressRecord, KinesisEgressBuilder,
                             KinesisEgressSpec, KinesisIngressBuilder, KinesisIngressSpec, KinesisIngressStartupPosition,
                             Routing)

from tests.spec_support import WHEN

# --- KinesisIngressBuilder ----------------------------------------------------------------------


def test_ingress_builder_every_method() -> None:
    def parse(record: IngressRecord) -> str:
        return record.data.decode()

    builder = KinesisIngressBuilder.for_identifier("example/input-ingress")
    returned = [
        builder.with_aws_region(AwsRegion.of("us-west-1")),
        builder.with_aws_credentials(AwsCredentials.profile("p")),
        builder.with_deserializer(parse),
        builder.with_stream("stream-1"),
        builder.with_streams(["stream-2", "stream-3", "stream-1"]),
        builder.with_startup_position(KinesisIngressStartupPosition.from_earliest()),
        builder.with_client_configuration_property("SocketTimeout", 9999),
        builder.with_client_configuration_property("aws.http-client.max-concurrency", 8),
        builder.with_client_configuration_property("source.shard.discovery.interval", "1 min"),
        builder.with_routing("stream-4", "com.example/User", ["example/f1", "example/f2"]),
    ]
    assert all(r is builder for r in returned)  # fluent
    spec = builder.build()
    assert isinstance(spec, KinesisIngressSpec)
    assert spec.id == "example/input-ingress"
    assert spec.region == AwsRegion.of("us-west-1")
    assert spec.credentials == AwsCredentials.profile("p")
    assert spec.deserializer is parse
    assert spec.streams == ("stream-1", "stream-2", "stream-3", "stream-4")  # order kept, no duplicates
    assert spec.startup_position == KinesisIngressStartupPosition.from_earliest()
    assert spec.client_properties == (
        ("SocketTimeout", "9999"),
        ("aws.http-client.max-concurrency", "8"),
        ("source.shard.discovery.interval", "1 min"),
    )
    assert spec.routing == {"stream-4": Routing("com.example/User", ("example/f1", "example/f2"))}


def test_ingress_builder_defaults() -> None:
    spec = KinesisIngressBuilder.for_identifier("a/b").with_stream("s").build()
    assert spec.region == AwsRegion.from_default_provider_chain()
    assert spec.credentials == AwsCredentials.from_default_provider_chain()
    assert spec.startup_position == KinesisIngressStartupPosition.from_latest()
    assert spec.deserializer is None
    assert spec.client_properties == ()
    assert spec.routing == {}


def test_ingress_property_values_are_text() -> None:
    spec = (
        KinesisIngressBuilder.for_identifier("a/b")
        .with_stream("s")
        .with_client_configuration_properties({"aws.trust.all.certificates": True, "MaxConnections": 15, "aws.x": 1.5})
        .build()
    )
    assert dict(spec.client_properties) == {"aws.trust.all.certificates": "true", "MaxConnections": "15", "aws.x": "1.5"}


def test_later_property_value_wins() -> None:
    spec = (
        KinesisIngressBuilder.for_identifier("a/b").with_stream("s")
        .with_client_configuration_property("aws.x", "1").with_client_configuration_property("aws.x", "2").build()
    )
    assert spec.client_properties == (("aws.x", "2"),)


def test_ingress_needs_a_stream() -> None:
    with pytest.raises(ConfigError, match="at least one stream") as info:
        KinesisIngressBuilder.for_identifier("a/b").build()
    assert info.value.field == "streams"


@pytest.mark.parametrize("bad", ["", "a" * 129, "bad stream", "slash/name", "ümlaut", None, 7])
def test_bad_stream_names(bad: object) -> None:
    with pytest.raises(ConfigError, match="stream name") as info:
        KinesisIngressBuilder.for_identifier("a/b").with_stream(bad)  # type: ignore[arg-type]
    assert info.value.field == "stream"


def test_stream_name_limits_accepted() -> None:
    spec = KinesisIngressBuilder.for_identifier("a/b").with_stream("a" * 128).with_stream("A-z_0.9").build()
    assert spec.streams == ("a" * 128, "A-z_0.9")


def test_with_streams_rejects_a_single_string() -> None:
    with pytest.raises(ConfigError, match="use with_stream"):
        KinesisIngressBuilder.for_identifier("a/b").with_streams("stream-1")


@pytest.mark.parametrize("bad", ["", "noslash", "a/b/c", "/b", "a/", "a b/c", None, 3])
def test_bad_identifiers(bad: object) -> None:
    for builder in (KinesisIngressBuilder, KinesisEgressBuilder):
        with pytest.raises(ConfigError, match="namespace/name") as info:
            builder.for_identifier(bad)  # type: ignore[arg-type]
        assert info.value.field == "id"


@pytest.mark.parametrize(
    "method, value, field",
    [
        ("with_aws_region", "us-west-1", "aws_region"),
        ("with_aws_credentials", ("AKIA", "x"), "aws_credentials"),
        ("with_startup_position", "earliest", "startup_position"),
    ],
)
def test_builder_type_checks(method: str, value: object, field: str) -> None:
    builder = KinesisIngressBuilder.for_identifier("a/b")
    with pytest.raises(ConfigError, match="expected") as info:
        getattr(builder, method)(value)
    assert info.value.field == field


def test_routing_validation() -> None:
    b = KinesisIngressBuilder.for_identifier("a/b")
    with pytest.raises(ConfigError, match="at least one target") as info:
        b.with_routing("s", "t/u", [])
    assert info.value.field == "routing.s.targets"
    with pytest.raises(ConfigError, match="namespace/name") as info:
        b.with_routing("s", "t/u", ["nonamespace"])
    assert info.value.field == "routing.s.targets"
    with pytest.raises(ConfigError, match="type url") as info:
        b.with_routing("s", "", ["a/f"])
    assert info.value.field == "routing.s.type_url"
    with pytest.raises(ConfigError, match="stream name"):
        b.with_routing("bad stream", "t/u", ["a/f"])


def test_position_from_client_properties_when_not_named() -> None:
    def build(**props: str) -> KinesisIngressSpec:
        return (
            KinesisIngressBuilder.for_identifier("a/b").with_stream("s")
            .with_client_configuration_properties(props).build()
        )

    assert build().startup_position.kind == "latest"
    assert build(**{"source.init.position": "trim_horizon"}).startup_position.kind == "earliest"
    at = build(**{"source.init.position": "AT_TIMESTAMP", "source.init.timestamp": "2020-02-01T05:15:00+01:00"})
    assert at.startup_position.date == WHEN
    with pytest.raises(ConfigError, match="needs source.init.timestamp"):
        build(**{"source.init.position": "AT_TIMESTAMP"})
    with pytest.raises(ConfigError, match="not a date") as info:
        build(**{"source.init.position": "AT_TIMESTAMP", "source.init.timestamp": "yesterday"})
    assert info.value.field == "client_properties.source.init.timestamp"
    with pytest.raises(ConfigError, match="expected LATEST, TRIM_HORIZON or AT_TIMESTAMP"):
        build(**{"source.init.position": "OLDEST"})


def test_named_position_wins_over_property() -> None:
    spec = (
        KinesisIngressBuilder.for_identifier("a/b").with_stream("s")
        .with_client_configuration_property("source.init.position", "TRIM_HORIZON")
        .with_startup_position(KinesisIngressStartupPosition.from_latest()).build()
    )
    assert spec.startup_position.kind == "latest"


def test_specs_are_frozen_and_comparable() -> None:
    a = KinesisIngressBuilder.for_identifier("a/b").with_stream("s").build()
    b = KinesisIngressBuilder.for_identifier("a/b").with_stream("s").with_deserializer(lambda r: r).build()
    assert a == b  # the deserializer does not take part in equality
    with pytest.raises(AttributeError):
        a.streams = ("x",)  # type: ignore[misc]


# --- KinesisEgressBuilder -----------------------------------------------------------------------


def test_egress_builder_every_method() -> None:
    def ser(value: str) -> EgressRecord:
        return EgressRecord(value, "out", "pk")

    builder = KinesisEgressBuilder.for_identifier("example/output-egress")
    returned = [
        builder.with_aws_region(AwsRegion.of_custom_endpoint("https://localhost:4567", "us-west-1")),
        builder.with_aws_credentials(AwsCredentials.basic("AKIA", "SeCrEt-123")),
        builder.with_serializer(ser),
        builder.with_max_outstanding_records(100),
        builder.with_client_configuration_property("sink.flush-buffer.timeout", 2000),
    ]
    assert all(r is builder for r in returned)
    spec = builder.build()
    assert isinstance(spec, KinesisEgressSpec)
    assert spec.id == "example/output-egress"
    assert spec.region.endpoint == "https://localhost:4567"
    assert spec.credentials.access_key_id == "AKIA"
    assert spec.serializer is ser
    assert spec.max_outstanding_records == 100
    assert spec.client_properties == (("sink.flush-buffer.timeout", "2000"),)


def test_egress_defaults() -> None:
    spec = KinesisEgressBuilder.for_identifier("a/b").build()
    assert spec.max_outstanding_records == 1000
    assert spec.serializer is None
    assert spec.region.kind == "default" and spec.credentials.kind == "default"


@pytest.mark.parametrize("bad, fragment", [(0, "greater than 0"), (-5, "greater than 0"), (1.5, "whole number"),
                                            ("10", "whole number"), (True, "whole number"), (None, "whole number")])
def test_max_outstanding_records_rejected(bad: object, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as info:
        KinesisEgressBuilder.for_identifier("a/b").with_max_outstanding_records(bad)  # type: ignore[arg-type]
    assert info.value.field == "max_outstanding_records"


def test_max_outstanding_records_one_is_fine() -> None:
    assert KinesisEgressBuilder.for_identifier("a/b").with_max_outstanding_records(1).build().max_outstanding_records == 1
