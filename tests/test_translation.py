"""Translation of specs into the Flink source/sink keys, Flink SQL options, boto3 and botocore arguments.

No network: an autouse fixture makes any HTTP send fail, and STS is answered by botocore's Stubber.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import botocore.httpsession
import botocore.session
import pytest
from botocore.stub import Stubber

from pyflink_kinesis import (
    AwsCredentials,
    AwsRegion,
    ConfigError,
    ConfigWarning,
    KinesisEgressBuilder,
    KinesisEgressSpec,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    KinesisIngressStartupPosition,
    load_module,
)

ROLE = "arn:aws:iam::123456789012:role/reader"
P = "aws.credentials.provider"


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No region from the environment unless a test sets one; no HTTP request leaves the process."""
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)

    def no_network(self: Any, request: Any) -> Any:
        raise AssertionError(f"a test tried to reach {request.url}")

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", no_network)


def ingress(**kw: Any) -> KinesisIngressSpec:
    b = KinesisIngressBuilder.for_identifier("ex/in").with_stream("s")
    b.with_aws_region(kw.pop("region", AwsRegion.of("us-west-1")))
    if "credentials" in kw:
        b.with_aws_credentials(kw.pop("credentials"))
    if "position" in kw:
        b.with_startup_position(kw.pop("position"))
    b.with_client_configuration_properties(kw.pop("props", {}))
    assert not kw
    return b.build()


def egress(**kw: Any) -> KinesisEgressSpec:
    b = KinesisEgressBuilder.for_identifier("ex/out")
    b.with_aws_region(kw.pop("region", AwsRegion.of("us-west-1")))
    if "credentials" in kw:
        b.with_aws_credentials(kw.pop("credentials"))
    if "limit" in kw:
        b.with_max_outstanding_records(kw.pop("limit"))
    b.with_client_configuration_properties(kw.pop("props", {}))
    assert not kw
    return b.build()


# --- Flink source and sink properties -----------------------------------------------------------


def test_source_properties_minimal() -> None:
    assert ingress().source_properties() == {
        "aws.region": "us-west-1",
        P: "AUTO",
        "source.init.position": "LATEST",
    }


@pytest.mark.parametrize(
    "position, expected",
    [
        (KinesisIngressStartupPosition.from_latest(), {"source.init.position": "LATEST"}),
        (KinesisIngressStartupPosition.from_earliest(), {"source.init.position": "TRIM_HORIZON"}),
        (
            KinesisIngressStartupPosition.from_date(datetime(2020, 2, 1, 4, 15, tzinfo=timezone.utc)),
            {
                "source.init.position": "AT_TIMESTAMP",
                "source.init.timestamp": "2020-02-01T04:15:00.000Z",
                "source.init.timestamp.format": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
            },
        ),
    ],
)
def test_source_position_keys(position: KinesisIngressStartupPosition, expected: dict[str, str]) -> None:
    props = ingress(position=position).source_properties()
    assert {k: v for k, v in props.items() if k.startswith("source.init.")} == expected


def test_named_position_replaces_stale_timestamp_properties() -> None:
    props = ingress(
        position=KinesisIngressStartupPosition.from_earliest(),
        props={"source.init.position": "AT_TIMESTAMP", "source.init.timestamp": "2019-01-01T00:00:00Z",
               "source.init.timestamp.format": "yyyy"},
    ).source_properties()
    assert props["source.init.position"] == "TRIM_HORIZON"
    assert "source.init.timestamp" not in props and "source.init.timestamp.format" not in props


