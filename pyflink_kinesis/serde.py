"""User code between Kinesis bytes and values: deserializers and serializers."""

from __future__ import annotations

import importlib
import inspect
from abc import ABC, abstractmethod
from typing import Any, Callable, Generic, Optional, TypeVar, Union

from .errors import ConfigError
from .records import EgressRecord, IngressRecord

T = TypeVar("T")


class KinesisIngressDeserializer(ABC, Generic[T]):
    """Turns an :class:`IngressRecord` into a value; return ``None`` to skip the record (it is counted)."""

    @abstractmethod
    def deserialize(self, record: IngressRecord) -> Optional[T]:
        """Return the value for ``record``, or ``None`` to skip it."""


class KinesisEgressSerializer(ABC, Generic[T]):
    """Turns a value into an :class:`EgressRecord`; return ``None`` to skip the value (it is counted)."""

    @abstractmethod
    def serialize(self, value: T) -> Optional[EgressRecord]:
        """Return the record for ``value``, or ``None`` to skip it."""


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
    if callable(bound):
        return bound
    if callable(obj):
        return obj
    raise ConfigError(
        f"expected a {method}() object, a class with {method}(), a callable or an import path, "
        f"got {type(obj).__name__}",
        field=field,
    )
