"""The spec layer in code: builders, region, credentials, startup position, records, serde normalization."""

from __future__ import annotations

import pickle
import sys
import types
from datetime import datetime, timedelta, timezone

import pytest

from pyflink_kinesis import (
    AwsCredentials,
    AwsRegion,
    ConfigError,
    EgressRecord,
    IngressRecord,
    KinesisEgressBuilder,
    KinesisEgressSerializer,
    KinesisEgressSpec,
    KinesisIngressBuilder,
    KinesisIngressDeserializer,
    KinesisIngressSpec,
    KinesisIngressStartupPosition,
    Routing,
)

ROLE = "arn:aws:iam::123456789012:role/reader"
WHEN = datetime(2020, 2, 1, 4, 15, tzinfo=timezone.utc)


def _record(data: bytes = b"payload") -> IngressRecord:
    return IngressRecord(data, "stream-1", "shardId-000000000000", "pk", "4960", WHEN)


# --- AwsRegion ----------------------------------------------------------------------------------


def test_region_kinds() -> None:
    assert AwsRegion.from_default_provider_chain() == AwsRegion("default")
    specific = AwsRegion.of("us-west-1")
    assert (specific.kind, specific.region_id, specific.endpoint) == ("specific", "us-west-1", None)
    custom = AwsRegion.of_custom_endpoint("https://localhost:4567/", "us-west-1")
    assert (custom.kind, custom.region_id, custom.endpoint) == ("custom-endpoint", "us-west-1", "https://localhost:4567")
    assert AwsRegion.of_custom_endpoint("http://kinesis.internal:80", "eu-west-1").endpoint == "http://kinesis.internal:80"


@pytest.mark.parametrize(
    "endpoint, local",
    [
        ("http://localhost:4568", True),
        ("https://127.0.0.1:4567", True),
        ("http://[::1]:4568", True),
        ("https://kinesis.us-east-1.amazonaws.com", False),
        ("http://10.0.0.5:4568", False),
    ],
)
def test_region_is_local_only_for_loopback(endpoint: str, local: bool) -> None:
    assert AwsRegion.of_custom_endpoint(endpoint, "us-east-1").is_local is local
    assert AwsRegion.of("us-east-1").is_local is False


@pytest.mark.parametrize("bad", ["", "uswest1", "US-WEST-1", "us_west_1", None, 42])
def test_region_id_rejected(bad: object) -> None:
    with pytest.raises(ConfigError, match="us-west-1"):
        AwsRegion.of(bad)  # type: ignore[arg-type]


def test_region_id_typo_gets_did_you_mean() -> None:
    with pytest.raises(ConfigError, match="did you mean 'us-west-1'"):
        AwsRegion.of("uswest1")


@pytest.mark.parametrize(
    "endpoint, fragment",
    [
        ("localhost:4567", "the scheme is missing"),
        ("localhost", "the scheme is missing"),
        ("ftp://localhost:21", "not an endpoint URL"),
        ("https://", "not an endpoint URL"),
        ("http://localhost:notaport", "invalid port"),
        ("", "expected a URL"),
    ],
)
def test_custom_endpoint_rejected(endpoint: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as info:
        AwsRegion.of_custom_endpoint(endpoint, "us-east-1")
    assert "https://localhost:4567" in str(info.value)  # says what was expected


def test_custom_endpoint_checks_region_id_too() -> None:
    with pytest.raises(ConfigError, match="not an AWS region id"):
        AwsRegion.of_custom_endpoint("http://localhost:4568", "local")


def test_region_is_frozen() -> None:
    region = AwsRegion.of("us-west-1")
    with pytest.raises(AttributeError):
        region.region_id = "eu-west-1"  # type: ignore[misc]


# --- AwsCredentials -----------------------------------------------------------------------------


def test_credentials_kinds() -> None:
    assert AwsCredentials.from_default_provider_chain().kind == "default"

    basic = AwsCredentials.basic("AKIAEXAMPLE", "SeCrEt-123")
    assert (basic.kind, basic.access_key_id) == ("basic", "AKIAEXAMPLE")
    assert basic.secret_access_key is not None and basic.secret_access_key.reveal() == "SeCrEt-123"

    profile = AwsCredentials.profile("john-doe")
    assert (profile.kind, profile.profile_name, profile.profile_path) == ("profile", "john-doe", None)
    assert AwsCredentials.profile("john-doe", "/path/to/config").profile_path == "/path/to/config"

    role = AwsCredentials.assume_role(ROLE, "session", "ext-1", AwsCredentials.profile("base"))
    assert (role.kind, role.role_arn, role.role_session_name, role.external_id) == ("assume-role", ROLE, "session", "ext-1")
    assert role.source == AwsCredentials.profile("base")
    assert AwsCredentials.assume_role(ROLE, "session").source == AwsCredentials.from_default_provider_chain()

    web = AwsCredentials.web_identity(ROLE, "/var/run/token")
    assert (web.kind, web.role_arn, web.web_identity_token_file, web.role_session_name) == (
        "web-identity", ROLE, "/var/run/token", None)
    assert AwsCredentials.web_identity(ROLE, "/t", "pod-1").role_session_name == "pod-1"


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: AwsCredentials.basic("", "x"), "access_key_id"),
        (lambda: AwsCredentials.basic("AKIA", "  "), "secret_access_key"),
        (lambda: AwsCredentials.basic("AKIA", None), "secret_access_key"),
        (lambda: AwsCredentials.profile(""), "profile_name"),
        (lambda: AwsCredentials.profile("p", ""), "profile_path"),
        (lambda: AwsCredentials.assume_role("not-an-arn", "s"), "role_arn"),
        (lambda: AwsCredentials.assume_role("arn:aws:iam::1:user/bob", "s"), "role_arn"),
        (lambda: AwsCredentials.assume_role(ROLE, ""), "role_session_name"),
        (lambda: AwsCredentials.assume_role(ROLE, "r"), "role_session_name"),  # STS wants 2 to 64 characters
        (lambda: AwsCredentials.assume_role(ROLE, "s" * 65), "role_session_name"),
        (lambda: AwsCredentials.assume_role(ROLE, "my session"), "role_session_name"),
        (lambda: AwsCredentials.web_identity(ROLE, "/t", "bad/name"), "role_session_name"),
        (lambda: AwsCredentials.assume_role(ROLE, "ss", ""), "external_id"),
        (lambda: AwsCredentials.web_identity(ROLE, ""), "web_identity_token_file"),
        (lambda: AwsCredentials.web_identity("arn:nope", "/t"), "role_arn"),
    ],
)
def test_credentials_rejected(make, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    "source", [AwsCredentials.assume_role(ROLE, "inner"), AwsCredentials.web_identity(ROLE, "/t")]
)
def test_assume_role_source_cannot_be_a_role(source: AwsCredentials) -> None:
    with pytest.raises(ConfigError, match="default, basic or profile") as info:
        AwsCredentials.assume_role(ROLE, "outer", source=source)
    assert info.value.field == "source"


