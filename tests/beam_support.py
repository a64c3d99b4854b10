"""Helpers shared by the ReadFromKinesis tests: a collecting DoFn and ingress specs for the local Kinesis."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import apache_beam as beam

from pyflink_kinesis import KinesisIngressBuilder, KinesisIngressSpec, KinesisIngressStartupPosition

# Outputs by key: the DirectRunner runs DoFns in this process, so a module-level dict collects them.
SINK: Dict[str, List[Any]] = {}


class Collect(beam.DoFn):
    """Appends each value, or ``(value, element timestamp)`` with ``timestamps=True``, to ``SINK[key]`` in emit order."""

    def __init__(self, key: str, timestamps: bool = False) -> None:
        super().__init__()
        self.key = key
        self.timestamps = timestamps

    def process(self, value: Any, timestamp: Any = beam.DoFn.TimestampParam) -> None:
        SINK[self.key].append((value, timestamp) if self.timestamps else value)


def spec_for(kinesis: Any, stream: str, position: Optional[KinesisIngressStartupPosition] = None,
             deserializer: Any = None) -> KinesisIngressSpec:
    """An ingress spec reading ``stream`` of the local Kinesis, from the earliest record by default."""
    builder = (
        KinesisIngressBuilder.for_identifier("t/in")
        .with_aws_region(kinesis.region)
        .with_aws_credentials(kinesis.credentials)
        .with_stream(stream)
        .with_startup_position(position or KinesisIngressStartupPosition.from_earliest())
    )
    if deserializer is not None:
        builder = builder.with_deserializer(deserializer)
    return builder.build()
