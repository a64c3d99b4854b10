"""Load Kinesis ingresses and egresses from StateFun module YAML (formats 1.0, 2.0, 3.0 and 3.1+).

Every error names the file, the line and the field path, and says what was
expected; misspelled keys get a did-you-mean instead of being ignored.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

import yaml

from ..spec.credentials import AwsCredentials
from ..spec.errors import ConfigError, ConfigWarning, did_you_mean, one_of, user_stacklevel
from ..spec.position import KinesisIngressStartupPosition, parse_date
from ..spec.region import AwsRegion
from .wire import generic_egress_serializer
from ..spec.builders import (
    KinesisEgressBuilder,
    KinesisEgressSpec,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    check_identifier,
)

INGRESS_KINDS = {
    "statefun.kinesis.io/routable-protobuf-ingress": "typeUrl",
    "io.statefun.kinesis/ingress": "valueType",
    "io.statefun.kinesis.v1/ingress": "valueType",
}
EGRESS_KINDS = {"statefun.kinesis.io/generic-egress", "io.statefun.kinesis/egress", "io.statefun.kinesis.v1/egress"}
KINESIS_KIND_PREFIXES = ("statefun.kinesis", "io.statefun.kinesis")
NESTED_VERSIONS = ("1.0", "2.0", "3.0")

_AWS_KEYS = {"awsRegion", "awsCredentials", "clientConfigProperties"}
INGRESS_SPEC_KEYS = _AWS_KEYS | {"startupPosition", "streams", "deserializer", "id"}
EGRESS_SPEC_KEYS = _AWS_KEYS | {"maxOutstandingRecords", "serializer", "id"}
REGION_KEYS = {"default": set(), "specific": {"id"}, "custom-endpoint": {"endpoint", "id"}}
CREDENTIAL_KEYS = {
    "default": (set(), set()),
    "basic": ({"accessKeyId", "secretAccessKey"}, set()),
    "profile": ({"profileName"}, {"profilePath"}),
    "assume-role": ({"roleArn", "roleSessionName"}, {"externalId", "source"}),
    "web-identity": ({"roleArn", "webIdentityTokenFile"}, {"roleSessionName"}),
}
POSITION_KEYS = {"latest": set(), "earliest": set(), "date": {"date"}}
CREDENTIAL_FIELDS = {
    "access_key_id": "accessKeyId",
    "secret_access_key": "secretAccessKey",
    "profile_name": "profileName",
    "profile_path": "profilePath",
    "role_arn": "roleArn",
    "role_session_name": "roleSessionName",
    "external_id": "externalId",
    "web_identity_token_file": "webIdentityTokenFile",
    "source": "source",
}
# What else a 1.0-3.0 module's spec may hold besides Kinesis components (skipped, not errors).
MODULE_SPEC_KEYS = {"ingresses", "egresses", "functions", "routers", "endpoints"}


# --- YAML with line numbers ----------------------------------------------------------------------


class _Map(dict):  # type: ignore[type-arg]
    line = 0
    key_lines: dict[Any, int]


class _List(list):  # type: ignore[type-arg]
    line = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps line numbers, rejects duplicate keys and leaves dates as text."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
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


def _construct_list(loader: _Loader, node: yaml.SequenceNode) -> _List:
    out = _List(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)


@dataclass(frozen=True)
class _At:
    """A YAML value with where it came from, to validate it and raise located errors."""

    value: Any
    path: str
    file: str
    line: int

    def fail(self, message: str) -> ConfigError:
        return ConfigError(message, field=self.path, file=self.file, line=self.line)

    def mapping(self, allowed: set[str], required: set[str] = frozenset(), what: str = "") -> "_At":  # type: ignore[assignment]
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping{what}, got {_kind(self.value)}")
        for key in self.value:
            if key not in allowed:
                raise self.child(key).fail(
                    f"unknown key '{key}'{did_you_mean(str(key), allowed)}; expected {one_of(sorted(allowed))}"
                )
        for key in sorted(required):
            if key not in self.value:
                raise self.fail(f"missing required key '{key}'{what}")
        return self

    def child(self, key: Any) -> "_At":
        lines = getattr(self.value, "key_lines", {})
        return _At(self.value[key] if key in self.value else None, f"{self.path}.{key}" if self.path else str(key),
                   self.file, lines.get(key, self.line))

    def get(self, key: str) -> Optional["_At"]:
        return self.child(key) if isinstance(self.value, dict) and key in self.value else None

    def items(self) -> Iterator["_At"]:
        if not isinstance(self.value, list):
            raise self.fail(f"expected a list, got {_kind(self.value)}")
        lines = getattr(self.value, "item_lines", [self.line] * len(self.value))
        for index, item in enumerate(self.value):
            yield _At(item, f"{self.path}[{index}]", self.file, lines[index])

    def text(self) -> str:
        if isinstance(self.value, bool) or not isinstance(self.value, (str, int, float)) or self.value == "":
            raise self.fail(f"expected text, got {_kind(self.value)}")
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
            if e.file is not None:  # already located in the YAML (raised by a nested _At)
                raise
            key = (fields or {}).get(e.field or "")
            if key is not None and isinstance(self.value, dict) and key in self.value:
                raise self.child(key).fail(e.reason) from None
            raise self.fail(e.reason) from None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


# --- Fields -------------------------------------------------------------------------------------


def parse_region(at: _At) -> AwsRegion:
    """``awsRegion``: default, specific{id} or custom-endpoint{endpoint, id}."""
    kind = at.type_name(REGION_KEYS, "region")
    at.mapping({"type"} | REGION_KEYS[kind], REGION_KEYS[kind], f" of a '{kind}' region")
    if kind == "default":
        return AwsRegion.from_default_provider_chain()
    region_id = at.child("id").text()
    if kind == "specific":
        return at.child("id").build(lambda: AwsRegion.of(region_id))
    endpoint = at.child("endpoint").text()
    at.child("endpoint").build(lambda: AwsRegion.of_custom_endpoint(endpoint, "us-east-1"))
    return at.child("id").build(lambda: AwsRegion.of_custom_endpoint(endpoint, region_id))


def parse_credentials(at: _At) -> AwsCredentials:
    """``awsCredentials``: default, basic, profile, assume-role or web-identity."""
    if isinstance(at.value, dict) and at.value.get("type") in REGION_KEYS and at.value.get("type") != "default":
        raise at.child("type").fail(
            f"'{at.value['type']}' is a region type, not a credentials type: move this block under 'awsRegion' "
            "(the StateFun documentation's region examples put it under awsCredentials by mistake)"
        )
    kind = at.type_name(CREDENTIAL_KEYS, "credentials")
    required, optional = CREDENTIAL_KEYS[kind]
    if kind == "basic" and isinstance(at.value, dict) and "profileName" in at.value:
        raise at.child("type").fail(
            "profileName/profilePath belong to 'type: profile', and basic credentials need accessKeyId and "
            "secretAccessKey: write 'type: profile' (the StateFun documentation's profile example says "
            "'type: basic' by mistake)"
        )
    at.mapping({"type"} | required | optional, required, f" of '{kind}' credentials")
    value = lambda key: at.child(key).text() if key in at.value else None  # noqa: E731
    if kind == "default":
        return AwsCredentials.from_default_provider_chain()
    if kind == "basic":
        return at.build(
            lambda: AwsCredentials.basic(value("accessKeyId"), value("secretAccessKey")), CREDENTIAL_FIELDS  # type: ignore[arg-type]
        )
    if kind == "profile":
        return at.build(
            lambda: AwsCredentials.profile(value("profileName"), value("profilePath")), CREDENTIAL_FIELDS  # type: ignore[arg-type]
        )
    if kind == "assume-role":
        source = parse_credentials(at.child("source")) if "source" in at.value else None
        return at.build(
            lambda: AwsCredentials.assume_role(value("roleArn"), value("roleSessionName"), value("externalId"), source),  # type: ignore[arg-type]
            CREDENTIAL_FIELDS,
        )
    return at.build(
        lambda: AwsCredentials.web_identity(value("roleArn"), value("webIdentityTokenFile"), value("roleSessionName")),  # type: ignore[arg-type]
        CREDENTIAL_FIELDS,
    )


def parse_startup_position(at: _At) -> KinesisIngressStartupPosition:
    """``startupPosition``: latest, earliest or date{date}."""
    kind = at.type_name(POSITION_KEYS, "startup position")
    at.mapping({"type"} | POSITION_KEYS[kind], POSITION_KEYS[kind], f" of a '{kind}' startup position")
    if kind == "latest":
        return KinesisIngressStartupPosition.from_latest()
    if kind == "earliest":
        return KinesisIngressStartupPosition.from_earliest()
    date_at = at.child("date")
    return date_at.build(lambda: KinesisIngressStartupPosition.from_date(parse_date(date_at.text())))


def parse_client_properties(at: _At, builder: Any) -> None:
    """``clientConfigProperties``: a list of single-entry maps (StateFun), or one mapping."""
    entries: list[tuple[_At, Any]] = []
    if isinstance(at.value, dict):
        entries = [(at.child(key), key) for key in at.value]
    else:
        for item in at.items():
            if not isinstance(item.value, dict) or len(item.value) != 1:
                raise item.fail(f"expected a single-entry mapping such as '- SocketTimeout: 9999', got {_kind(item.value)}")
            (key,) = item.value
            entries.append((item.child(key), key))
    for entry, key in entries:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            entry.build(lambda: builder.with_client_configuration_property(key, entry.value))
        for warning in caught:
            warnings.warn(f"{entry.file}:{entry.line}: {warning.message}", ConfigWarning, stacklevel=user_stacklevel())


def _common(at: _At, builder: Any) -> None:
    for key, parse, setter in (
        ("awsRegion", parse_region, builder.with_aws_region),
        ("awsCredentials", parse_credentials, builder.with_aws_credentials),
    ):
        if key in at.value:
            setter(parse(at.child(key)))
    if "clientConfigProperties" in at.value:
        parse_client_properties(at.child("clientConfigProperties"), builder)


def parse_ingress(at: _At, identifier: str, kind: str) -> KinesisIngressSpec:
    """One ingress spec mapping."""
    at.mapping(INGRESS_SPEC_KEYS, {"streams"}, " of a Kinesis ingress")
    builder = at.build(lambda: KinesisIngressBuilder.for_identifier(identifier))
    _common(at, builder)
    if "startupPosition" in at.value:
        builder.with_startup_position(parse_startup_position(at.child("startupPosition")))
    if "deserializer" in at.value:
        deserializer = at.child("deserializer")
        deserializer.build(lambda: builder.with_deserializer(deserializer.text()))
    type_key = INGRESS_KINDS[kind]
    streams = at.child("streams")
    if not streams.value:
        raise streams.fail("expected at least one stream")
    seen: dict[str, int] = {}

    def first_time(name: str, where: _At) -> None:
        if name in seen:
            raise where.fail(f"duplicate stream '{name}' (first at line {seen[name]})")
        seen[name] = where.line

    for item in streams.items():
        if isinstance(item.value, str) and "deserializer" in at.value:
            item.build(lambda: builder.with_stream(item.value))
            first_time(item.value, item)
            continue
        if isinstance(item.value, str):
            raise item.fail(
                f"a stream given by name alone ('{item.value}') needs a 'deserializer:' in the ingress spec; "
                f"otherwise write a routed stream: {{stream: {item.value}, {type_key}: ..., targets: [...]}}"
            )
        other = "typeUrl" if type_key == "valueType" else "valueType"
        if isinstance(item.value, dict) and other in item.value and type_key not in item.value:
            raise item.child(other).fail(f"format {kind} calls this key '{type_key}', not '{other}'")
        item.mapping({"stream", type_key, "targets"}, {"stream", type_key, "targets"}, " of a routed stream")
        targets = [t.build(lambda: check_identifier(t.text())) for t in item.child("targets").items()]
        stream, type_url = item.child("stream").text(), item.child(type_key).text()
        item.build(lambda: builder.with_routing(stream, type_url, targets), {"stream": "stream"})
        first_time(stream, item.child("stream"))
    return at.build(builder.build)


def parse_egress(at: _At, identifier: str) -> KinesisEgressSpec:
    """One egress spec mapping."""
    at.mapping(EGRESS_SPEC_KEYS, set(), " of a Kinesis egress")
    builder = at.build(lambda: KinesisEgressBuilder.for_identifier(identifier))
    _common(at, builder)
    if "maxOutstandingRecords" in at.value:
        limit = at.child("maxOutstandingRecords")
        limit.build(lambda: builder.with_max_outstanding_records(limit.value))
    if "serializer" in at.value:
        serializer = at.child("serializer")
        serializer.build(lambda: builder.with_serializer(serializer.text()))
    else:  # StateFun's generic egress: KinesisEgressRecord protobuf bytes (or EgressRecords)
        builder.with_serializer(generic_egress_serializer)
    return at.build(builder.build)


# --- Modules ------------------------------------------------------------------------------------


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

    def add(self, kind_at: _At, id_at: _At, spec_at: _At) -> None:
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

    def nested(self, root: _At) -> None:
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

    def document(self, doc: _At) -> None:
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
            raise spec_at.fail(f"expected a mapping of the component's settings (with 'id'), got {_kind(spec_at.value)}")
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
    loader = _Loader(text)
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
        version_at = _At(first, "", source, first.line).child("version")
        if str(version) not in NESTED_VERSIONS:
            raise version_at.fail(
                f"unsupported module version '{version}'; expected {one_of(NESTED_VERSIONS)}, "
                "or 3.1+ documents with 'kind'"
            )
        module.nested(_At(first, "", source, first.line))
    else:
        for index, doc in enumerate(documents):
            module.document(_At(doc, f"document[{index}]", source, getattr(doc, "line", 1)))
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
