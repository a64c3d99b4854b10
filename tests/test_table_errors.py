"""Errors of 'pyflink-kinesis' tables, found at planning (no job runs): a query with updates into the insert-only
Kinesis sink, a bad option value, an unknown option and a missing format.

PyFlink runs in a child process (its JVM ends with it); the emulator is not needed: nothing is read or written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("pyflink")

from tests.flink_support import ROOT  # noqa: E402

pytestmark = [pytest.mark.flink]

CHILD = r"""
import json
import os
from pyflink.table import EnvironmentSettings, TableEnvironment
from pyflink_kinesis import AwsCredentials, AwsRegion, KinesisEgressBuilder, KinesisIngressBuilder
from pyflink_kinesis import ConfigError
from pyflink_kinesis.table import check_table, create_table

region = AwsRegion.of_custom_endpoint("http://127.0.0.1:9", "us-east-1")
secret = AwsCredentials.basic("AKID", "Top-Secret-1")
t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
source = lambda: KinesisIngressBuilder.for_identifier("t/in").with_aws_region(region).with_aws_credentials(secret)
sink = lambda: KinesisEgressBuilder.for_identifier("t/out").with_aws_region(region).with_aws_credentials(secret)
create_table(t_env, "readings", source().with_stream("readings").build(), "sensor INT, celsius DOUBLE", format="json")
create_table(t_env, "counts", sink().build(), "sensor INT, n BIGINT", format="json", stream="counts")
out = {}
try:
    t_env.explain_sql("INSERT INTO counts SELECT sensor, COUNT(*) FROM readings GROUP BY sensor")
except Exception as e:
    out["updates"] = str(e)
cases = {
    "bad_value": lambda: create_table(t_env, "b", sink().with_client_configuration_property(
        "sink.flush-buffer.timeout", "soon").build(), "x INT", format="json", stream="s"),
    "unknown": lambda: create_table(t_env, "u", source().with_stream("s").with_client_configuration_property(
        "source.init.positon", "LATEST").build(), "x INT", format="json"),
    "no_format": lambda: (t_env.execute_sql("CREATE TABLE nf (x INT) WITH ('connector' = 'pyflink-kinesis', "
                                            "'stream' = 's', 'aws.region' = 'us-east-1')"),
                          check_table(t_env, "nf", sink=False)),
}
for name, case in cases.items():
    try:
        case()
    except ConfigError as e:
        out[name] = str(e)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def errors() -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, timeout=300, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def test_a_query_with_updates_into_the_kinesis_sink_fails_at_planning_naming_the_table(errors: dict) -> None:
    message = errors["updates"]
    assert "default_catalog.default_database.counts" in message
    assert "doesn't support consuming update changes" in message


@pytest.mark.parametrize("case, named", [("bad_value", "sink.flush-buffer.timeout"), ("unknown", "source.init.positon"),
                                         ("no_format", "'format' is required")])
def test_option_errors_are_one_line_naming_the_option(errors: dict, case: str, named: str) -> None:
    message = errors[case]
    assert named in message and "\n" not in message, message
    assert "Top-Secret-1" not in message
