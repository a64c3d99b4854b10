"""StateFun's wire formats: the generic egress's ``KinesisEgressRecord`` and 3.x's ``TypedValue``.

The messages are built at run time from the definitions in ``pyflink_kinesis/statefun/proto/`` with the
installed protobuf runtime (no generated code, so no protobuf version is imposed on users).
"""

from __future__ import annotations

import functools
from typing import Any, Optional

from ..spec.errors import ConfigError
from ..spec.records import EgressRecord, RoutableMessage

EGRESS_RECORD_TYPENAME = "type.googleapis.com/io.statefun.sdk.egress.KinesisEgressRecord"
# (package, message, [(field, number, type)]); types are FieldDescriptorProto.Type values.
_STRING, _BOOL, _BYTES = 9, 8, 12
_MESSAGES = {
    "KinesisEgressRecord": ("io.statefun.sdk.egress", [
        ("partition_key", 1, _STRING), ("value_bytes", 2, _BYTES), ("stream", 3, _STRING),
        ("explicit_hash_key", 4, _STRING),
    ]),
    "TypedValue": ("io.statefun.sdk.reqreply", [("typename", 1, _STRING), ("has_value", 2, _BOOL), ("value", 3, _BYTES)]),
}


@functools.lru_cache(maxsize=None)
def message_class(name: str) -> Any:
    """The protobuf message class ``KinesisEgressRecord`` or ``TypedValue``."""
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:
        raise ImportError("StateFun payloads need protobuf: pip install 'pyflink-kinesis[statefun]'") from None
    package, fields = _MESSAGES[name]
    file = descriptor_pb2.FileDescriptorProto(name=f"pyflink_kinesis/{name}.proto", package=package, syntax="proto3")
    message = file.message_type.add(name=name)
    for field, number, kind in fields:
        message.field.add(name=field, number=number, type=kind, label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    descriptor = pool.FindMessageTypeByName(f"{package}.{name}")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)  # protobuf < 4.21


def egress_record_to_bytes(record: EgressRecord) -> bytes:
    """Encode an EgressRecord as StateFun's ``KinesisEgressRecord``."""
    message = message_class("KinesisEgressRecord")(
        partition_key=record.partition_key, value_bytes=record.data, stream=record.stream,
        explicit_hash_key=record.explicit_hash_key or "",
    )
    return bytes(message.SerializeToString())


def egress_record_from_bytes(data: bytes) -> EgressRecord:
    """Decode StateFun's ``KinesisEgressRecord`` (bare, or inside a 3.x ``TypedValue``).

    Raises:
        ConfigError: when the bytes are not such a message or lack its stream or partition key.
    """
    typename, value = parse_typed_value(data)
    if typename == EGRESS_RECORD_TYPENAME:
        data = value or b""
    try:
        message = message_class("KinesisEgressRecord").FromString(data)
    except Exception as e:  # protobuf's DecodeError
        raise ConfigError(f"not a KinesisEgressRecord protobuf: {e}", field="KinesisEgressRecord") from None
    return EgressRecord(
        message.value_bytes, stream=message.stream, partition_key=message.partition_key,
        explicit_hash_key=message.explicit_hash_key or None,
    )


def typed_value(typename: str, value: Optional[bytes]) -> bytes:
    """Encode a StateFun 3.x ``TypedValue`` (``None``: no value)."""
    message = message_class("TypedValue")(typename=typename, has_value=value is not None, value=value or b"")
    return bytes(message.SerializeToString())


def parse_typed_value(data: bytes) -> tuple[str, Optional[bytes]]:
    """Decode a StateFun 3.x ``TypedValue`` into ``(typename, value or None)``; ``("", None)`` if it is not one."""
    try:
        message = message_class("TypedValue").FromString(data)
    except Exception:  # not a TypedValue
        return "", None
    return message.typename, (message.value if message.has_value else None)


def routable_typed_value(message: RoutableMessage) -> bytes:
    """A routable ingress message's payload as StateFun 3.x delivers it: a ``TypedValue``."""
    return typed_value(message.type_url, message.payload)


def generic_egress_serializer(value: Any) -> EgressRecord:
    """The serializer of a StateFun generic egress: EgressRecords pass, bytes are a ``KinesisEgressRecord``."""
    if isinstance(value, EgressRecord):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return egress_record_from_bytes(bytes(value))
    raise ConfigError(
        f"a generic egress takes EgressRecords or KinesisEgressRecord protobuf bytes, got {type(value).__name__}",
        field="serializer",
    )