def test_secret_pickles_with_its_value() -> None:
    creds = AwsCredentials.basic("AKIA", "SeCrEt-123")
    again = pickle.loads(pickle.dumps(creds))
    assert again == creds
    assert again.secret_access_key.reveal() == "SeCrEt-123"  # type: ignore[union-attr]


# --- KinesisIngressStartupPosition --------------------------------------------------------------


def test_startup_positions() -> None:
    assert KinesisIngressStartupPosition.from_latest().iterator_type == "LATEST"
    assert KinesisIngressStartupPosition.from_earliest().iterator_type == "TRIM_HORIZON"
    at = KinesisIngressStartupPosition.from_date(WHEN)
    assert (at.kind, at.date, at.iterator_type) == ("date", WHEN, "AT_TIMESTAMP")


def test_startup_position_naive_date_rejected() -> None:
    with pytest.raises(ConfigError, match="no time zone"):
        KinesisIngressStartupPosition.from_date(datetime(2020, 2, 1, 4, 15))


def test_startup_position_date_must_be_datetime() -> None:
    with pytest.raises(ConfigError, match="timezone-aware datetime") as info:
        KinesisIngressStartupPosition.from_date("2020-02-01")  # type: ignore[arg-type]
    assert info.value.field == "date"


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


# --- Serde normalization ------------------------------------------------------------------------


class UpperDeserializer(KinesisIngressDeserializer[str]):
    def deserialize(self, record: IngressRecord) -> str:
        return record.data.decode().upper()


class SkipDeserializer(KinesisIngressDeserializer[str]):
    def deserialize(self, record: IngressRecord) -> None:
        return None


class ToStream(KinesisEgressSerializer[str]):
    def __init__(self, stream: str = "out") -> None:
        self.stream = stream

    def serialize(self, value: str) -> EgressRecord:
        return EgressRecord(value, self.stream, "pk")


class NeedsArgs(KinesisIngressDeserializer[str]):
    def __init__(self, required: str) -> None:
        self.required = required

    def deserialize(self, record: IngressRecord) -> str:
        return self.required


@pytest.fixture
def serde_module(monkeypatch: pytest.MonkeyPatch) -> str:
    module = types.ModuleType("serde_under_test")
    module.UpperDeserializer = UpperDeserializer  # type: ignore[attr-defined]
    module.ToStream = ToStream  # type: ignore[attr-defined]
    module.upper = lambda record: record.data.upper()  # type: ignore[attr-defined]
    module.nested = types.SimpleNamespace(fn=lambda record: b"nested")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "serde_under_test", module)
    return "serde_under_test"


def _deser(value: object):
    return KinesisIngressBuilder.for_identifier("a/b").with_stream("s").with_deserializer(value).build().deserializer


def _ser(value: object):
    return KinesisEgressBuilder.for_identifier("a/b").with_serializer(value).build().serializer


