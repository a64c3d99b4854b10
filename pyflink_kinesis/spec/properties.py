"""Client properties: validation, and translation of a spec into the Flink connector's key space.

One translation serves every engine. A spec becomes a dict in the key space of
the Flink AWS connector (``aws.region``, ``aws.credentials.provider``, ...);
the SQL options rename a few keys of it, and boto3's session and client
arguments are read back from it, so all engines agree on what a spec means.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from .credentials import MASK, AwsCredentials
from . import keys
from .errors import ConfigError, ConfigWarning, did_you_mean, user_stacklevel
from .region import AwsRegion, resolve_default_region

PASSTHROUGH_PREFIXES = keys.PREFIXES
PROVIDER = keys.PROVIDER
SECRET_WORDS = ("secretkey", "secret", "sessiontoken", "password")


@dataclass(frozen=True)
class LegacyKey:
    """An AWS SDK v1 ClientConfiguration or KPL property that StateFun users have (declared in keys.json).

    Attributes:
        flink: The Flink connector (SDK v2) key it maps to, if any.
        botocore: The botocore ``Config`` argument it maps to, if any.
        botocore_scale: Multiplier from the v1 unit to botocore's (milliseconds to seconds).
    """

    flink: Optional[str] = None
    botocore: Optional[str] = None
    botocore_scale: float = 1.0


LEGACY_KEYS: dict[str, LegacyKey] = {
    k.name: LegacyKey(k.flink_key, k.botocore, k.botocore_scale) for k in keys.all_keys("sdk-v1") if k.maps_anywhere
}
# Known names with no equivalent in the SDK v2 connector or botocore: accepted with a warning.
UNSUPPORTED_LEGACY_KEYS = frozenset(k.name for k in keys.all_keys("sdk-v1") if not k.maps_anywhere)
_CONNECTOR_KEYS = tuple(k.name for k in keys.all_keys("connector"))


def as_property_value(value: Any) -> str:
    """Client property values are text, as in StateFun; booleans are written the Java way."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_client_property(key: object, value: Any, field: str = "client_properties") -> tuple[str, str]:
    """Validate one client property and return it as ``(key, text)``.

    Keys of the registry (``keys.json``) are checked against their type: connector keys pass through to
    the connector, AWS SDK v1 names map to their SDK v2 and botocore equivalents, and known v1 names
    without one are accepted with a :class:`ConfigWarning`. An unknown ``source.*`` / ``sink.*`` key is an
    error with a did-you-mean (the connector would refuse or ignore it); an unknown ``aws.*`` key passes
    (the official connector has more of them), with a warning if it looks like a misspelt known key.
    Anything else is an error.
    """
    if not isinstance(key, str) or not key:
        raise ConfigError(f"expected a property name, got {key!r}", field=field)
    if value is None or isinstance(value, (dict, list)):
        shown = MASK if is_secret_key(key) else repr(value)
        raise ConfigError(f"expected a text or number value, got {shown}", field=f"{field}.{key}")
    text = as_property_value(value)
    entry = keys.lookup(key)
    if entry is not None and entry.kind in ("connector", "sdk-v1"):
        _check_value(entry, text, f"{field}.{key}")
        if not entry.maps_anywhere:
            warnings.warn(f"{field}.{key}: {entry.why_not('beam')} and is ignored", ConfigWarning,
                          stacklevel=user_stacklevel())
        return key, text
    if key.startswith(("source.", "sink.")):
        raise ConfigError(f"unknown client property '{key}'{did_you_mean(key, _CONNECTOR_KEYS)}; not a key of any "
                          "engine here (see docs/configuration-keys.md, or `pyflink-kinesis keys`)", field=f"{field}.{key}")
    if key.startswith("aws."):
        hint = did_you_mean(key, _CONNECTOR_KEYS)
        if hint:
            warnings.warn(f"{field}.{key}: not a key this project reads{hint}; passed on as it is", ConfigWarning,
                          stacklevel=user_stacklevel())
        return key, text
    known = list(LEGACY_KEYS) + sorted(UNSUPPORTED_LEGACY_KEYS)
    raise ConfigError(
        f"unknown client property '{key}'{did_you_mean(key, known)}; expected a key starting with "
        f"'aws.', 'source.' or 'sink.', or an AWS SDK v1 client setting such as SocketTimeout or MaxConnections",
        field=f"{field}.{key}",
    )


