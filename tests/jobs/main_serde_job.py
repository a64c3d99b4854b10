"""A job script whose serializers and deserializers live in ``__main__``, in every documented form.

Run as ``python main_serde_job.py ENDPOINT STREAM OUT.json [Beam options]`` (tests/test_robustness_serde.py does,
with dill, ``--save_main_session`` and cloudpickle). It writes 4 records with each serializer form, reads them back
with each deserializer form, and writes what it read to OUT.json.
"""

import json
import sys
from typing import Optional

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from beam_transforms import ReadFromKinesis, WriteToKinesis
from pyflink_kinesis import (AwsCredentials, AwsRegion, EgressRecord, IngressRecord, KinesisEgressBuilder,
                             KinesisEgressSerializer, KinesisIngressBuilder, KinesisIngressDeserializer,
                             KinesisIngressStartupPosition)

ENDPOINT, STREAM, OUT = sys.argv[1:4]
BEAM_ARGS = sys.argv[4:]
PER_FORM = 4


class PlainSerializer(KinesisEgressSerializer):
    def serialize(self, value: str) -> Optional[EgressRecord]:
        return EgressRecord(value.encode(), STREAM, value)


class GenericSerializer(KinesisEgressSerializer[str]):
    def serialize(self, value: str) -> Optional[EgressRecord]:
        return EgressRecord(value.encode(), STREAM, value)


def serialize(value: str) -> EgressRecord:
    return EgressRecord(value.encode(), STREAM, value)


class PlainDeserializer(KinesisIngressDeserializer):
    def deserialize(self, record: IngressRecord) -> Optional[str]:
        return "class:" + record.data.decode()


class GenericDeserializer(KinesisIngressDeserializer[str]):
    def deserialize(self, record: IngressRecord) -> Optional[str]:
        return "generic:" + record.data.decode()


def deserialize(record: IngressRecord) -> str:
    return "function:" + record.data.decode()


SERIALIZERS = {"class": PlainSerializer, "instance": PlainSerializer(), "generic": GenericSerializer,
               "function": serialize, "path": "__main__:serialize"}
DESERIALIZERS = {"class": PlainDeserializer, "instance": GenericDeserializer(), "generic": GenericDeserializer,
                 "function": deserialize, "path": "__main__:deserialize"}


def region() -> AwsRegion:
    return AwsRegion.of_custom_endpoint(ENDPOINT, "us-east-1")


def main() -> None:
    options = PipelineOptions(BEAM_ARGS)
    with beam.Pipeline(options=options) as p:
        for form, serializer in SERIALIZERS.items():
            egress = (KinesisEgressBuilder.for_identifier(f"job/{form}").with_aws_region(region())
                      .with_aws_credentials(AwsCredentials.basic("local", "local")).with_serializer(serializer).build())
            (p | f"Create {form}" >> beam.Create([f"{form}-{i}" for i in range(PER_FORM)])
             | f"Write {form}" >> WriteToKinesis(egress))
    results = {}
    with beam.Pipeline(options=options) as p:
        for form, deserializer in DESERIALIZERS.items():
            ingress = (KinesisIngressBuilder.for_identifier(f"job/{form}").with_aws_region(region())
                       .with_aws_credentials(AwsCredentials.basic("local", "local")).with_stream(STREAM)
                       .with_startup_position(KinesisIngressStartupPosition.from_earliest())
                       .with_deserializer(deserializer).build())
            (p | f"Read {form}" >> ReadFromKinesis(ingress, max_records=PER_FORM * len(SERIALIZERS))
             | f"List {form}" >> beam.combiners.ToList()
             | f"Save {form}" >> beam.Map(lambda values, form=form: _save(form, values)))
    print(json.dumps(results))


def _save(form: str, values: list) -> None:
    with open(f"{OUT}.{form}", "w") as f:
        json.dump(sorted(values), f)


if __name__ == "__main__":
    main()
