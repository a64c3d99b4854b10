"""A PyFlink job for Amazon Managed Service for Apache Flink (MSF): copies every record of one Kinesis stream to
another, keeping its data and partition key. Its specs come from the application's runtime properties
(load_application_properties): the ingress group ``input``, the egress group ``output`` and the job's own group
``job`` (``output.stream``); application_properties.json beside it is what a local run reads.

    pyflink-kinesis package examples/msf/msf_job.py -o app.zip     # upload app.zip, paste the printed run options

Locally (the properties file points at ``pyflink-kinesis local up`` and its streams msf-in, msf-out):

    pyflink-kinesis local up && pyflink-kinesis streams create msf-in && pyflink-kinesis streams create msf-out
    python examples/msf/msf_job.py
"""

from __future__ import annotations

from pyflink.datastream import StreamExecutionEnvironment

from pyflink_kinesis import EgressRecord, IngressRecord, load_application_properties
from pyflink_kinesis.datastream import from_ingress, to_egress


class CopyTo:
    """Each record's data and partition key, to the output stream (runs in the Python workers)."""

    def __init__(self, stream: str) -> None:
        self.stream = stream

    def __call__(self, record: IngressRecord) -> EgressRecord:
        return EgressRecord(record.data, stream=self.stream, partition_key=record.partition_key)


def main() -> None:
    properties = load_application_properties()  # /etc/flink/... on the service, else the file beside this one
    settings = properties.group("job")
    env = StreamExecutionEnvironment.get_execution_environment()
    if "checkpoint.interval.ms" in settings:  # on the service, checkpoints are set in the application instead
        env.enable_checkpointing(int(settings["checkpoint.interval.ms"]))
    records = from_ingress(env, properties.ingresses["input"])
    to_egress(records.map(CopyTo(settings["output.stream"])), properties.egresses["output"])
    env.execute(settings.get("job.name", "kinesis-copy-msf"))


if __name__ == "__main__":
    main()
