"""Flink SQL / Table API: the generated DDL and descriptors go through PyFlink's real SQL parser and catalog."""

from __future__ import annotations

import pytest

pytest.importorskip("pyflink")

from pyflink.table import DataTypes, EnvironmentSettings, Schema, TableEnvironment  # noqa: E402

from pyflink_kinesis import (  # noqa: E402
    AwsCredentials,
    AwsRegion,
    KinesisEgressBuilder,
    KinesisIngressBuilder,
    KinesisIngressStartupPosition,
)
from pyflink_kinesis.table import create_table_sql, table_descriptor  # noqa: E402

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
SECRET = "SeCrEt'-123"


@pytest.fixture(scope="module")
def table_env() -> TableEnvironment:
    return TableEnvironment.create(EnvironmentSettings.in_streaming_mode())


def ingress():
    return (KinesisIngressBuilder.for_identifier("t/in")
            .with_aws_region(AwsRegion.of_custom_endpoint("http://127.0.0.1:4568", "us-east-1"))
            .with_aws_credentials(AwsCredentials.basic("AKID", SECRET))
            .with_stream("orders").with_startup_position(KinesisIngressStartupPosition.from_earliest()).build())


def egress():
    return (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(AwsRegion.of("eu-west-1"))
            .with_max_outstanding_records(2000).build())


def show_create(table_env: TableEnvironment, table: str) -> str:
    with table_env.execute_sql(f"SHOW CREATE TABLE `{table}`").collect() as rows:
        return "\n".join(row[0] for row in rows)


def test_ingress_ddl_registers_with_every_source_option(table_env: TableEnvironment) -> None:
    spec = ingress()
    ddl = create_table_sql(spec, "orders `in`", [("data", "BYTES")], ARN)
    table_env.execute_sql(ddl)
    shown = show_create(table_env, "orders ``in``")
    for key, value in spec.sql_options(ARN).items():
        assert f"'{key}' = '{value.replace(chr(39), chr(39) * 2)}'" in shown
    assert "'source.init.position' = 'TRIM_HORIZON'" in shown
    assert "'aws.credentials.basic.secretkey'" in shown  # SQL tables drop the word 'provider'


def test_egress_ddl_with_partition_columns(table_env: TableEnvironment) -> None:
    ddl = create_table_sql(egress(), "alerts", "`key` STRING, `data` BYTES", ARN, partitioned_by=["key"])
    table_env.execute_sql(ddl)
    shown = show_create(table_env, "alerts")
    assert "PARTITIONED BY (`key`)" in shown
    assert "'sink.requests.max-buffered' = '2000'" in shown
    assert "'aws.region' = 'eu-west-1'" in shown


def test_masked_ddl_hides_the_secret() -> None:
    ddl = create_table_sql(ingress(), "t", [("data", "BYTES")], ARN, mask_secrets=True)
    assert "SeCrEt" not in ddl and "'****'" in ddl


def test_table_descriptor_carries_the_same_options(table_env: TableEnvironment) -> None:
    spec = ingress()
    schema = Schema.new_builder().column("data", DataTypes.BYTES()).build()
    table_env.create_temporary_table("described", table_descriptor(spec, schema, ARN, format="raw"))
    shown = show_create(table_env, "described")
    for key, value in spec.sql_options(ARN, "raw").items():
        assert f"'{key}' = '{value.replace(chr(39), chr(39) * 2)}'" in shown
