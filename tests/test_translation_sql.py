"""Translation of specs into Flink SQL options, and the region taken from the environment when a spec has none.

No network: the ``offline`` fixture makes any HTTP send fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyflink_kinesis import (AwsCredentials, ConfigError, KinesisEgressBuilder, KinesisIngressBuilder,
                             KinesisIngressStartupPosition)

from tests.translation_support import P, egress, ingress

pytestmark = pytest.mark.usefixtures("offline")


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