CREDENTIAL_CASES = [
    (AwsCredentials.from_default_provider_chain(), {P: "AUTO"}),
    (AwsCredentials.basic("AKIAEXAMPLE", "SeCrEt-123"),
     {P: "BASIC", f"{P}.basic.accesskeyid": "AKIAEXAMPLE", f"{P}.basic.secretkey": "SeCrEt-123"}),
    (AwsCredentials.profile("john-doe"), {P: "PROFILE", f"{P}.profile.name": "john-doe"}),
    (AwsCredentials.profile("john-doe", "/etc/aws/credentials"),
     {P: "PROFILE", f"{P}.profile.name": "john-doe", f"{P}.profile.path": "/etc/aws/credentials"}),
    (AwsCredentials.assume_role(ROLE, "reader"),
     {P: "ASSUME_ROLE", f"{P}.role.arn": ROLE, f"{P}.role.sessionName": "reader", f"{P}.role.provider": "AUTO"}),
    (AwsCredentials.assume_role(ROLE, "reader", "ext-1", AwsCredentials.basic("AKIASOURCE", "SeCrEt-123")),
     {P: "ASSUME_ROLE", f"{P}.role.arn": ROLE, f"{P}.role.sessionName": "reader", f"{P}.role.externalId": "ext-1",
      f"{P}.role.provider": "BASIC", f"{P}.role.provider.basic.accesskeyid": "AKIASOURCE",
      f"{P}.role.provider.basic.secretkey": "SeCrEt-123"}),
    (AwsCredentials.assume_role(ROLE, "reader", source=AwsCredentials.profile("base", "/p")),
     {P: "ASSUME_ROLE", f"{P}.role.arn": ROLE, f"{P}.role.sessionName": "reader", f"{P}.role.provider": "PROFILE",
      f"{P}.role.provider.profile.name": "base", f"{P}.role.provider.profile.path": "/p"}),
    (AwsCredentials.web_identity(ROLE, "/var/run/token"),
     {P: "WEB_IDENTITY_TOKEN", f"{P}.role.arn": ROLE, f"{P}.webIdentityToken.file": "/var/run/token"}),
    (AwsCredentials.web_identity(ROLE, "/var/run/token", "pod"),
     {P: "WEB_IDENTITY_TOKEN", f"{P}.role.arn": ROLE, f"{P}.webIdentityToken.file": "/var/run/token",
      f"{P}.role.sessionName": "pod"}),
]


@pytest.mark.parametrize("credentials, expected", CREDENTIAL_CASES)
def test_credential_keys(credentials: AwsCredentials, expected: dict[str, str]) -> None:
    for props in (ingress(credentials=credentials).source_properties(), egress(credentials=credentials).sink_properties()):
        assert {k: v for k, v in props.items() if k.startswith(P)} == expected


@pytest.mark.parametrize("credentials, expected", CREDENTIAL_CASES)
def test_sql_drops_provider_from_credential_sub_keys(credentials: AwsCredentials, expected: dict[str, str]) -> None:
    sql_expected = {("aws.credentials." + k[len(P) + 1:] if k.startswith(P + ".") else k): v for k, v in expected.items()}
    for options in (ingress(credentials=credentials).sql_options("arn:s"), egress(credentials=credentials).sql_options("arn:s")):
        assert {k: v for k, v in options.items() if k.startswith("aws.credentials")} == sql_expected
        assert options[P] == expected[P]  # the provider key itself keeps its name


def test_credentials_read_back_from_properties() -> None:
    """boto3 sees exactly the credentials the Flink connector gets (one translation for every engine)."""
    for credentials, _ in CREDENTIAL_CASES:
        got = egress(credentials=credentials).boto3_arguments()["credentials"]
        if credentials.kind == "assume-role":
            assert (got.kind, got.role_arn, got.role_session_name, got.external_id, got.source) == (
                "assume-role", credentials.role_arn, credentials.role_session_name, credentials.external_id,
                credentials.source)
        else:
            assert got == credentials


def test_region_keys() -> None:
    assert ingress(region=AwsRegion.of("eu-central-1")).source_properties()["aws.region"] == "eu-central-1"
    props = egress(region=AwsRegion.of_custom_endpoint("https://kinesis.example.com:8443", "eu-west-1")).sink_properties()
    assert props["aws.region"] == "eu-west-1"
    assert props["aws.endpoint"] == "https://kinesis.example.com:8443"
    assert "aws.trust.all.certificates" not in props and "aws.http.protocol.version" not in props


