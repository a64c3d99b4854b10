"""The engine-neutral spec: what to read or write and how to reach it, with no engine or tool imported.

Builders and specs (:mod:`.builders`), region, credentials, startup position, records, serde, errors,
client properties and their translation into the connector's keys, and boto3 clients. Beam, PyFlink and
the local tools build on this layer; it imports none of them.
"""

from .builders import (
    DEFAULT_MAX_OUTSTANDING_RECORDS,
    KinesisEgressBuilder,
    KinesisEgressSpec,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    Routing,
)

__all__ = [
    "DEFAULT_MAX_OUTSTANDING_RECORDS",
    "KinesisEgressBuilder",
    "KinesisEgressSpec",
    "KinesisIngressBuilder",
    "KinesisIngressSpec",
    "Routing",
]
