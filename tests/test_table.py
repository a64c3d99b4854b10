"""Flink SQL / Table API: the generated DDL and descriptors go through PyFlink's real SQL parser and catalog.

PyFlink runs in a child process: its JVM gateway then ends with it, instead of outliving the tests.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyflink")

from pyflink_kinesis import (  # noqa: E402
    AwsCredentials,
    AwsRegion,
    KinesisEgressBuilder,
    KinesisIngressBuilder,
    KinesisIngressStartupPosition,
)
from pyflink_kinesis.flink.table import create_table_sql  # noqa: E402
from pyflink_kinesis.statefun.module import load_module  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
SECRET = "SeCrEt'-123"

# Registers each statement and descriptor in a TableEnvironment, creates the "checked" tables' sources or sinks
# through the connector's factory; prints SHOW CREATE TABLE of each, as JSON.
CHILD = """
import json, pickle, sys
from pyflink.table import DataTypes, EnvironmentSettings, Schema, TableEnvironment
from pyflink_kinesis.flink.table import add_table_jar, check_table, table_descriptor

job = pickle.loads(sys.stdin.buffer.read())
env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
for name, ddl in job["statements"]:
    env.execute_sql(ddl)
add_table_jar(env)
for name, sink in job["checked"]:  # the connector's factory accepts every option (no job runs)
    check_table(env, name, sink)
for name, spec in job["descriptors"]:
    schema = Schema.new_builder().column("data", DataTypes.BYTES()).build()
    env.create_temporary_table(name, table_descriptor(spec, schema, "raw", stream_arn=job["arn"]))
shown = {}
for name in [n for n, _ in job["statements"]] + [n for n, _ in job["descriptors"]]:
    with env.execute_sql("SHOW CREATE TABLE `" + name.replace("`", "``") + "`").collect() as rows:
        shown[name] = "\\n".join(row[0] for row in rows)
print(json.dumps(shown))
"""


def ingress():
    return (KinesisIngressBuilder.for_identifier("t/in")
            .with_aws_region(AwsRegion.of_custom_endpoint("http://127.0.0.1:4568", "us-east-1"))
            .with_aws_credentials(AwsCredentials.basic("AKID", SECRET))
            .with_stream("orders").with_startup_position(KinesisIngressStartupPosition.from_earliest()).build())


def yaml_ingress():
    """A StateFun YAML module's ingress: specs from YAML make tables too."""
    module = load_module("kind: io.statefun.kinesis.v1/ingress\nspec:\n  id: y/in\n  deserializer: json:loads\n  streams: [clicks]\n"
                         "  awsRegion: {type: specific, id: eu-west-1}\n")
    return module.ingresses["y/in"]


def egress():
    return (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(AwsRegion.of("eu-west-1"))
            .with_max_outstanding_records(2000).build())


