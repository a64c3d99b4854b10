"""The one registry of configuration keys: ``keys.json`` beside this module, also packaged into the connector jar.

Every key is declared there once: the connector's ``aws.*`` / ``source.*`` / ``sink.*`` keys, the SQL table
options, the AWS SDK v1 names StateFun users have, and the Beam transforms' own arguments. An entry says
its type, default, unit, which paths honour it (``beam``: the Beam transforms, ``flink``: this project's
Flink connector from PyFlink, ``sql``: its SQL table, ``official-sql``: the official ``kinesis`` table) and
why the others do not. Fields of an entry in ``keys.json``:

- ``key`` (or ``names``: several keys sharing the other fields), ``kind`` (``connector``, ``table``,
  ``sdk-v1``, ``beam``), ``type`` (``string``, ``int``, ``float``, ``bool``, ``duration``, ``bytes``,
  ``enum`` with ``choices``), ``default`` (as text), ``unit``, ``meaning``, ``note``;
- ``honoured``: the paths that act on it; ``elsewhere``: ``{path or "*": why}`` what a ConfigWarning says
  elsewhere;
- ``defaults``: ``{path: default}`` where a path's default differs, with ``why``; ``jar_default``: the Java
  connector's own default where every Python path sets the key itself; ``as``: ``{path: value}`` the value
  a path behaves as although it does not read the key (no warning for it);
- ``beam_argument``: the Beam transform argument the key sets; ``flink_key``, ``botocore``,
  ``botocore_scale``: where an SDK v1 name goes; ``relative``: a credential sub-key, also nested under
  ``aws.credentials.provider.role.provider``; ``secret``: never shown.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

from .errors import ConfigError, ConfigWarning, user_stacklevel

REGISTRY_FILE = Path(__file__).with_name("keys.json")
PATHS = ("beam", "flink", "sql", "official-sql")
PREFIXES = ("aws.", "source.", "sink.")
PROVIDER = "aws.credentials.provider"
EMULATOR = "aws.emulator"
_NESTED = re.compile(r"^aws\.credentials\.provider(\.role\.provider)+(?=\.|$)")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|milli|millis|s|sec|secs|second|seconds|min|m|minute|minutes|h|hour"
                       r"|hours)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "milli": 0.001, "millis": 0.001, "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0,
                 "seconds": 1.0, "min": 60.0, "m": 60.0, "minute": 60.0, "minutes": 60.0, "h": 3600.0,
                 "hour": 3600.0, "hours": 3600.0}
_BYTES = re.compile(r"^\s*(\d+)\s*(b|bytes|k|kb|kibibytes|m|mb|mebibytes|g|gb|gibibytes)?\s*$", re.IGNORECASE)
_UNIT_BYTES = {"b": 1, "bytes": 1, "k": 1024, "kb": 1024, "kibibytes": 1024, "m": 1024 ** 2, "mb": 1024 ** 2,
               "mebibytes": 1024 ** 2, "g": 1024 ** 3, "gb": 1024 ** 3, "gibibytes": 1024 ** 3}


def _measure(text: str, field: str, pattern: Any, units: Mapping[str, float], unit: str, expected: str) -> float:
    """A number with an optional unit from ``units`` (``unit`` when none is written), in the units' base."""
    match = pattern.match(text)
    if not match:
        raise ConfigError(f"expected {expected}, got '{text}'", field=field)
    return float(match.group(1)) * units[(match.group(2) or unit).lower()]


def duration_seconds(text: str, field: str) -> float:
    """A Flink duration (``"250 ms"``, ``"10 s"``, ``"1 min"``, or plain milliseconds) in seconds.

    Args:
        text: The duration as written.
        field: The field to name in the error.
    """
    return _measure(text, field, _DURATION, _UNIT_SECONDS, "ms",
                    "a duration such as '500 ms', '10 s' or a number of milliseconds")


def size_bytes(text: str, field: str) -> int:
    """A Flink memory size (``"5242880"``, ``"5 mb"``, ``"512 kb"``; units of 1024) in bytes."""
    return int(_measure(text, field, _BYTES, _UNIT_BYTES, "b", "a size in bytes such as '5242880' or '5 mb'"))


