"""``pyflink-kinesis sql -f script.sql`` on the standalone cluster of ``pyflink-kinesis cluster up``: Flink's SQL
client from the apache-flink wheel, with the connector jar, runs CREATE TABLE x2 and an INSERT; the rows arrive."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("pyflink")

from pyflink_kinesis import AwsCredentials, AwsRegion, KinesisEgressBuilder, KinesisIngressBuilder  # noqa: E402
from pyflink_kinesis import KinesisIngressStartupPosition  # noqa: E402
from pyflink_kinesis.tools.cluster import FlinkCluster  # noqa: E402
from pyflink_kinesis.tools.local import LocalKinesis, create_stream  # noqa: E402
from pyflink_kinesis.testing import put_all, read_stream, wait_until  # noqa: E402
from tests.flink_support import ROOT  # noqa: E402

pytestmark = [pytest.mark.cluster, pytest.mark.integration]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FlinkCluster]:
    with FlinkCluster(tmp_path / "cluster", taskmanagers=1, slots=2, rest_port=0, rpc_port=0) as started:
        yield started


def script(endpoint: str, source: str, target: str) -> str:
    region = AwsRegion.of_custom_endpoint(endpoint, "us-east-1")
    credentials = AwsCredentials.basic("local", "local")
    ingress = (KinesisIngressBuilder.for_identifier("sql/in").with_aws_region(region).with_aws_credentials(credentials)
               .with_stream(source).with_startup_position(KinesisIngressStartupPosition.from_earliest()).build())
    egress = (KinesisEgressBuilder.for_identifier("sql/out").with_aws_region(region).with_aws_credentials(credentials)
              .with_client_configuration_property("sink.flush-buffer.timeout", "200").build())
    columns = "data BYTES, pk STRING METADATA FROM 'partition-key'"
    return ";\n".join([ingress.create_table_sql("src", columns, "raw"),
                       egress.create_table_sql("dst", columns, "raw", stream=target),
                       "INSERT INTO dst SELECT data, pk FROM src"]) + ";\n"


def test_sql_client_runs_a_script_on_the_cluster(kinesis: LocalKinesis, cluster: FlinkCluster, tmp_path: Path) -> None:
    client = kinesis.client()
    source, target = f"sql-in-{time.monotonic_ns()}", f"sql-out-{time.monotonic_ns()}"
    create_stream(client, source, 2)
    create_stream(client, target, 1)
    entries = [{"Data": b"row-%d\xff" % i, "PartitionKey": f"k{i}"} for i in range(20)]
    put_all(client, source, entries)
    sql_file = tmp_path / "copy.sql"
    sql_file.write_text(script(kinesis.endpoint, source, target))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    ran = subprocess.run([sys.executable, "-m", "pyflink_kinesis", "sql", "-f", str(sql_file),
                          "--dir", str(tmp_path / "cluster")], capture_output=True, text=True, timeout=300,
                         cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    wait_until(lambda: len(read_stream(client, target)) >= len(entries), 180, "the copied rows")
    got = sorted((r["PartitionKey"], r["Data"]) for r in read_stream(client, target))
    assert got == sorted((e["PartitionKey"], e["Data"]) for e in entries)
    jobs: Any = cluster.rest("/jobs")["jobs"]
    for job in jobs:
        if job["status"] == "RUNNING":
            cluster.cancel(job["id"])