@pytest.fixture(scope="module")
def shown() -> dict[str, Any]:
    """SHOW CREATE TABLE of every table the tests define, from one PyFlink TableEnvironment."""
    job = {
        "arn": ARN,
        "statements": [
            ("orders `in`", create_table_sql(ingress(), "orders `in`", [("data", "BYTES")], stream_arn=ARN)),
            ("alerts", create_table_sql(egress(), "alerts", "`key` STRING, `data` BYTES", stream_arn=ARN, partition_by=["key"])),
            ("official", ingress().create_table_sql("official", [("data", "BYTES")], stream_arn=ARN, connector="kinesis")),
            ("timed", ingress().create_table_sql("timed", "sensor INT, arrived TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'",
                                                 "json", watermark="arrived - INTERVAL '5' SECOND")),
            ("from_yaml", yaml_ingress().create_table_sql("from_yaml", [("data", "BYTES")])),
        ],
        "descriptors": [("described", ingress())],
        "checked": [("example_readings", False), ("example_alerts", True)],
    }
    job["statements"] += explained_statements()
    result = subprocess.run([sys.executable, "-c", CHILD], input=pickle.dumps(job), capture_output=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def explained_statements() -> list[tuple[str, str]]:
    """The statements ``pyflink-kinesis explain examples/module.yaml`` prints, with the masked secrets filled in
    (the module's are ``local``), each as printed but for its closing ``;`` (the SQL client's terminator)."""
    explained = subprocess.run([sys.executable, "-m", "pyflink_kinesis", "explain", "examples/module.yaml"],
                               capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert explained.returncode == 0, explained.stderr
    blocks = [b for b in explained.stdout.split("\n\n") if b.startswith("-- example/")]
    assert len(blocks) == 2 and all(b.rstrip().endswith(");") for b in blocks), explained.stdout
    return [(b.splitlines()[1].split("`")[1], b.rstrip().removesuffix(";").replace("'****'", "'local'"))
            for b in blocks]


def assert_options(shown_table: str, options: dict[str, str]) -> None:
    for key, value in options.items():
        assert f"'{key}' = '{value.replace(chr(39), chr(39) * 2)}'" in shown_table


def test_ingress_ddl_registers_with_every_source_option(shown: dict[str, Any]) -> None:
    table = shown["orders `in`"]
    assert_options(table, ingress().sql_options(ARN))
    assert "'source.init.position' = 'TRIM_HORIZON'" in table
    assert "'aws.credentials.basic.secretkey'" in table  # SQL tables drop the word 'provider'


def test_egress_ddl_with_partition_columns(shown: dict[str, Any]) -> None:
    table = shown["alerts"]
    assert "PARTITIONED BY (`key`)" in table
    assert "'sink.requests.max-buffered' = '2000'" in table
    assert "'aws.region' = 'eu-west-1'" in table


def test_table_descriptor_carries_the_same_options(shown: dict[str, Any]) -> None:
    assert_options(shown["described"], ingress().sql_options(ARN, "raw"))


def test_masked_ddl_hides_the_secret() -> None:
    ddl = create_table_sql(ingress(), "t", [("data", "BYTES")], stream_arn=ARN, mask_secrets=True)
    assert "SeCrEt" not in ddl and "'****'" in ddl


def test_tables_default_to_our_connector_and_keep_the_official_one(shown: dict[str, Any]) -> None:
    assert "'connector' = 'pyflink-kinesis'" in shown["orders `in`"] and f"'stream.arn' = '{ARN}'" in shown["orders `in`"]
    assert "'stream' = 'orders'" in shown["timed"]  # the ingress's only stream, by name
    assert "'connector' = 'kinesis'" in shown["official"] and f"'stream.arn' = '{ARN}'" in shown["official"]


def test_watermark_and_metadata_columns_register(shown: dict[str, Any]) -> None:
    table = shown["timed"]
    assert "METADATA FROM 'timestamp'" in table
    assert "WATERMARK FOR `arrived` AS `arrived` - INTERVAL '5' SECOND" in table


def test_a_yaml_module_ingress_makes_a_table(shown: dict[str, Any]) -> None:
    assert "'stream' = 'clicks'" in shown["from_yaml"] and "'aws.region' = 'eu-west-1'" in shown["from_yaml"]


def test_spec_method_masks_secrets_for_printing() -> None:
    ddl = ingress().create_table_sql("t", [("data", "BYTES")], mask_secrets=True)
    assert "SeCrEt" not in ddl and "'****'" in ddl


def test_the_tables_explain_prints_are_accepted(shown: dict[str, Any]) -> None:
    """The module's ingress and egress as explain prints them: registered, and their source and sink created."""
    assert "'stream' = 'sensor-readings'" in shown["example_readings"]
    assert "'aws.credentials.basic.secretkey' = 'local'" in shown["example_readings"]
    assert "METADATA FROM 'stream'" in shown["example_alerts"] and "'aws.endpoint'" in shown["example_alerts"]
