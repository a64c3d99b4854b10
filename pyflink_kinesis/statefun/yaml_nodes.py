"""StateFun module YAML with line numbers: every mapping and list remembers where it stood, so errors name the
file, the line and the field path (``At``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

import yaml

from ..spec.errors import ConfigError, did_you_mean, one_of


class _Map(dict):  # type: ignore[type-arg]
    line = 0
    key_lines: dict[Any, int]


class _List(list):  # type: ignore[type-arg]
    line = 0
    item_lines: list[int]


class LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps line numbers, rejects duplicate keys and leaves dates as text."""


LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_map(loader: LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise ConfigError(
                f"duplicate key '{key}' (first at line {out.key_lines[key]})",
                file=loader.name,
                line=key_node.start_mark.line + 1,
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_list(loader: LineLoader, node: yaml.SequenceNode) -> _List:
    out = _List(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)


@dataclass(frozen=True)
class At:
    """A YAML value with where it came from, to validate it and raise located errors."""

    value: Any
    path: str
    file: str
    line: int

    def fail(self, message: str) -> ConfigError:
        return ConfigError(message, field=self.path, file=self.file, line=self.line)

    def mapping(self, allowed: set[str], required: set[str] = frozenset(), what: str = "") -> "At":  # type: ignore[assignment]
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping{what}, got {kind_name(self.value)}")
        for key in self.value:
            if key not in allowed:
                raise self.child(key).fail(
                    f"unknown key '{key}'{did_you_mean(str(key), allowed)}; expected {one_of(sorted(allowed))}"
                )
        for key in sorted(required):
            if key not in self.value:
                raise self.fail(f"missing required key '{key}'{what}")
        return self

    def child(self, key: Any) -> "At":
        lines = getattr(self.value, "key_lines", {})
        return At(self.value[key] if key in self.value else None, f"{self.path}.{key}" if self.path else str(key),
                   self.file, lines.get(key, self.line))

    def get(self, key: str) -> Optional["At"]:
        return self.child(key) if isinstance(self.value, dict) and key in self.value else None

    def items(self) -> Iterator["At"]:
        if not isinstance(self.value, list):
            raise self.fail(f"expected a list, got {kind_name(self.value)}")
        lines = getattr(self.value, "item_lines", [self.line] * len(self.value))
        for index, item in enumerate(self.value):
            yield At(item, f"{self.path}[{index}]", self.file, lines[index])

    def text(self) -> str:
        if isinstance(self.value, bool) or not isinstance(self.value, (str, int, float)) or self.value == "":
            raise self.fail(f"expected text, got {kind_name(self.value)}")
        return str(self.value)

    def type_name(self, choices: dict[str, Any], what: str) -> str:
        kind = self.mapping(set(self.value) if isinstance(self.value, dict) else set(), {"type"}, f" for {what}")
        name = kind.child("type").text()
        if name not in choices:
            raise kind.child("type").fail(
                f"unknown {what} type '{name}'{did_you_mean(name, choices)}; expected {one_of(choices)}"
            )
        return name

    def build(self, make: Callable[[], Any], fields: Optional[dict[str, str]] = None) -> Any:
        """Run an API constructor; its ConfigError is re-raised at this YAML location.

        Args:
            make: The constructor call.
            fields: API field names (``role_arn``) to YAML keys (``roleArn``) under this location,
                so an error about one field points at its own line.
        """
        try:
            return make()
        except ConfigError as e:
            if e.file is not None:  # already located in the YAML (raised by a nested At)
                raise
            key = (fields or {}).get(e.field or "")
            if key is not None and isinstance(self.value, dict) and key in self.value:
                raise self.child(key).fail(e.reason) from None
            raise self.fail(e.reason) from None


def kind_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