def _check_value(entry: keys.Key, text: str, field: str) -> None:
    """The value parses as the key's type; SDK v1 numbers are not negative."""
    if entry.kind == "sdk-v1" and entry.type in ("int", "float"):
        try:
            if float(text) < 0:
                raise ValueError
        except ValueError:
            raise ConfigError(f"expected a non-negative number, got '{text}'", field=field) from None
    elif entry.kind == "connector" and not entry.secret:
        entry.parse(text, field)


def credential_properties(credentials: AwsCredentials, prefix: str = PROVIDER) -> dict[str, str]:
    """The Flink connector's ``aws.credentials.provider`` keys for ``credentials``."""
    c = credentials
    if c.kind == "default":
        return {prefix: "AUTO"}
    if c.kind == "basic":
        assert c.access_key_id and c.secret_access_key
        return {
            prefix: "BASIC",
            f"{prefix}.basic.accesskeyid": c.access_key_id,
            f"{prefix}.basic.secretkey": c.secret_access_key.reveal(),
        }
    if c.kind == "profile":
        out = {prefix: "PROFILE", f"{prefix}.profile.name": c.profile_name or ""}
        if c.profile_path:
            out[f"{prefix}.profile.path"] = c.profile_path
        return out
    out = {f"{prefix}.role.arn": c.role_arn or ""}
    if c.role_session_name:
        out[f"{prefix}.role.sessionName"] = c.role_session_name
    if c.kind == "assume-role":
        out[prefix] = "ASSUME_ROLE"
        if c.external_id:
            out[f"{prefix}.role.externalId"] = c.external_id
        out.update(credential_properties(c.source or AwsCredentials.from_default_provider_chain(), f"{prefix}.role.provider"))
        return out
    out[prefix] = "WEB_IDENTITY_TOKEN"
    out[f"{prefix}.webIdentityToken.file"] = c.web_identity_token_file or ""
    return out


def credentials_from_properties(props: Mapping[str, str], prefix: str = PROVIDER) -> AwsCredentials:
    """Read credentials back from Flink connector keys (the inverse of :func:`credential_properties`)."""
    kind = props.get(prefix, "AUTO").upper()
    get = lambda suffix: props.get(f"{prefix}.{suffix}")  # noqa: E731
    try:
        if kind in ("AUTO", "ENV_VAR"):
            return AwsCredentials.from_default_provider_chain()
        if kind == "BASIC":
            return AwsCredentials.basic(get("basic.accesskeyid"), get("basic.secretkey"))  # type: ignore[arg-type]
        if kind == "PROFILE":
            return AwsCredentials.profile(get("profile.name") or "default", get("profile.path"))
        if kind == "ASSUME_ROLE":
            source = credentials_from_properties(props, f"{prefix}.role.provider")
            return AwsCredentials.assume_role(
                get("role.arn"), get("role.sessionName") or "pyflink-kinesis", get("role.externalId"), source  # type: ignore[arg-type]
            )
        if kind == "WEB_IDENTITY_TOKEN":
            return AwsCredentials.web_identity(get("role.arn"), get("webIdentityToken.file"), get("role.sessionName"))  # type: ignore[arg-type]
    except ConfigError as e:
        raise ConfigError(e.reason, field=f"{prefix}.{e.field}") from None
    raise ConfigError(
        f"'{kind}' credentials exist only in the Java connector; use AUTO, BASIC, PROFILE, ASSUME_ROLE "
        "or WEB_IDENTITY_TOKEN for a spec that also runs in Python (Beam, CLI)",
        field=prefix,
    )