@pytest.mark.parametrize("endpoint", ["http://localhost:4568", "https://127.0.0.1:4567", "http://[::1]:4568"])
def test_local_endpoint_defaults(endpoint: str) -> None:
    spec = egress(region=AwsRegion.of_custom_endpoint(endpoint, "us-east-1"))
    props = spec.sink_properties()
    assert props["aws.endpoint"] == endpoint
    assert props["aws.trust.all.certificates"] == "true"
    assert props["aws.http.protocol.version"] == "HTTP1_1"
    client = spec.boto3_arguments()["client"]
    assert client["endpoint_url"] == endpoint and client["verify"] is False


def test_local_defaults_can_be_overridden_by_properties() -> None:
    props = egress(
        region=AwsRegion.of_custom_endpoint("http://localhost:4568", "us-east-1"),
        props={"aws.http.protocol.version": "HTTP2"},
    ).sink_properties()
    assert props["aws.http.protocol.version"] == "HTTP2"


def test_named_settings_override_properties() -> None:
    spec = ingress(
        region=AwsRegion.of("eu-central-1"),
        credentials=AwsCredentials.basic("AKIANAMED", "SeCrEt-123"),
        position=KinesisIngressStartupPosition.from_earliest(),
        props={
            "aws.region": "us-west-2",
            "aws.endpoint": "https://stale:443",
            P: "PROFILE",
            f"{P}.profile.name": "stale",
            "source.init.position": "LATEST",
        },
    )
    props = spec.source_properties()
    assert props["aws.region"] == "eu-central-1"
    assert "aws.endpoint" not in props  # a specific region means the standard endpoint
    assert props[P] == "BASIC" and f"{P}.profile.name" not in props
    assert props[f"{P}.basic.accesskeyid"] == "AKIANAMED"
    assert props["source.init.position"] == "TRIM_HORIZON"


def test_custom_endpoint_overrides_endpoint_property() -> None:
    props = egress(
        region=AwsRegion.of_custom_endpoint("http://localhost:4568", "us-east-1"),
        props={"aws.endpoint": "https://elsewhere", "aws.region": "us-west-2"},
    ).sink_properties()
    assert (props["aws.endpoint"], props["aws.region"]) == ("http://localhost:4568", "us-east-1")


def test_properties_fill_in_unset_named_settings() -> None:
    spec = (
        KinesisEgressBuilder.for_identifier("ex/out")
        .with_client_configuration_property("aws.region", "ap-south-1")
        .with_client_configuration_property(P, "PROFILE")
        .with_client_configuration_property(f"{P}.profile.name", "from-props")
        .build()
    )
    props = spec.sink_properties()
    assert props["aws.region"] == "ap-south-1"
    assert props[P] == "PROFILE" and props[f"{P}.profile.name"] == "from-props"
    assert spec.boto3_arguments()["credentials"] == AwsCredentials.profile("from-props")


def test_passthrough_prefixes() -> None:
    props = ingress(props={"aws.http-client.read-timeout": 1, "source.reader.type": "EFO",
                           "source.efo.consumer.name": "c", "sink.fail-on-error": "true",
                           "aws.x": "y"}).source_properties()
    assert props["aws.http-client.read-timeout"] == "1"
    assert props["source.reader.type"] == "EFO"
    assert props["source.efo.consumer.name"] == "c"
    assert props["sink.fail-on-error"] == "true"
    assert props["aws.x"] == "y"  # the official connector has more aws.* keys than the registry


