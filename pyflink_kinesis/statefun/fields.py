"""The fields of a StateFun Kinesis ingress or egress spec: region, credentials, startup position, client
properties and streams, each turned into the spec's objects with errors at their line and field path."""

from __future__ import annotations

import warnings
from typing import Any

from ..spec.builders import (
    KinesisEgressBuilder,
    KinesisEgressSpec,
    KinesisIngressBuilder,
    KinesisIngressSpec,
    check_identifier,
)
from ..spec.credentials import AwsCredentials
from ..spec.errors import ConfigWarning, user_stacklevel
from ..spec.position import KinesisIngressStartupPosition, parse_date
from ..spec.region import AwsRegion
from .wire import generic_egress_serializer
from .yaml_nodes import At, kind_name

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


def parse_region(at: At) -> AwsRegion:
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


def parse_credentials(at: At) -> AwsCredentials:
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


def parse_startup_position(at: At) -> KinesisIngressStartupPosition:
    """``startupPosition``: latest, earliest or date{date}."""
    kind = at.type_name(POSITION_KEYS, "startup position")
    at.mapping({"type"} | POSITION_KEYS[kind], POSITION_KEYS[kind], f" of a '{kind}' startup position")
    if kind == "latest":
        return KinesisIngressStartupPosition.from_latest()
    if kind == "earliest":
        return KinesisIngressStartupPosition.from_earliest()
    date_at = at.child("date")
    return date_at.build(lambda: KinesisIngressStartupPosition.from_date(parse_date(date_at.text())))


def parse_client_properties(at: At, builder: Any) -> None:
    """``clientConfigProperties``: a list of single-entry maps (StateFun), or one mapping."""
    entries: list[tuple[At, Any]] = []
    if isinstance(at.value, dict):
        entries = [(at.child(key), key) for key in at.value]
    else:
        for item in at.items():
            if not isinstance(item.value, dict) or len(item.value) != 1:
                raise item.fail(f"expected a single-entry mapping such as '- SocketTimeout: 9999', got {kind_name(item.value)}")
            (key,) = item.value
            entries.append((item.child(key), key))
    for entry, key in entries:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            entry.build(lambda: builder.with_client_configuration_property(key, entry.value))
        for warning in caught:
            warnings.warn(f"{entry.file}:{entry.line}: {warning.message}", ConfigWarning, stacklevel=user_stacklevel())


def _common(at: At, builder: Any) -> None:
    for key, parse, setter in (
        ("awsRegion", parse_region, builder.with_aws_region),
        ("awsCredentials", parse_credentials, builder.with_aws_credentials),
    ):
        if key in at.value:
            setter(parse(at.child(key)))
    if "clientConfigProperties" in at.value:
        parse_client_properties(at.child("clientConfigProperties"), builder)


def parse_ingress(at: At, identifier: str, kind: str) -> KinesisIngressSpec:
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

    def first_time(name: str, where: At) -> None:
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


def parse_egress(at: At, identifier: str) -> KinesisEgressSpec:
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