def connector_properties(client_properties: Iterable[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The client properties in the connector's key space (``aws.*``, ``source.*``, ``sink.*``; an SDK v1 or
    KPL name as the key it maps to), each as ``(value, the name it was given as)``; later ones win."""
    out: dict[str, tuple[str, str]] = {}
    for key, value in client_properties:
        if key.startswith(PASSTHROUGH_PREFIXES):
            out[key] = (value, key)
        elif key in LEGACY_KEYS and LEGACY_KEYS[key].flink:
            out[LEGACY_KEYS[key].flink] = (value, key)  # type: ignore[index]
    return out


def aws_properties(
    region: Optional[AwsRegion],
    credentials: Optional[AwsCredentials],
    client_properties: Iterable[tuple[str, str]],
) -> dict[str, str]:
    """Merge client properties and named settings into Flink connector keys.

    Client properties come first; named settings override them. An unset
    (``None``) region or credentials leaves the properties' own ``aws.region`` or
    ``aws.credentials.provider`` in place, else falls back to the default chain.
    """
    out = {key: value for key, (value, _) in connector_properties(client_properties).items()}
    if region is not None and region.kind != "default":
        out["aws.region"] = region.region_id  # type: ignore[assignment]
        if region.endpoint:
            out["aws.endpoint"] = region.endpoint
        else:
            out.pop("aws.endpoint", None)
    if "aws.region" not in out:
        out["aws.region"] = resolve_default_region()
    if region is not None and region.emulator:
        out.setdefault(keys.EMULATOR, "true")
    if credentials is not None and credentials.kind != "default":
        for key in [k for k in out if k == PROVIDER or k.startswith(PROVIDER + ".")]:
            del out[key]
        out.update(credential_properties(credentials))
    out.setdefault(PROVIDER, "AUTO")
    return out


def sql_key(key: str) -> str:
    """The SQL ``kinesis`` table drops the word ``provider`` from credential sub-keys."""
    if key.startswith(PROVIDER + "."):
        return "aws.credentials." + key[len(PROVIDER) + 1 :]
    return key


def table_properties(spec: Any, props: Mapping[str, str], connector: str) -> dict[str, str]:
    """``props`` of ``spec`` less the keys the ``connector`` table (``pyflink-kinesis`` or the official
    ``kinesis``) does not act on (keys.json), each named in a ConfigWarning."""
    path = "official-sql" if connector == "kinesis" else "sql"
    return keys.drop_unhonoured(spec, props, path, lambda key, why: f"{spec.id}: client property "
                                f"'{key}' is left out of the '{connector}' table's options: {why}")


def is_secret_key(key: str) -> bool:
    """True for keys whose values must never be shown."""
    return any(word in key.lower().replace("-", "").replace("_", "") for word in SECRET_WORDS)


def masked(props: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``props`` with secret values replaced by ``****``, for printing."""
    return {k: (MASK if is_secret_key(k) else v) for k, v in props.items()}


def botocore_settings(props: Mapping[str, str], client_properties: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """botocore ``Config`` arguments from the merged Flink keys and SDK v1 names without a Flink key."""
    config: dict[str, Any] = {}
    if "aws.http-client.read-timeout" in props:
        config["read_timeout"] = float(props["aws.http-client.read-timeout"]) / 1000
    if "aws.http-client.max-concurrency" in props:
        config["max_pool_connections"] = int(float(props["aws.http-client.max-concurrency"]))
    for key, value in client_properties:
        legacy = LEGACY_KEYS.get(key)
        if legacy is None or legacy.flink or not legacy.botocore:
            continue
        if legacy.botocore == "tcp_keepalive":
            config["tcp_keepalive"] = value.strip().lower() == "true"
        elif legacy.botocore == "total_max_attempts":
            config["retries"] = {"total_max_attempts": int(float(value)) + 1, "mode": "standard"}
        else:
            config[legacy.botocore] = float(value) * legacy.botocore_scale
    return config