def test_unknown_source_or_sink_key_is_an_error_with_did_you_mean() -> None:
    """Keys of the registry only: a sink.* key the jar lacks would pass here and be refused by the jar."""
    with pytest.raises(ConfigError, match="did you mean 'sink.requests.max-inflight'") as info:
        egress(props={"sink.request.max-inflight": 2})
    assert info.value.field == "client_properties.sink.request.max-inflight"
    with pytest.raises(ConfigError, match="unknown client property 'sink.request.max-record-size'"):
        egress(props={"sink.request.max-record-size": 1024})
    with pytest.raises(ConfigError, match="source.shard.discovery.interval"):
        ingress(props={"source.shard.discovery-interval": "1 s"})


@pytest.mark.parametrize(
    "key, value, flink, botocore",
    [
        ("SocketTimeout", 9999, {"aws.http-client.read-timeout": "9999"}, {"read_timeout": 9.999}),
        ("RequestTimeout", 5000, {"aws.http-client.read-timeout": "5000"}, {"read_timeout": 5.0}),
        ("MaxConnections", 15, {"aws.http-client.max-concurrency": "15"}, {"max_pool_connections": 15}),
        ("ConnectionTimeout", 2000, {}, {"connect_timeout": 2.0}),
        ("ConnectTimeout", 1500, {}, {"connect_timeout": 1.5}),
        ("MaxErrorRetry", 3, {}, {"retries": {"total_max_attempts": 4, "mode": "standard"}}),
        ("TcpKeepAlive", True, {}, {"tcp_keepalive": True}),
        ("UseTcpKeepAlive", "false", {}, {"tcp_keepalive": False}),
        ("RecordMaxBufferedTime", 100, {"sink.flush-buffer.timeout": "100"}, {}),
        ("CollectionMaxCount", 250, {"sink.batch.max-size": "250"}, {}),
    ],
)
def test_sdk_v1_names(key: str, value: Any, flink: dict[str, str], botocore: dict[str, Any]) -> None:
    spec = egress(props={key: value})
    props = spec.sink_properties()
    assert {k: v for k, v in props.items() if k not in ("aws.region", P)} == flink
    assert key not in props  # v1 names never reach the connector
    assert spec.botocore_config() == botocore
    assert spec.boto3_arguments()["client"]["config"] == botocore


def test_v1_names_and_flink_keys_together_make_a_botocore_config() -> None:
    spec = ingress(props={"SocketTimeout": 9999, "MaxConnections": 15, "ConnectionTimeout": 2000, "MaxErrorRetry": 2})
    config = spec.botocore_config()
    assert config == {"read_timeout": 9.999, "max_pool_connections": 15, "connect_timeout": 2.0,
                      "retries": {"total_max_attempts": 3, "mode": "standard"}}
    client = spec.create_client()
    assert client.meta.config.read_timeout == 9.999
    assert client.meta.config.connect_timeout == 2.0
    assert client.meta.config.max_pool_connections == 15
    assert client.meta.config.retries["total_max_attempts"] == 3
    assert client.meta.region_name == "us-west-1"


@pytest.mark.parametrize("key", ["ThreadingModel", "ThreadPoolSize", "AggregationEnabled", "ProxyPassword", "RecordTtl"])
def test_known_v1_or_kpl_names_without_equivalent_warn(key: str) -> None:
    with pytest.warns(ConfigWarning, match=f"client_properties.{key}: .*no equivalent") as caught:
        spec = egress(props={key: "x"})
    assert caught[0].filename == __file__  # points at the caller, through with_client_configuration_properties
    with pytest.warns(ConfigWarning) as direct:
        KinesisEgressBuilder.for_identifier("ex/out").with_client_configuration_property(key, "x")
    assert direct[0].filename == __file__
    props = spec.sink_properties()
    assert key not in props and not any(v == "x" for v in props.values())
    assert spec.botocore_config() == {}


def test_mapped_v1_names_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        egress(props={"SocketTimeout": 1, "MaxConnections": 2, "aws.x": "y"})


