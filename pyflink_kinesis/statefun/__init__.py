"""Apache Flink Stateful Functions compatibility: module YAML (:mod:`.module`) and wire formats (:mod:`.wire`).

The wire formats need protobuf only when used (``pip install 'pyflink-kinesis[statefun]'``).
"""

from .wire import (
    egress_record_from_bytes,
    egress_record_to_bytes,
    generic_egress_serializer,
    parse_typed_value,
    routable_typed_value,
    typed_value,
)

__all__ = [
    "egress_record_from_bytes",
    "egress_record_to_bytes",
    "generic_egress_serializer",
    "parse_typed_value",
    "routable_typed_value",
    "typed_value",
]
