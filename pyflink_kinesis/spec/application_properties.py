"""Runtime properties of Amazon Managed Service for Apache Flink (MSF): ingress and egress specs from
``application_properties.json``.

MSF hands an application its runtime properties as a JSON list of ``{"PropertyGroupId": ..., "PropertyMap":
{...}}`` in ``/etc/flink/application_properties.json``. A group whose map has ``kind: ingress`` or ``kind: egress``
describes a spec in flat keys: the Flink connector's own key names (``aws.region``, ``aws.endpoint``,
``aws.credentials.provider...``, ``source.*``, ``sink.*``, SDK v1 names) plus ``kind``, ``namespace``,
``streams``, ``deserializer`` and ``serializer``. Every other group is the job's own settings.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

from .errors import ConfigError, did_you_mean, one_of
from .properties import PROVIDER, credentials_from_properties, is_secret_key, masked
from .region import AwsRegion, check_endpoint
from .builders import KinesisEgressBuilder, KinesisEgressSpec, KinesisIngressBuilder, KinesisIngressSpec

MSF_PROPERTIES_FILE = "/etc/flink/application_properties.json"
LOCAL_PROPERTIES_FILE = "application_properties.json"
RUN_OPTIONS_GROUP = "kinesis.analytics.flink.run.options"
DEFAULT_NAMESPACE = "msf"
GROUP_ID = re.compile(r"^[a-zA-Z0-9_.-]{1,50}$")  # what MSF accepts as a PropertyGroupId
KINDS = ("ingress", "egress")
# Keys of a spec group that are not client properties of the connector.
SPEC_KEYS = {"ingress": ("kind", "namespace", "streams", "deserializer"),
             "egress": ("kind", "namespace", "serializer", "sink.requests.max-buffered")}
REGION_KEYS = ("aws.region", "aws.endpoint")
OTHER_DIRECTION = {"ingress": "sink.", "egress": "source."}
# Spec fields the builders name in their errors, to the group key that set them.
FIELD_KEYS = {"max_outstanding_records": "sink.requests.max-buffered", "id": "namespace"}
# Credential fields of the API to the connector's sub-keys of aws.credentials.provider.
CREDENTIAL_KEYS = {"access_key_id": "basic.accesskeyid", "secret_access_key": "basic.secretkey",
                   "profile_name": "profile.name", "profile_path": "profile.path", "role_arn": "role.arn",
                   "role_session_name": "role.sessionName", "external_id": "role.externalId",
                   "web_identity_token_file": "webIdentityToken.file", "source": "role.provider"}
CREDENTIAL_SUFFIXES = set(CREDENTIAL_KEYS.values()) | {"role.stsEndpoint", "custom.class"}


class PropertyGroup(dict):  # type: ignore[type-arg]
    """The ``PropertyMap`` of a group that is not a spec: a plain ``dict`` of text, printed with secrets masked."""

    def __repr__(self) -> str:
        return repr(masked(self))


@dataclass(frozen=True)
class ApplicationProperties:
    """What an ``application_properties.json`` describes.

    Attributes:
        ingresses: Ingress specs keyed by group id (the spec's id is ``namespace/group id``).
        egresses: Egress specs keyed by group id.
        groups: Every other group (the job's own settings, ``kinesis.analytics.flink.run.options``), by group id.
        source: The file read.
    """

    ingresses: dict[str, KinesisIngressSpec] = field(default_factory=dict)
    egresses: dict[str, KinesisEgressSpec] = field(default_factory=dict)
    groups: dict[str, PropertyGroup] = field(default_factory=dict)
    source: str = ""

    def group(self, group_id: str) -> PropertyGroup:
        """The plain group ``group_id``; a ConfigError naming the file and the groups there if it is missing."""
        if group_id not in self.groups:
            known = ", ".join(sorted(self.groups)) or "none"
            raise ConfigError(f"no property group '{group_id}'{did_you_mean(group_id, self.groups)} "
                              f"(plain groups: {known})", file=self.source)
        return self.groups[group_id]


def properties_file(path: Union[str, "os.PathLike[str]", None] = None) -> Path:
    """The file :func:`load_application_properties` reads: ``path``, else MSF's, else the one beside the main
    script (a local run)."""
    if path is not None:
        return Path(path)
    if os.path.isfile(MSF_PROPERTIES_FILE):
        return Path(MSF_PROPERTIES_FILE)
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    beside = Path(os.path.realpath(main_file)).parent if main_file else Path.cwd()
    local = beside / LOCAL_PROPERTIES_FILE
    if not local.is_file():
        raise ConfigError(f"no runtime properties: neither {MSF_PROPERTIES_FILE} (on the service) nor {local} "
                          "(beside the main script, for local runs) exists", file=str(local))
    return local


def load_application_properties(path: Union[str, "os.PathLike[str]", None] = None) -> ApplicationProperties:
    """Read MSF runtime properties and build the ingress and egress specs they describe.

    Args:
        path: The JSON file. Default: ``/etc/flink/application_properties.json`` when it exists (on the
            service), else ``application_properties.json`` beside the main script (local runs).

    Returns:
        :class:`ApplicationProperties`: ``ingresses`` and ``egresses`` keyed by group id, ``groups`` with the rest.

    Raises:
        ConfigError: naming the file, the group and the key (``file: group[key]: ...``) and what was expected.
    """
    source = properties_file(path)
    entries = _read(source)
    out = ApplicationProperties(source=str(source))
    for index, entry in enumerate(entries):
        group_id, values = _group(entry, index, str(source))
        if group_id in out.ingresses or group_id in out.egresses or group_id in out.groups:
            raise ConfigError(f"duplicate PropertyGroupId '{group_id}'", field=group_id, file=str(source))
        kind = values.get("kind")
        if kind is None:
            out.groups[group_id] = PropertyGroup(values)
        elif kind not in KINDS:
            raise ConfigError(f"expected {one_of(KINDS)}{did_you_mean(kind, KINDS)}, got '{kind}' (a group without "
                              "'kind' is the job's own settings)", field=f"{group_id}[kind]", file=str(source))
        else:
            specs: dict[str, Any] = out.ingresses if kind == "ingress" else out.egresses
            specs[group_id] = _spec(kind, group_id, values, str(source))
    return out


def _read(source: Path) -> list[Any]:
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read the runtime properties: {e.strerror}", file=str(source)) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=str(source)) from None
    try:
        entries = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as e:
        raise ConfigError(f"not valid JSON: {e}", file=str(source)) from None
    if not isinstance(entries, list):
        raise ConfigError(f"expected a JSON list of {{\"PropertyGroupId\", \"PropertyMap\"}}, got {_kind(entries)}",
                          file=str(source))
    return entries


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{key}'")
        out[key] = value
    return out


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", type(None): "null"}.get(type(value), type(value).__name__)


def _group(entry: Any, index: int, source: str) -> tuple[str, dict[str, str]]:
    """One list entry as ``(group id, map of text)``, checked as the service checks it."""
    where = f"[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"expected an object with PropertyGroupId and PropertyMap, got {_kind(entry)}",
                          field=where, file=source)
    unknown = sorted(set(entry) - {"PropertyGroupId", "PropertyMap"})
    if unknown:
        raise ConfigError(f"unknown key '{unknown[0]}'{did_you_mean(unknown[0], ['PropertyGroupId', 'PropertyMap'])}",
                          field=where, file=source)
    group_id = entry.get("PropertyGroupId")
    if not isinstance(group_id, str) or not GROUP_ID.match(group_id):
        raise ConfigError(f"expected a PropertyGroupId of 1 to 50 characters from a-z, A-Z, 0-9, '_', '.', '-' "
                          f"(what the service accepts), got {group_id!r}", field=f"{where}[PropertyGroupId]", file=source)
    values = entry.get("PropertyMap")
    if not isinstance(values, dict):
        raise ConfigError(f"expected an object of text values, got {_kind(values)}", field=f"{group_id}[PropertyMap]",
                          file=source)
    for key, value in values.items():
        if not isinstance(value, str) or not value:
            shown = "a secret value" if is_secret_key(key) else _kind(value) if not isinstance(value, str) else "''"
            raise ConfigError(f"expected a non-empty text value (the service keeps text only), got {shown}",
                              field=f"{group_id}[{key}]", file=source)
    return group_id, dict(values)


def _spec(kind: str, group_id: str, values: dict[str, str], source: str) -> Any:
    """The spec a ``kind: ingress|egress`` group describes; a ConfigError names the group and the key."""
    def run(key: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ConfigError as e:
            named = _key_of(e.field, key, values)
            reason = e.reason
            if named.startswith(PROVIDER + ".") and named not in values:
                reason = f"missing: {values.get(PROVIDER, 'these')} credentials need it"
            raise ConfigError(reason, field=f"{group_id}[{named}]", file=source) from None

    run("kind", lambda: _check_keys(kind, values))
    namespace = values.get("namespace", DEFAULT_NAMESPACE)
    builder_type = KinesisIngressBuilder if kind == "ingress" else KinesisEgressBuilder
    builder = run("namespace", lambda: builder_type.for_identifier(f"{namespace}/{group_id}"))
    if "aws.endpoint" in values:
        if "aws.region" not in values:
            raise ConfigError("aws.endpoint needs aws.region too: the region to sign requests for, e.g. us-east-1",
                              field=f"{group_id}[aws.endpoint]", file=source)
        run("aws.endpoint", lambda: check_endpoint(values["aws.endpoint"]))
        builder.with_aws_region(run("aws.region", lambda: AwsRegion.of_custom_endpoint(values["aws.endpoint"],
                                                                                      values["aws.region"])))
    elif "aws.region" in values:
        builder.with_aws_region(run("aws.region", lambda: AwsRegion.of(values["aws.region"])))
    if any(key.startswith(PROVIDER) for key in values):
        builder.with_aws_credentials(run(PROVIDER, lambda: credentials_from_properties(values)))
    for key, value in values.items():
        if key not in SPEC_KEYS[kind] and key not in REGION_KEYS and not key.startswith(PROVIDER):
            run(key, lambda: builder.with_client_configuration_property(key, value))
    if kind == "ingress":
        run("streams", lambda: builder.with_streams(_streams(values.get("streams", ""))))
        if "deserializer" in values:
            run("deserializer", lambda: builder.with_deserializer(values["deserializer"]))
    else:
        if "serializer" in values:
            run("serializer", lambda: builder.with_serializer(values["serializer"]))
        if "sink.requests.max-buffered" in values:
            run("sink.requests.max-buffered",
                lambda: builder.with_max_outstanding_records(_whole_number(values["sink.requests.max-buffered"])))
    return run("kind", builder.build)


def _key_of(api_field: Optional[str], key: str, values: dict[str, str]) -> str:
    """The group key behind a builder's error field (``client_properties.source.init.position``,
    ``aws.credentials.provider.secret_access_key``, ``max_outstanding_records``); ``key`` if none is."""
    name = api_field or ""
    if name.startswith("client_properties."):
        name = name[len("client_properties."):]
    prefix, _, last = name.rpartition(".")
    if name.startswith(PROVIDER) and last in CREDENTIAL_KEYS:
        return f"{prefix}.{CREDENTIAL_KEYS[last]}"
    if name in FIELD_KEYS:
        return FIELD_KEYS[name]
    return name if name in values or name.startswith(PROVIDER) else key


def _check_keys(kind: str, values: dict[str, str]) -> None:
    """Keys of the other direction, and credential keys the connector does not have, are mistakes."""
    for key in values:
        if key.startswith(OTHER_DIRECTION[kind]):
            raise ConfigError(f"'{key}' configures {'a sink' if kind == 'ingress' else 'a source'}; this group is "
                              f"kind: {kind}", field=key)
        if key.startswith(PROVIDER + "."):
            suffix = key[len(PROVIDER) + 1:]
            while suffix.startswith("role.provider."):  # the source credentials of an assumed role
                suffix = suffix[len("role.provider."):]
            if suffix not in CREDENTIAL_SUFFIXES and suffix != "role.provider":
                raise ConfigError(f"unknown credentials key{did_you_mean(suffix, CREDENTIAL_SUFFIXES)}; expected "
                                  f"{PROVIDER} followed by {one_of(sorted(CREDENTIAL_SUFFIXES))}", field=key)


def _streams(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if not any(names):
        raise ConfigError("expected one or more stream names, separated by commas, e.g. 'orders,refunds'",
                          field="streams")
    return names


def _whole_number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text  # the builder says what it expected


__all__ = ["ApplicationProperties", "PropertyGroup", "load_application_properties"]
