"""User code between Kinesis bytes and values: deserializers and serializers."""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable, Generic, Optional, TypeVar, Union

from .errors import ConfigError
from .records import EgressRecord, IngressRecord

T = TypeVar("T")


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
