"""User code between Kinesis bytes and values: deserializers and serializers."""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable, Generic, Optional, TypeVar, Union

from .errors import ConfigError
from .records import EgressRecord, IngressRecord, InvalidRecordError

T = TypeVar("T")
# What a reader does when the deserializer raises: fail the job or pipeline, or skip the record (counted).
ON_DESERIALIZE_ERROR = ("fail", "skip")


# Not ABCs: an ABC subclass defined in a job's ``__main__`` carries ``_abc_data``, which Beam's default
# pickler (dill) cannot pickle. A subclass missing the method is refused by :func:`as_function` instead.
class KinesisIngressDeserializer(Generic[T]):
    """Turns an :class:`IngressRecord` into a value; return ``None`` to skip the record (it is counted).

    Subclass it and implement :meth:`deserialize` (subclasses defined in a job's ``__main__`` pickle with
    dill, ``--save_main_session`` and cloudpickle).
    """

    def deserialize(self, record: IngressRecord) -> Optional[T]:
        """Return the value for ``record``, or ``None`` to skip it."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement deserialize()")


class KinesisEgressSerializer(Generic[T]):
    """Turns a value into an :class:`EgressRecord`; return ``None`` to skip the value (it is counted).

    Subclass it and implement :meth:`serialize` (subclasses defined in a job's ``__main__`` pickle with
    dill, ``--save_main_session`` and cloudpickle).
    """

    def serialize(self, value: T) -> Optional[EgressRecord]:
        """Return the record for ``value``, or ``None`` to skip it."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement serialize()")


_BASES = (KinesisIngressDeserializer, KinesisEgressSerializer)


DeserializerLike = Union[KinesisIngressDeserializer[Any], type, Callable[[IngressRecord], Any], str]
SerializerLike = Union[KinesisEgressSerializer[Any], type, Callable[[Any], Optional[EgressRecord]], str]


def import_object(path: str, field: str) -> Any:
    """Import ``"package.module:attr"`` (or ``"package.module.attr"``)."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ConfigError(f"expected an import path 'package.module:name', got '{path}'", field=field)
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"cannot import '{path}': {e}", field=field) from None
    return obj


def as_function(obj: Any, method: str, field: str) -> Optional[Callable[[Any], Any]]:
    """Normalize a class, an instance with ``method``, a callable or an import path into a function.

    A class is instantiated with no arguments. ``None`` stays ``None``.
    """
    if obj is None:
        return None
    if isinstance(obj, str):
        obj = import_object(obj, field)
    if inspect.isclass(obj):
        try:
            obj = obj()
        except TypeError as e:
            raise ConfigError(f"cannot instantiate {obj.__name__} with no arguments: {e}", field=field) from None
    bound = getattr(obj, method, None)
    if isinstance(obj, _BASES) and any(getattr(type(obj), method, None) is getattr(b, method, None) for b in _BASES):
        raise ConfigError(f"{type(obj).__qualname__} does not implement {method}()", field=field)
    if callable(bound):
        return bound
    if callable(obj):
        return obj
    raise ConfigError(
        f"expected a {method}() object, a class with {method}(), a callable or an import path, "
        f"got {type(obj).__name__}",
        field=field,
    )


class DeserializationError(RuntimeError):
    """The deserializer raised; the message names the stream, shard and sequence number of the record."""


class SerializationError(ValueError):
    """The egress serializer raised, or returned something that is not an EgressRecord or None."""


def record_location(record: IngressRecord) -> str:
    """Where a record is: ``stream S, shard I, sequence number N`` (and its sub-sequence number in an aggregate)."""
    where = f"stream {record.stream}, shard {record.shard_id}, sequence number {record.sequence_number}"
    if record.sub_sequence_number is not None:
        where += f", sub-sequence number {record.sub_sequence_number}"
    return where


def deserialization_error(ingress_id: str, record: IngressRecord, error: Exception) -> DeserializationError:
    """The error for a deserializer that raised on ``record``, naming the ingress and where the record is."""
    return DeserializationError(
        f"ingress {ingress_id}: the deserializer failed on the record at {record_location(record)}: "
        f"{type(error).__name__}: {error}"
    )


def _describe(value: Any, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real error
        text = "<unprintable>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def to_egress_record(egress_id: str, serializer: Optional[Callable[[Any], Any]], value: Any,
                     where: str) -> Optional[EgressRecord]:
    """Apply an egress's serializer to ``value``: an EgressRecord, or ``None`` to skip it.

    Without a serializer the value must itself be an EgressRecord (or None).

    Args:
        egress_id: The egress, for errors.
        serializer: The spec's serializer, or ``None``.
        value: The value to write.
        where: Which value this is, for errors (e.g. ``"value #3 of the bundle"``).

    Raises:
        InvalidRecordError: the serializer built a record Kinesis would refuse.
        SerializationError: the serializer raised or returned something else than an EgressRecord or None.
    """
    if serializer is None:
        record = value
    else:
        try:
            record = serializer(value)
        except InvalidRecordError:
            raise  # a record Kinesis would refuse: the caller fails or dead-letters it alone
        except Exception as e:
            raise SerializationError(
                f"egress {egress_id}: the serializer failed on {where} "
                f"(type {type(value).__module__}.{type(value).__qualname__}, {_describe(value)}): "
                f"{type(e).__name__}: {e}"
            ) from e
    if record is not None and not isinstance(record, EgressRecord):
        what = "the serializer returned" if serializer is not None else "the egress has no serializer and got"
        raise SerializationError(
            f"egress {egress_id}: {what} {type(record).__qualname__} for {where} "
            f"(type {type(value).__qualname__}); expected an EgressRecord or None"
        )
    return record
