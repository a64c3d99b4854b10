"""A PyFlink job for a Flink cluster: copies every record of one Kinesis stream to another, keeping its data and
partition key, through from_ingress / to_egress, with checkpointing on (at-least-once).

    pyflink-kinesis local up && pyflink-kinesis cluster up
    pyflink-kinesis streams create in --shards 2 && pyflink-kinesis streams create out --shards 2
    pyflink-kinesis submit examples/copy_job.py --detached -- --endpoint http://127.0.0.1:4568 --input in --output out

Options after ``--``: ``--start earliest|latest``, ``--checkpoint-interval MS``, ``--key-by`` (key by partition key
before the sink), ``--max-inflight N`` (``sink.requests.max-inflight``; 1 keeps per-key order through retries),
``--http1`` (the sink speaks HTTP/1.1, e.g. through an HTTP/1.1 proxy).
The cluster tests (tests/test_cluster_faults.py) run it under failures.
"""

from __future__ import annotations

import argparse

from pyflink.datastream import CheckpointingMode, StreamExecutionEnvironment

from pyflink_kinesis import (AwsCredentials, AwsRegion, EgressRecord, IngressRecord, KinesisEgressBuilder,
                             KinesisIngressBuilder, KinesisIngressStartupPosition)
from pyflink_kinesis.flink.datastream import from_ingress, to_egress


class CopyTo:
    """The egress serializer: the record's data and partition key, to the output stream."""

    def __init__(self, stream: str) -> None:
        self.stream = stream

    def __call__(self, record: IngressRecord) -> EgressRecord:
        return EgressRecord(record.data, stream=self.stream, partition_key=record.partition_key)


def partition_key(record: IngressRecord) -> str:
    return record.partition_key


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", help="a local Kinesis (default: AWS, region and credentials from the default chain)")
    p.add_argument("--output-endpoint", help="another local Kinesis for the output (default: --endpoint)")
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--start", choices=["earliest", "latest"], default="earliest")
    p.add_argument("--checkpoint-interval", type=int, default=2000, help="milliseconds")
    p.add_argument("--key-by", action="store_true", help="key by partition key before the sink (per-key order)")
    p.add_argument("--max-inflight", type=int, help="sink.requests.max-inflight")
    p.add_argument("--batch-size", type=int, help="sink.batch.max-size (records per PutRecords call)")
    p.add_argument("--http1", action="store_true", help="aws.http.protocol.version HTTP1_1 for the sink (e.g. through "
                   "an HTTP/1.1 proxy; the default is HTTP/2)")
    p.add_argument("--name", default="kinesis-copy")
    args = p.parse_args()

    region, credentials = AwsRegion.from_default_provider_chain(), AwsCredentials.from_default_provider_chain()
    if args.endpoint:
        region = AwsRegion.of_custom_endpoint(args.endpoint, "us-east-1")
        credentials = AwsCredentials.basic("local", "local")  # the local Kinesis accepts any key
    output_region = AwsRegion.of_custom_endpoint(args.output_endpoint, "us-east-1") if args.output_endpoint else region
    start = {"earliest": KinesisIngressStartupPosition.from_earliest(),
             "latest": KinesisIngressStartupPosition.from_latest()}[args.start]
    ingress = (KinesisIngressBuilder.for_identifier("cluster-test/in").with_aws_region(region)
               .with_aws_credentials(credentials).with_stream(args.input).with_startup_position(start)
               .with_client_configuration_property("source.shard.discovery.interval", "1 s").build())
    egress = (KinesisEgressBuilder.for_identifier("cluster-test/out").with_aws_region(output_region)
              .with_aws_credentials(credentials).with_serializer(CopyTo(args.output)))
    if args.max_inflight:
        egress = egress.with_client_configuration_property("sink.requests.max-inflight", args.max_inflight)
    if args.batch_size:
        egress = egress.with_client_configuration_property("sink.batch.max-size", args.batch_size)
    if args.http1:
        egress = egress.with_client_configuration_property("aws.http.protocol.version", "HTTP1_1")

    env = StreamExecutionEnvironment.get_execution_environment()
    # At-least-once end to end: shard positions are in each checkpoint, the sink flushes on it.
    env.enable_checkpointing(args.checkpoint_interval, CheckpointingMode.AT_LEAST_ONCE)
    records = from_ingress(env, ingress)
    if args.key_by:
        records = records.key_by(partition_key)
    to_egress(records, egress.build())
    env.execute(args.name)


if __name__ == "__main__":
    main()
