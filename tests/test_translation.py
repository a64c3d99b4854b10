"""Translation of specs into the Flink source and sink keys, and one translation for YAML and code.

No network: the ``offline`` fixture makes any HTTP send fail.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pyflink_kinesis import (AwsCredentials, AwsRegion, ConfigError, ConfigWarning, KinesisEgressBuilder,
                             KinesisIngressStartupPosition, load_module)

from tests import translation_support
from tests.translation_support import P, egress, ingress
from tests.yaml_support import ROLE

pytestmark = pytest.mark.usefixtures("offline")


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
def test_a_loopback_endpoint_gets_nothing_the_user_did_not_write(endpoint: str) -> None:
    spec = egress(region=AwsRegion.of_custom_endpoint(endpoint, "us-east-1"))
    props = spec.sink_properties()
    assert props["aws.endpoint"] == endpoint
    assert {k for k in props if k.startswith("aws.") and not k.startswith("aws.credentials")} == {
        "aws.region", "aws.endpoint"}
    client = spec.boto3_arguments()["client"]
    assert client["endpoint_url"] == endpoint and "verify" not in client


@pytest.mark.parametrize("endpoint", ["http://kinesis.test:4568", "http://127.0.0.1:4568"])
def test_an_emulator_is_declared_not_guessed(endpoint: str) -> None:
    props = egress(region=AwsRegion.of_custom_endpoint(endpoint, "us-east-1", emulator=True)).sink_properties()
    assert props["aws.emulator"] == "true"
    assert "aws.trust.all.certificates" not in props and "aws.http.protocol.version" not in props
    written = egress(region=AwsRegion.of_custom_endpoint(endpoint, "us-east-1"), props={"aws.emulator": "true"})
    assert written.sink_properties()["aws.emulator"] == "true"


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
        ("AggregationEnabled", True, {"sink.aggregation.enabled": "true"}, {}),
        ("AggregationMaxCount", 100, {"sink.aggregation.max-count": "100"}, {}),
        ("AggregationMaxSize", 51200, {"sink.aggregation.max-size": "51200"}, {}),
        ("RecordTtl", 30000, {"sink.record-ttl": "30000"}, {}),
        ("RateLimit", 100, {"sink.rate-limit": "100"}, {}),
        ("FailIfThrottled", False, {"sink.fail-on-throttling": "false"}, {}),
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


@pytest.mark.parametrize("key", ["ThreadingModel", "ThreadPoolSize", "CollectionMaxSize", "ProxyPassword", "MetricsLevel"])
def test_known_v1_or_kpl_names_without_equivalent_warn(key: str) -> None:
    with pytest.warns(ConfigWarning, match=f"client_properties.{key}: .*no equivalent") as caught:
        spec = egress(props={key: "x"})
    # points at the caller (the helper in translation_support), through with_client_configuration_properties
    assert caught[0].filename == translation_support.__file__
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
