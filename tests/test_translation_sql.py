"""Translation of specs into Flink SQL options, and the region taken from the environment when a spec has none.

No network: the ``offline`` fixture makes any HTTP send fail.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from pyflink_kinesis import (AwsCredentials, ConfigError, KinesisEgressBuilder, KinesisEgressSpec,
                             KinesisIngressBuilder, KinesisIngressSpec, KinesisIngressStartupPosition)
from pyflink_kinesis.table import create_table, create_table_sql, table_descriptor

from tests.translation_support import P, egress, ingress

pytestmark = pytest.mark.usefixtures("offline")
POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD


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


# --- One DDL entry point ------------------------------------------------------------------------


def _parameters(function: Any) -> list[tuple[str, Any]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


def test_the_table_functions_take_the_same_arguments_in_the_same_order() -> None:
    statement = _parameters(create_table_sql)
    assert statement[:4] == [("spec", POSITIONAL), ("name", POSITIONAL), ("schema", POSITIONAL), ("format", POSITIONAL)]
    assert all(kind == inspect.Parameter.KEYWORD_ONLY for _, kind in statement[4:])  # no order mistakes after format
    assert _parameters(KinesisIngressSpec.create_table_sql) == [("self", POSITIONAL)] + statement[1:]
    assert _parameters(KinesisEgressSpec.create_table_sql) == [("self", POSITIONAL)] + statement[1:]
    described = _parameters(table_descriptor)  # no table name, watermark (the Schema has it) or masking
    assert described == [p for p in statement if p[0] not in ("name", "watermark", "mask_secrets")]
    # create_table: the table environment first, then the table's name before its spec; format by keyword
    assert [name for name, _ in _parameters(create_table)] == \
        ["t_env", "name", "spec", "schema", "format", "stream", "stream_arn", "watermark", "partition_by"]
    assert [name for name, _ in statement] == \
        ["spec", "name", "schema", "format", "stream", "stream_arn", "watermark", "partition_by", "connector",
         "mask_secrets"]


def _ddl_calls() -> dict[str, Any]:
    spec = egress()
    return {"function": lambda **kw: create_table_sql(spec, "t", "k STRING, data BYTES", "json", **kw),
            "method": lambda **kw: spec.create_table_sql("t", "k STRING, data BYTES", "json", **kw)}


@pytest.mark.parametrize("call", ["function", "method"])
def test_partition_by_and_its_alias_partitioned_by(call: str) -> None:
    ddl = _ddl_calls()[call]
    assert "PARTITIONED BY (`k`)" in ddl(partition_by=["k"])
    assert ddl(partitioned_by=["k"]) == ddl(partition_by=["k"]) == ddl(partition_by=(c for c in ["k"]))
    with pytest.raises(TypeError, match=r"got both partition_by= and partitioned_by=.*pass partition_by= only"):
        ddl(partition_by=["k"], partitioned_by=["k"])
    with pytest.raises(ConfigError, match="partition_by: expected a list of column names, got the string 'k'"):
        ddl(partition_by="k")


def test_the_statement_accepts_its_old_argument_names() -> None:
    spec = ingress()
    assert create_table_sql(spec, table="t", columns=[("data", "BYTES")]) == create_table_sql(spec, "t", [("data", "BYTES")])
    with pytest.raises(TypeError, match="got both name= and table="):
        create_table_sql(spec, name="t", table="u", schema="data BYTES")


@pytest.mark.parametrize("call", [
    lambda: create_table_sql(ingress(), "t", [("data", "BYTES")], "arn:aws:kinesis:us-west-1:1:stream/s"),
    lambda: ingress().create_table_sql("t", [("data", "BYTES")], "arn:aws:kinesis:us-west-1:1:stream/s"),
    lambda: ingress().sql_options(format="arn:aws:kinesis:us-west-1:1:stream/s"),
])
def test_an_arn_where_the_format_goes_is_an_error_saying_so(call: Any) -> None:
    """The old order of create_table_sql and table_descriptor (stream_arn before format) fails loudly."""
    with pytest.raises(ConfigError, match="format: expected a table format such as 'raw' or 'json', got the stream "
                                          "ARN .* pass an ARN as stream_arn="):
        call()


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
