"""Flink SQL on Kinesis: JSON sensor readings in, one-minute averages per sensor out, hot readings to alerts.

    python examples/sql_job.py [--readings 200]      # against the embedded local Kinesis, on a local MiniCluster

``create_table`` registers 'pyflink-kinesis' tables from specs (the connector jar travels inside the package);
the queries are plain Flink SQL: a tumbling window on the arrival-time metadata column with a DDL watermark, and
a filter. The same statements run in ``pyflink-kinesis sql`` (Flink's SQL client) with ``create_table_sql``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Any

from pyflink_kinesis import AwsCredentials, KinesisEgressBuilder, KinesisIngressBuilder
from pyflink_kinesis import KinesisIngressStartupPosition
from pyflink_kinesis.table import create_table

READINGS, ALERTS = "sql-readings", "sql-alerts"


def build(t_env: Any, region: Any) -> Any:
    """The tables, and a StatementSet of the INSERT (one job). ``region`` is the AwsRegion of the streams."""
    credentials = AwsCredentials.basic("local", "local")
    readings = (KinesisIngressBuilder.for_identifier("example/sql-readings").with_aws_region(region)
                .with_aws_credentials(credentials).with_stream(READINGS)
                .with_startup_position(KinesisIngressStartupPosition.from_earliest()).build())
    alerts = (KinesisEgressBuilder.for_identifier("example/sql-alerts").with_aws_region(region)
              .with_aws_credentials(credentials).build())
    create_table(t_env, "readings", readings,
                 "sensor INT, celsius DOUBLE, arrived TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'",
                 format="json", watermark="arrived - INTERVAL '1' SECOND")
    create_table(t_env, "alerts", alerts, "sensor INT, celsius DOUBLE", format="json", stream=ALERTS,
                 partition_by=["sensor"])
    statements = t_env.create_statement_set()
    statements.add_insert_sql("INSERT INTO alerts SELECT sensor, celsius FROM readings WHERE celsius > 30")
    return statements


def main() -> int:
    from pyflink.table import EnvironmentSettings, TableEnvironment

    from pyflink_kinesis.local import LocalKinesis, create_stream

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=200, help="sensor readings to write")
    args = parser.parse_args()
    with LocalKinesis() as kinesis:
        client = kinesis.client()
        create_stream(client, READINGS, shards=2)
        create_stream(client, ALERTS, shards=1)
        rng = random.Random(7)
        values = [{"sensor": i % 10, "celsius": round(rng.uniform(10, 40), 1)} for i in range(args.readings)]
        client.put_records(StreamName=READINGS, Records=[
            {"Data": json.dumps(v).encode(), "PartitionKey": str(v["sensor"])} for v in values][:500])
        hot = sum(v["celsius"] > 30 for v in values[:500])
        t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
        t_env.get_config().set("parallelism.default", "2")
        job = build(t_env, kinesis.region).execute().get_job_client()
        started = time.monotonic()
        try:
            while _count(client, ALERTS) < hot:
                if time.monotonic() - started > 300:
                    raise TimeoutError("the SQL job did not write every alert within 300 s")
                time.sleep(1)
        finally:
            job.cancel().result()
        print(f"in: {min(args.readings, 500)} readings; out: {_count(client, ALERTS)} alerts in {ALERTS} "
              f"(expected {hot})")
    return 0


def _count(client: Any, stream: str) -> int:
    iterator = client.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000",
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return len(client.get_records(ShardIterator=iterator, Limit=10000)["Records"])


if __name__ == "__main__":
    sys.exit(main())