@pytest.mark.parametrize(
    "key, suggestion",
    [("SocketTimout", "SocketTimeout"), ("maxConnections", "MaxConnections"), ("ThreadingModle", "ThreadingModel")],
)
def test_unknown_property_did_you_mean(key: str, suggestion: str) -> None:
    with pytest.raises(ConfigError, match=f"did you mean '{suggestion}'") as info:
        egress(props={key: 1})
    assert info.value.field == f"client_properties.{key}"
    assert "'aws.', 'source.' or 'sink.'" in str(info.value)


@pytest.mark.parametrize(
    "key, value, fragment",
    [("SocketTimeout", "fast", "non-negative number"), ("MaxConnections", -1, "non-negative number"),
     ("aws.x", None, "text or number"), ("aws.x", [1], "text or number"), ("", 1, "property name"),
     ("totally-unknown", 1, "unknown client property")],
)
def test_bad_property_values(key: str, value: Any, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        egress(props={key: value})


# --- SQL options --------------------------------------------------------------------------------


def test_ingress_sql_options() -> None:
    options = ingress(
        credentials=AwsCredentials.basic("AKIA", "SeCrEt-123"),
        position=KinesisIngressStartupPosition.from_earliest(),
        props={"source.reader.type": "EFO"},
    ).sql_options("arn:aws:kinesis:us-west-1:123456789012:stream/s", "json", connector="kinesis")
    assert options == {
        "connector": "kinesis",
        "stream.arn": "arn:aws:kinesis:us-west-1:123456789012:stream/s",
        "format": "json",
        "aws.region": "us-west-1",
        P: "BASIC",
        "aws.credentials.basic.accesskeyid": "AKIA",
        "aws.credentials.basic.secretkey": "SeCrEt-123",
        "source.reader.type": "EFO",
        "source.init.position": "TRIM_HORIZON",
    }


def test_sql_options_default_to_our_connector_and_the_ingress_stream_name() -> None:
    options = ingress().sql_options(format="json")
    assert options["connector"] == "pyflink-kinesis"
    assert options["stream"] == ingress().streams[0] and "stream.arn" not in options
    assert egress().sql_options(stream="out")["stream"] == "out"
    assert "stream" not in egress().sql_options()  # rows may name their stream in a metadata column


@pytest.mark.parametrize("call, fragment", [
    (lambda: ingress().sql_options(connector="kinesis"), "needs a stream ARN"),
    (lambda: egress().sql_options(connector="kinesis"), "needs a stream ARN"),
    (lambda: egress().sql_options("arn:s", connector="kafka"), "expected 'pyflink-kinesis' or 'kinesis'"),
    (lambda: egress().sql_options(stream="no spaces"), "expected a stream name"),
])
def test_sql_options_errors(call: Any, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        call()


def test_sql_format_defaults_to_raw() -> None:
    assert ingress().sql_options("arn:s")["format"] == "raw"
    assert egress().sql_options("arn:s")["format"] == "raw"


@pytest.mark.parametrize(
    "limit, batch, buffered",
    [(1000, "500", "1000"), (9999, "500", "9999"), (100, "99", "100"), (2, "1", "2"), (1, "1", "2")],
)
def test_egress_sql_max_outstanding_records(limit: int, batch: str, buffered: str) -> None:
    options = egress(limit=limit).sql_options("arn:s")
    assert options["sink.requests.max-buffered"] == buffered
    assert options["sink.batch.max-size"] == batch
    assert int(options["sink.requests.max-buffered"]) > int(options["sink.batch.max-size"])  # Flink requires it


def test_egress_sql_batch_from_properties_is_capped() -> None:
    assert egress(limit=1000, props={"CollectionMaxCount": 200}).sql_options("arn:s")["sink.batch.max-size"] == "200"
    assert egress(limit=50, props={"sink.batch.max-size": 400}).sql_options("arn:s")["sink.batch.max-size"] == "49"


def test_egress_sink_properties_has_no_sql_only_keys() -> None:
    props = egress(limit=10).sink_properties()
    assert "sink.requests.max-buffered" not in props and "connector" not in props


# --- Default region -----------------------------------------------------------------------------


def test_default_region_from_aws_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    spec = KinesisEgressBuilder.for_identifier("ex/out").build()
    assert spec.sink_properties()["aws.region"] == "eu-north-1"
    assert spec.boto3_arguments()["client"]["region_name"] == "eu-north-1"


def test_default_region_from_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert KinesisEgressBuilder.for_identifier("ex/out").build().sink_properties()["aws.region"] == "ap-southeast-2"


def test_aws_region_wins_over_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert KinesisEgressBuilder.for_identifier("ex/out").build().sink_properties()["aws.region"] == "eu-north-1"


def test_default_region_from_config_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = sa-east-1\n\n[profile other]\nregion = ca-central-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    spec = KinesisIngressBuilder.for_identifier("ex/in").with_stream("s").build()
    assert spec.source_properties()["aws.region"] == "sa-east-1"
    monkeypatch.setenv("AWS_PROFILE", "other")
    assert spec.source_properties()["aws.region"] == "ca-central-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")  # the environment wins over the profile, as in boto3
    assert spec.source_properties()["aws.region"] == "us-east-2"


def test_no_default_region_is_an_error_saying_how_to_set_one() -> None:
    spec = KinesisIngressBuilder.for_identifier("ex/in").with_stream("s").build()
    for translate in (spec.source_properties, lambda: spec.sql_options("arn:s"), spec.boto3_arguments,
                      spec.botocore_config, spec.create_client):
        with pytest.raises(ConfigError) as info:
            translate()
        message = str(info.value)
        assert info.value.field == "awsRegion"
        assert "AWS_REGION" in message and "AWS_DEFAULT_REGION" in message
        assert "~/.aws/config" in message and "AwsRegion.of(" in message


def test_region_property_avoids_default_resolution() -> None:
    props = KinesisEgressBuilder.for_identifier("ex/out").with_client_configuration_property(
        "aws.region", "us-east-1").build().sink_properties()
    assert props["aws.region"] == "us-east-1"


# --- boto3 sessions and clients -----------------------------------------------------------------


def test_boto3_arguments_shape() -> None:
    spec = egress(region=AwsRegion.of_custom_endpoint("https://kinesis.example.com", "eu-west-1"),
                  credentials=AwsCredentials.basic("AKIA", "SeCrEt-123"), props={"SocketTimeout": 1000})
    args = spec.boto3_arguments()
    assert args["client"] == {"service_name": "kinesis", "region_name": "eu-west-1",
                              "endpoint_url": "https://kinesis.example.com", "config": {"read_timeout": 1.0}}
    assert args["credentials"] == AwsCredentials.basic("AKIA", "SeCrEt-123")
    assert "SeCrEt-123" not in repr(args)


def test_create_client_basic() -> None:
    spec = egress(region=AwsRegion.of_custom_endpoint("http://localhost:4568", "us-east-1"),
                  credentials=AwsCredentials.basic("AKIAEXAMPLE", "SeCrEt-123"))
    client = spec.create_client()
    assert client.meta.service_model.service_name == "kinesis"
    assert client.meta.endpoint_url == "http://localhost:4568"
    assert client.meta.region_name == "us-east-1"
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key) == ("AKIAEXAMPLE", "SeCrEt-123")