def test_deserializer_class_instance_callable(serde_module: str) -> None:
    record = _record(b"abc")
    assert _deser(UpperDeserializer)(record) == "ABC"  # class: instantiated with no arguments
    assert _deser(UpperDeserializer())(record) == "ABC"  # instance: its deserialize()
    assert _deser(lambda r: len(r.data))(record) == 3  # plain callable
    assert _deser(SkipDeserializer)(record) is None  # None means skip
    assert _deser(f"{serde_module}:upper")(record) == b"ABC"  # import path with colon
    assert _deser(f"{serde_module}.upper")(record) == b"ABC"  # dotted import path
    assert _deser(f"{serde_module}:UpperDeserializer")(record) == "ABC"  # path to a class
    assert _deser(f"{serde_module}:nested.fn")(record) == b"nested"  # attribute chain
    assert _deser(None) is None


def test_serializer_class_instance_callable(serde_module: str) -> None:
    assert _ser(ToStream)("v") == EgressRecord(b"v", "out", "pk")
    assert _ser(ToStream("other"))("v").stream == "other"
    assert _ser(lambda v: None)("v") is None
    assert _ser(f"{serde_module}:ToStream")("v").data == b"v"


@pytest.mark.parametrize(
    "bad, fragment",
    [
        (42, "expected a deserialize() object"),
        (object(), "expected a deserialize() object"),
        ("nosuchmodule_xyz:thing", "cannot import 'nosuchmodule_xyz:thing'"),
        ("json:no_such_attribute", "cannot import 'json:no_such_attribute'"),
        ("justaname", "expected an import path"),
        (NeedsArgs, "cannot instantiate NeedsArgs with no arguments"),
    ],
)
def test_bad_deserializers(bad: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        _deser(bad)
    assert fragment in str(info.value)
    assert info.value.field == "deserializer"


def test_bad_serializer_names_its_field() -> None:
    with pytest.raises(ConfigError, match="expected a serialize\\(\\) object") as info:
        _ser(3.14)
    assert info.value.field == "serializer"


# --- Records ------------------------------------------------------------------------------------


def test_ingress_record_java_getters() -> None:
    record = _record()
    assert record.get_data() == b"payload"
    assert record.get_stream() == "stream-1"
    assert record.get_shard_id() == "shardId-000000000000"
    assert record.get_partition_key() == "pk"
    assert record.get_sequence_number() == "4960"
    assert record.get_approximate_arrival_timestamp() == WHEN
    assert record.sub_sequence_number is None


def test_egress_record_normalizes_data() -> None:
    assert EgressRecord("héllo", "s", "pk").data == "héllo".encode("utf-8")
    assert EgressRecord(bytearray(b"ab"), "s", "pk").data == b"ab"
    assert EgressRecord(memoryview(b"cd"), "s", "pk").data == b"cd"
    assert EgressRecord(b"x", "s", "pk", str(2**128 - 1)).explicit_hash_key == str(2**128 - 1)
    assert EgressRecord(b"abc", "s", "pké").size == 3 + len("pké".encode("utf-8"))


@pytest.mark.parametrize(
    "args, field",
    [
        ((123, "s", "pk"), "EgressRecord.data"),
        ((b"x", "", "pk"), "EgressRecord.stream"),
        ((b"x", None, "pk"), "EgressRecord.stream"),
        ((b"x", "s", ""), "EgressRecord.partition_key"),
        ((b"x", "s", "k" * 257), "EgressRecord.partition_key"),
        ((b"x", "s", "pk", "12ab"), "EgressRecord.explicit_hash_key"),
        ((b"x", "s", "pk", str(2**128)), "EgressRecord.explicit_hash_key"),
        ((b"x", "s", "pk", 5), "EgressRecord.explicit_hash_key"),
    ],
)
def test_egress_record_rejected(args: tuple, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        EgressRecord(*args)
    assert info.value.field == field


def test_egress_record_partition_key_limit_accepted() -> None:
    assert len(EgressRecord(b"x", "s", "k" * 256).partition_key) == 256


def test_egress_record_builder() -> None:
    builder = EgressRecord.new_builder()
    assert builder.with_data(b"d") is builder
    assert builder.with_stream("s") is builder
    assert builder.with_partition_key("pk") is builder
    assert builder.with_explicit_hash_key("42") is builder
    assert builder.build() == EgressRecord(b"d", "s", "pk", "42")
    assert EgressRecord.new_builder().with_data("t").with_stream("s").with_partition_key("p").build().explicit_hash_key is None


@pytest.mark.parametrize("missing", ["data", "stream", "partition_key"])
def test_egress_record_builder_missing_field(missing: str) -> None:
    builder = EgressRecord.new_builder()
    for name, value in (("data", b"d"), ("stream", "s"), ("partition_key", "pk")):
        if name != missing:
            getattr(builder, f"with_{name}")(value)
    with pytest.raises(ConfigError, match="is required") as info:
        builder.build()
    assert info.value.field == f"EgressRecord.{missing}"


def test_egress_record_builder_validates() -> None:
    with pytest.raises(ConfigError) as info:
        EgressRecord.new_builder().with_data(b"d").with_stream("s").with_partition_key("p").with_explicit_hash_key("-1").build()
    assert info.value.field == "EgressRecord.explicit_hash_key"


def test_date_offsets_compare_as_instants() -> None:
    plus_one = KinesisIngressStartupPosition.from_date(WHEN.astimezone(timezone(timedelta(hours=1))))
    assert plus_one.date == WHEN