def _convert(text: str, field: str, kind: Callable[[str], Any], expected: str) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        raise ConfigError(f"expected {expected}, got '{text}'", field=field) from None


def whole_number(text: str, field: str) -> int:
    """A property's text as a whole number; ``field`` is named in the error."""
    return int(_convert(text, field, int, "a whole number"))


def _number(text: str, field: str) -> float:
    return float(_convert(text, field, float, "a number"))


def _truth(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(text)
    return text.lower() == "true"


def _boolean(text: str, field: str) -> bool:
    return bool(_convert(text, field, _truth, "true or false"))


_PARSERS = {"int": whole_number, "float": _number, "bool": _boolean, "duration": duration_seconds,
            "bytes": size_bytes}


@dataclass(frozen=True)
class Key:
    """One key of the registry; see the module docstring for its fields."""

    name: str
    kind: str
    type: str
    meaning: str
    honoured: frozenset
    default: Optional[str] = None
    unit: Optional[str] = None
    choices: Tuple[str, ...] = ()
    elsewhere: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    why: Optional[str] = None
    jar_default: Optional[str] = None
    behaves_as: Mapping[str, str] = field(default_factory=dict)
    beam_argument: Optional[str] = None
    flink_key: Optional[str] = None
    botocore: Optional[str] = None
    botocore_scale: float = 1.0
    relative: bool = False
    secret: bool = False
    note: Optional[str] = None

    def honoured_by(self, path: str) -> bool:
        """True if ``path`` acts on this key."""
        return path in self.honoured

    def default_for(self, path: str) -> Optional[str]:
        """The default on ``path``, as text."""
        return self.defaults.get(path, self.default)

    def why_not(self, path: str) -> str:
        """Why ``path`` does not act on this key, for a ConfigWarning."""
        return self.elsewhere.get(path) or self.elsewhere.get("*") or f"not read by the {path_name(path)}"

    def asks_nothing(self, path: str, value: str) -> bool:
        """True if ``value`` is what ``path`` does anyway (an enum at the value it behaves as): no warning due."""
        expected = self.behaves_as.get(path, self.default)
        return self.type == "enum" and expected is not None and _enum_text(value) == _enum_text(expected)

    def parse(self, text: str, field: str) -> Any:
        """``text`` as this key's type (seconds for durations, bytes for sizes); ``field`` is named in errors."""
        if self.type == "enum":
            for choice in self.choices:
                if _enum_text(choice) == _enum_text(text):
                    return choice
            listed = ", ".join(self.choices[:-1]) + " or " + self.choices[-1]
            raise ConfigError(f"expected {listed}, got '{text}'", field=field)
        parse = _PARSERS.get(self.type)
        return parse(text, field) if parse else text

    def read(self, props: Mapping[str, str], path: str) -> Any:
        """This key's value in client properties ``props`` as its type, else its default on ``path``."""
        if self.name in props:
            return self.parse(props[self.name], f"client_properties.{self.name}")
        return self.default_value(path)

    def default_value(self, path: str) -> Any:
        """The default on ``path`` as this key's type (``None`` without one)."""
        text = self.default_for(path)
        return None if text is None else self.parse(text, self.name)

    @property
    def maps_anywhere(self) -> bool:
        """False for a key that no path acts on and that maps to nothing: a warning as soon as it is given."""
        return bool(self.honoured or self.flink_key or self.botocore)


def _enum_text(text: str) -> str:
    return text.strip().upper().replace("-", "_")


def _entry_keys(entry: Dict[str, Any]) -> Iterable[Key]:
    names = entry.pop("names", None) or [entry.pop("key")]
    entry.pop("key", None)
    entry["honoured"] = frozenset(entry.get("honoured", ()))
    entry["choices"] = tuple(entry.get("choices", ()))
    entry["behaves_as"] = entry.pop("as", {})
    unknown = set(entry) - {f.name for f in fields(Key)}
    if unknown:
        raise ValueError(f"{REGISTRY_FILE.name}: '{names[0]}' has unknown fields {sorted(unknown)}")
    for name in names:
        yield Key(name=name, **entry)


@lru_cache(maxsize=None)
def _load() -> Tuple[Dict[str, Any], Dict[str, Key]]:
    data = json.loads(REGISTRY_FILE.read_text(encoding="utf-8"))
    found: Dict[str, Key] = {}
    for entry in data["keys"]:
        for key in _entry_keys(dict(entry)):
            if key.name in found:
                raise ValueError(f"{REGISTRY_FILE.name}: '{key.name}' is declared twice")
            unknown = (set(key.honoured) | set(key.defaults)) - set(PATHS)
            if unknown:
                raise ValueError(f"{REGISTRY_FILE.name}: '{key.name}' names unknown paths {sorted(unknown)}")
            found[key.name] = key
    return data["paths"], found


def path_name(path: str) -> str:
    """What a path is called in messages, e.g. ``"PyFlink connector"``."""
    return str(_load()[0][path]["name"])


def canonical(name: str) -> str:
    """The registry's name of ``name``: a credential sub-key nested under ``.role.provider`` (the credentials
    that assume a role) is the same key as at the top."""
    return _NESTED.sub(PROVIDER, name)


def lookup(name: str) -> Optional[Key]:
    """The registry entry of ``name``, or ``None`` if it is not a known key."""
    key = _load()[1].get(name)
    if key is None and name.startswith(PROVIDER + "."):
        key = _load()[1].get(canonical(name))
        if key is not None and not key.relative:
            return None
    return key


def all_keys(kind: Optional[str] = None) -> Tuple[Key, ...]:
    """Every key of the registry (of one ``kind`` if given), in the file's order."""
    return tuple(k for k in _load()[1].values() if kind is None or k.kind == kind)


def default_of(name: str, path: str) -> Any:
    """The default of key ``name`` on ``path``, as its type (``KeyError`` for a key not in the registry)."""
    key = lookup(name)
    if key is None:
        raise KeyError(name)
    return key.default_value(path)


def beam_default(argument: str) -> Any:
    """The Beam default of a transform argument: its own entry's, or that of the key it sets."""
    for key in all_keys():
        if argument in (key.beam_argument, key.name if key.kind == "beam" else None):
            return key.default_value("beam")
    raise KeyError(argument)


def unhonoured(keys: Iterable[Tuple[str, str]], path: str) -> Dict[str, str]:
    """The given ``(key, value)`` pairs that ``path`` does not act on, with why; unknown keys are not named
    (validation already refused the ``source.*`` / ``sink.*`` ones), nor values that ask for nothing."""
    out: Dict[str, str] = {}
    for name, value in keys:
        key = lookup(name)
        if key is not None and key.maps_anywhere and not key.honoured_by(path) and not key.asks_nothing(path, value):
            out[name] = key.why_not(path)
    return out


def drop_unhonoured(spec: Any, props: Mapping[str, str], path: str, message: Callable[[str, str], str]
                    ) -> Dict[str, str]:
    """``props`` (what ``spec`` translates to) without the keys ``path`` does not act on; a ConfigWarning
    with ``message(key, why)`` names each (the spec's client properties are named as the user wrote them).

    Args:
        spec: An ingress or egress spec (its ``client_properties`` are checked too).
        props: The translated properties to hand to ``path``.
        path: One of :data:`PATHS`.
        message: Makes the warning's text from the key and the registry's reason.
    """
    reasons = unhonoured({**props, **dict(spec.client_properties)}.items(), path)
    for key, why in reasons.items():
        warnings.warn(message(key, why), ConfigWarning, stacklevel=user_stacklevel())
    return {k: v for k, v in props.items() if k not in reasons}


def declares_emulator(props: Mapping[str, str]) -> bool:
    """True when the merged properties declare the endpoint a local emulator (``aws.emulator`` = true)."""
    return str(props.get(EMULATOR, "false")).strip().lower() == "true"


__all__ = ["EMULATOR", "PATHS", "Key", "all_keys", "beam_default", "canonical", "declares_emulator", "default_of",
           "drop_unhonoured", "duration_seconds", "lookup", "path_name", "size_bytes", "unhonoured", "whole_number"]
