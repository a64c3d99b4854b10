"""Load Kinesis ingresses and egresses from StateFun module YAML (formats 1.0, 2.0, 3.0 and 3.1+).

Every error names the file, the line and the field path, and says what was
expected; misspelled keys get a did-you-mean instead of being ignored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from ..spec.builders import KinesisEgressSpec, KinesisIngressSpec, check_identifier
from ..spec.errors import ConfigError, did_you_mean, one_of
from .fields import (
    EGRESS_KINDS,
    INGRESS_KINDS,
    KINESIS_KIND_PREFIXES,
    MODULE_SPEC_KEYS,
    NESTED_VERSIONS,
    parse_egress,
    parse_ingress,
)
from .yaml_nodes import At, LineLoader, kind_name

@dataclass(frozen=True)
class KinesisModule:
    """The Kinesis ingresses and egresses of a StateFun module.

    Attributes:
        ingresses: Ingress specs keyed by ``"namespace/name"``.
        egresses: Egress specs keyed by ``"namespace/name"``.
        source: The file (or ``<string>``) it was loaded from.
        ignored: Components of other kinds (functions, Kafka, ...) that were skipped, as ``(kind, line)``.
    """

    ingresses: dict[str, KinesisIngressSpec] = field(default_factory=dict)
    egresses: dict[str, KinesisEgressSpec] = field(default_factory=dict)
    source: str = "<string>"
    ignored: tuple[tuple[str, int], ...] = ()


class _ModuleBuilder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.ingresses: dict[str, KinesisIngressSpec] = {}
        self.egresses: dict[str, KinesisEgressSpec] = {}
        self.ignored: list[tuple[str, int]] = []

    def add(self, kind_at: At, id_at: At, spec_at: At) -> None:
        kind = kind_at.text()
        if kind not in INGRESS_KINDS and kind not in EGRESS_KINDS:
            if kind.startswith(KINESIS_KIND_PREFIXES):
                raise kind_at.fail(
                    f"unknown Kinesis component type '{kind}'"
                    f"{did_you_mean(kind, list(INGRESS_KINDS) + sorted(EGRESS_KINDS))}"
                )
            self.ignored.append((kind, kind_at.line))
            return
        identifier = id_at.build(lambda: check_identifier(id_at.text()))
        target = self.ingresses if kind in INGRESS_KINDS else self.egresses
        if identifier in target:
            raise id_at.fail(f"duplicate id '{identifier}'")
        if kind in INGRESS_KINDS:
            target[identifier] = parse_ingress(spec_at, identifier, kind)  # type: ignore[assignment]
        else:
            target[identifier] = parse_egress(spec_at, identifier)  # type: ignore[assignment]

    def nested(self, root: At) -> None:
        """Formats 1.0, 2.0 and 3.0: module.spec.ingresses[].ingress{meta{type,id}, spec}."""
        root.mapping({"version", "module"}, {"version", "module"}, " of a StateFun module")
        module = root.child("module").mapping({"meta", "spec"}, {"spec"})
        spec = module.child("spec").mapping(MODULE_SPEC_KEYS, set(), " of a module spec")
        for plural, singular in (("ingresses", "ingress"), ("egresses", "egress")):
            if plural not in spec.value:
                continue
            for item in spec.child(plural).items():
                component = item.mapping({singular}, {singular}).child(singular)
                component.mapping({"meta", "spec"}, {"meta", "spec"}, f" of an {singular}")
                meta = component.child("meta").mapping({"type", "id"}, {"type", "id"})
                self.add(meta.child("type"), meta.child("id"), component.child("spec"))

    def document(self, doc: At) -> None:
        """Format 3.1+: one component per document, ``kind`` plus ``spec`` with ``spec.id``."""
        if not isinstance(doc.value, dict) or "kind" not in doc.value:
            raise doc.fail(
                "expected a StateFun module: 'version' and 'module' (formats 1.0 to 3.0), "
                "or documents with 'kind' and 'spec' (3.1+)"
            )
        kind = doc.child("kind")
        if kind.text() not in INGRESS_KINDS and kind.text() not in EGRESS_KINDS and not kind.text().startswith(KINESIS_KIND_PREFIXES):
            self.ignored.append((kind.text(), kind.line))
            return
        doc.mapping({"kind", "spec"}, {"kind", "spec"}, " of a component")
        spec_at = doc.child("spec")
        if not isinstance(spec_at.value, dict):
            raise spec_at.fail(f"expected a mapping of the component's settings (with 'id'), got {kind_name(spec_at.value)}")
        spec = spec_at.mapping(set(spec_at.value), {"id"}, " of a component")
        self.add(kind, spec.child("id"), spec)

    def build(self) -> KinesisModule:
        return KinesisModule(self.ingresses, self.egresses, self.source, tuple(self.ignored))


def load_module(path_or_yaml_text: Union[str, "os.PathLike[str]"]) -> KinesisModule:
    """Load the Kinesis ingresses and egresses of a StateFun module.

    Args:
        path_or_yaml_text: The YAML text itself, or a path to a YAML file. A ``str`` with a line break is
            YAML text; any other ``str``, and any ``os.PathLike`` (``pathlib.Path``), is a file path.
            Nothing is guessed from file existence, colons or extensions: a missing file is an error.

    Returns:
        A :class:`KinesisModule` with ``.ingresses`` and ``.egresses`` keyed by ``"namespace/name"``.

    Raises:
        ConfigError: naming the file, the line, the field and what was expected.
    """
    text, source = _read(path_or_yaml_text)
    loader = LineLoader(text)
    loader.name = source
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(e, 'problem', e)}", file=source,
                          line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    documents = [d for d in documents if d is not None]
    module = _ModuleBuilder(source)
    if not documents:
        raise ConfigError("the module is empty", file=source, line=1)
    first = documents[0]
    version = first.get("version") if isinstance(first, dict) else None
    if len(documents) == 1 and version is not None:
        version_at = At(first, "", source, first.line).child("version")
        if str(version) not in NESTED_VERSIONS:
            raise version_at.fail(
                f"unsupported module version '{version}'; expected {one_of(NESTED_VERSIONS)}, "
                "or 3.1+ documents with 'kind'"
            )
        module.nested(At(first, "", source, first.line))
    else:
        for index, doc in enumerate(documents):
            module.document(At(doc, f"document[{index}]", source, getattr(doc, "line", 1)))
    return module.build()


def resolve_spec(spec_or_id: Any, module: Any, kind: str) -> Any:
    """The spec an engine was given: a spec itself, or the id of an ingress/egress of ``module``.

    Args:
        spec_or_id: A :class:`KinesisIngressSpec` / :class:`KinesisEgressSpec`, or its ``"namespace/name"``.
        module: A loaded module (anything with ``ingresses``/``egresses`` dicts) or a module YAML path;
            needed only for an id.
        kind: ``"ingress"`` or ``"egress"``.
    """
    spec_type = KinesisIngressSpec if kind == "ingress" else KinesisEgressSpec
    plural = "ingresses" if kind == "ingress" else "egresses"
    if isinstance(spec_or_id, spec_type):
        return spec_or_id
    if not isinstance(spec_or_id, str):
        raise ConfigError(f"expected a {spec_type.__name__} or an {kind} id, got {type(spec_or_id).__name__}", field=kind)
    if module is None:
        raise ConfigError(f"{kind} id '{spec_or_id}' needs module= (a loaded module or a module YAML path)", field="module")
    if isinstance(module, (str, os.PathLike)):
        module = load_module(module)
    specs = getattr(module, plural, None)
    if not isinstance(specs, dict):
        raise ConfigError(f"expected a module with an '{plural}' dict, got {type(module).__name__}", field="module")
    spec = specs.get(spec_or_id)
    if spec is None:
        known = ", ".join(sorted(specs)) or "none"
        raise ConfigError(f"no {kind} '{spec_or_id}' in the module{did_you_mean(spec_or_id, specs)} ({plural}: {known})",
                          field=kind)
    if not isinstance(spec, spec_type):
        raise ConfigError(f"'{spec_or_id}' is a {type(spec).__name__}, not a Kinesis {kind}", field=kind)
    return spec


def _read(path_or_text: Union[str, "os.PathLike[str]"]) -> tuple[str, str]:
    """The module's text and its source name; see :func:`load_module` for how a path is told from text."""
    if isinstance(path_or_text, str) and "\n" in path_or_text:
        return path_or_text, "<string>"
    if not isinstance(path_or_text, (str, os.PathLike)):
        raise ConfigError(f"expected a file path or YAML text, got {type(path_or_text).__name__}",
                          field="path_or_yaml_text")
    path = Path(path_or_text)
    try:
        data = path.read_bytes()
    except OSError as e:
        hint = ""
        if isinstance(path_or_text, str):
            hint = " (a str without a line break is a file path; YAML text has at least one line break)"
        raise ConfigError(f"cannot read the module file: {e.strerror}{hint}", file=str(path)) from None
    try:
        return data.decode("utf-8"), str(path)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"not UTF-8 text: byte 0x{data[e.start]:02x} at offset {e.start} cannot be decoded; "
                          "save the module as UTF-8", file=str(path), line=line) from None
