"""A PyFlink DataStream job configured by hand with a properties map, as the docs show: copies every record of
stream 'orders' to 'orders-copy' with its partition key, on a local MiniCluster, until cancelled.

    python examples/configs/datastream_copy.py [ENDPOINT]     # default: a local Kinesis on http://127.0.0.1:4568
"""

import sys

from pyflink.datastream import StreamExecutionEnvironment

from pyflink_kinesis import EgressRecord, KinesisEgressBuilder, KinesisIngressBuilder, KinesisIngressStartupPosition
from pyflink_kinesis.flink.datastream import from_ingress, to_egress

ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4568"

PROPERTIES = {
    "aws.region": "us-east-1",
    "aws.endpoint": ENDPOINT,
    "aws.credentials.provider": "BASIC",
    "aws.credentials.provider.basic.accesskeyid": "local",
    "aws.credentials.provider.basic.secretkey": "local",
}


def to_copy(record):
    """The egress serializer: the record's bytes and partition key, to 'orders-copy'."""
    return EgressRecord(record.data, stream="orders-copy", partition_key=record.partition_key)


ingress = (KinesisIngressBuilder.for_identifier("example/orders")
           .with_stream("orders")
           .with_startup_position(KinesisIngressStartupPosition.from_earliest())
           .with_client_configuration_properties(PROPERTIES)
           .build())
egress = (KinesisEgressBuilder.for_identifier("example/orders-copy")
          .with_serializer(to_copy)
          .with_client_configuration_properties(PROPERTIES)
          .build())

env = StreamExecutionEnvironment.get_execution_environment()
env.enable_checkpointing(2000)
to_egress(from_ingress(env, ingress), egress)
print("copying orders -> orders-copy", flush=True)
env.execute("orders copy")