def test_create_client_with_a_given_session() -> None:
    import boto3

    session = boto3.Session(aws_access_key_id="AKIAGIVEN", aws_secret_access_key="given", region_name="us-east-1")
    client = egress(credentials=AwsCredentials.basic("AKIAOTHER", "SeCrEt-123")).create_client(session=session)
    assert client._request_signer._credentials.get_frozen_credentials().access_key == "AKIAGIVEN"
    assert client.meta.region_name == "us-west-1"  # the spec's region still applies


def test_create_client_rejects_bad_botocore_setting() -> None:
    spec = KinesisEgressSpec(
        id="ex/out", region=AwsRegion.of("us-east-1"), credentials=AwsCredentials.from_default_provider_chain(),
        client_properties=(("MaxConnections", "1"),),
    )
    spec_config = spec.botocore_config()
    assert spec_config == {"max_pool_connections": 1}
    from pyflink_kinesis.spec.boto import create_client

    with pytest.raises(ConfigError, match="invalid botocore setting"):
        create_client(spec.aws_properties(), {"no_such_option": 1})


def test_profile_session_reads_profile_path(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[john-doe]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = SeCrEt-123\n")
    client = egress(credentials=AwsCredentials.profile("john-doe", str(credentials))).create_client()
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key) == ("AKIAPROFILE", "SeCrEt-123")


