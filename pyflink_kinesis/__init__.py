"""pyflink-kinesis: one Kinesis ingress/egress spec for PyFlink jobs, Flink SQL and Beam pipelines.

Configure once, in code (StateFun's builders in snake_case) or in StateFun module
YAML, and hand the same spec to every engine. Importing this package needs
neither PyFlink nor Beam.
"""

from .spec.application_properties import ApplicationProperties, PropertyGroup, load_application_properties
from .spec.credentials import AwsCredentials, Secret
from .spec.errors import ConfigError, ConfigWarning
from .spec.position import KinesisIngressStartupPosition, parse_date
from .spec.properties import masked
from .spec.records import EgressRecord, IngressRecord, RoutableMessage
from .spec.region import AwsRegion
from .spec.serde import KinesisEgressSerializer, KinesisIngressDeserializer
from .spec.builders import (
    KinesisEgressBuilder,
    KinesisEgressSpec,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    Routing,
)
from .statefun.module import KinesisModule, load_module

__version__ = "0.1.0"

__all__ = [
    "ApplicationProperties",
    "AwsCredentials",
    "AwsRegion",
    "ConfigError",
    "ConfigWarning",
    "EgressRecord",
    "IngressRecord",
    "KinesisEgressBuilder",
    "KinesisEgressSerializer",
    "KinesisEgressSpec",
    "KinesisIngressBuilder",
    "KinesisIngressDeserializer",
    "KinesisIngressSpec",
    "KinesisIngressStartupPosition",
    "KinesisModule",
    "PropertyGroup",
    "RoutableMessage",
    "Routing",
    "Secret",
    "load_application_properties",
    "load_module",
    "masked",
    "parse_date",
]