def test_profile_missing_from_file_fails_clearly(tmp_path: Path) -> None:
    import botocore.exceptions

    credentials = tmp_path / "credentials"
    credentials.write_text("[someone-else]\naws_access_key_id = A\naws_secret_access_key = B\n")
    with pytest.raises(botocore.exceptions.ProfileNotFound, match="john-doe"):
        egress(credentials=AwsCredentials.profile("john-doe", str(credentials))).create_client()


class StsStub:
    """Intercepts every STS client botocore creates, answers from a queue, and records how it was made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.responses: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.created: list[dict[str, Any]] = []
        self.stubbers: list[Stubber] = []
        original = botocore.session.Session.create_client

        def create_client(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            client = original(session, service_name, *args, **kwargs)
            if service_name == "sts":
                self.created.append({"region": client.meta.region_name, **kwargs})
                stubber = Stubber(client)
                for operation, response, expected in self.responses:
                    stubber.add_response(operation, response, expected)
                stubber.activate()
                self.stubbers.append(stubber)
            return client

        monkeypatch.setattr(botocore.session.Session, "create_client", create_client)

    @staticmethod
    def credentials(access_key: str) -> dict[str, Any]:
        return {
            "Credentials": {
                "AccessKeyId": access_key,
                "SecretAccessKey": "role-secret",
                "SessionToken": "role-token",
                "Expiration": datetime.now(timezone.utc) + timedelta(hours=1),
            },
            "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:reader", "Arn": ROLE.replace(":role/", ":assumed-role/")},
        }


def test_assume_role_session_calls_sts_with_source_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = StsStub(monkeypatch)
    sts.responses.append((
        "assume_role",
        StsStub.credentials("ASIAASSUMEDEXAMPLE"),
        {"RoleArn": ROLE, "RoleSessionName": "reader", "ExternalId": "ext-1"},
    ))
    spec = egress(credentials=AwsCredentials.assume_role(ROLE, "reader", "ext-1", AwsCredentials.basic("AKIASOURCE", "SeCrEt-123")))
    client = spec.create_client()
    assert sts.created == []  # lazy: nothing is fetched before the first request
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("ASIAASSUMEDEXAMPLE", "role-secret", "role-token")
    assert len(sts.created) == 1
    assert sts.created[0]["aws_access_key_id"] == "AKIASOURCE"
    assert sts.created[0]["aws_secret_access_key"] == "SeCrEt-123"
    for stubber in sts.stubbers:
        stubber.assert_no_pending_responses()


def test_assume_role_default_session_name_and_no_external_id(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[base]\naws_access_key_id = AKIABASEPROFILE\naws_secret_access_key = SeCrEt-123\n")
    sts = StsStub(monkeypatch)
    sts.responses.append(("assume_role", StsStub.credentials("ASIAFROMPROFILEXX"), {"RoleArn": ROLE, "RoleSessionName": "reader"}))
    spec = egress(credentials=AwsCredentials.assume_role(ROLE, "reader", source=AwsCredentials.profile("base", str(credentials))))
    frozen = spec.create_client()._request_signer._credentials.get_frozen_credentials()
    assert frozen.access_key == "ASIAFROMPROFILEXX"
    assert sts.created[0]["aws_access_key_id"] == "AKIABASEPROFILE"


def test_assume_role_without_source_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = StsStub(monkeypatch)
    spec = egress(credentials=AwsCredentials.assume_role(ROLE, "reader"))  # default chain: nothing in this test env
    with pytest.raises(ConfigError, match="no credentials to assume") as info:
        spec.create_client()
    assert info.value.field == "awsCredentials.source"
    assert "AWS_ACCESS_KEY_ID" in str(info.value)
    assert sts.created == []


def test_assume_role_default_source_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SeCrEt-123")
    sts = StsStub(monkeypatch)
    sts.responses.append(("assume_role", StsStub.credentials("ASIAFROMENVROLEXX"), {"RoleArn": ROLE, "RoleSessionName": "rr"}))
    frozen = egress(credentials=AwsCredentials.assume_role(ROLE, "rr")).create_client()._request_signer._credentials
    assert frozen.get_frozen_credentials().access_key == "ASIAFROMENVROLEXX"
    assert sts.created[0]["aws_access_key_id"] == "AKIAFROMENVIRONMENT"


def test_web_identity_session_reads_token_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJ.token.sig")
    sts = StsStub(monkeypatch)
    sts.responses.append((
        "assume_role_with_web_identity",
        StsStub.credentials("ASIAWEBIDENTITYXX"),
        {"RoleArn": ROLE, "RoleSessionName": "pod", "WebIdentityToken": "eyJ.token.sig"},
    ))
    spec = egress(region=AwsRegion.of("eu-west-1"), credentials=AwsCredentials.web_identity(ROLE, str(token), "pod"))
    client = spec.create_client()
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.token) == ("ASIAWEBIDENTITYXX", "role-token")
    assert len(sts.created) == 1
    assert "aws_secret_access_key" not in sts.created[0]  # the web identity call is unsigned
    assert sts.created[0]["region"] == "eu-west-1"  # the regional STS endpoint of the spec's region


def test_web_identity_default_session_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("token-text")
    sts = StsStub(monkeypatch)
    sts.responses.append((
        "assume_role_with_web_identity", StsStub.credentials("ASIAWEBIDENTITYYY"),
        {"RoleArn": ROLE, "RoleSessionName": "pyflink-kinesis", "WebIdentityToken": "token-text"},
    ))
    spec = egress(credentials=AwsCredentials.web_identity(ROLE, str(token)))
    assert spec.create_client()._request_signer._credentials.get_frozen_credentials().access_key == "ASIAWEBIDENTITYYY"


# --- One translation for YAML and code ----------------------------------------------------------


def test_yaml_and_code_translate_the_same(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "kind: io.statefun.kinesis.v1/ingress\nspec:\n  id: ex/in\n"
        "  awsRegion: {type: specific, id: us-west-1}\n"
        "  awsCredentials: {type: basic, accessKeyId: AKIA, secretAccessKey: SeCrEt-123}\n"
        "  startupPosition: {type: earliest}\n"
        "  clientConfigProperties:\n    - SocketTimeout: 9999\n    - MaxConnections: 15\n"
        "  streams: [{stream: s, valueType: ex/T, targets: [ex/f]}]\n"
    )
    from_yaml = load_module(path).ingresses["ex/in"]
    from_code = ingress(
        credentials=AwsCredentials.basic("AKIA", "SeCrEt-123"),
        position=KinesisIngressStartupPosition.from_earliest(),
        props={"SocketTimeout": 9999, "MaxConnections": 15},
    )
    assert from_yaml.source_properties() == from_code.source_properties()
    assert from_yaml.sql_options("arn:s") == from_code.sql_options("arn:s")
    assert from_yaml.botocore_config() == from_code.botocore_config()
    assert from_yaml.source_properties()["aws.http-client.read-timeout"] == "9999"
    assert from_yaml.source_properties()["aws.http-client.max-concurrency"] == "15"
