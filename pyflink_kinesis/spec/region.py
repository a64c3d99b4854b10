"""Where the Kinesis client connects: an AWS region, or a custom endpoint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from .errors import ConfigError, did_you_mean

_REGION_ID = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def _known_regions() -> list[str]:
    try:
        import botocore.session

        return botocore.session.get_session().get_available_regions("kinesis")
    except Exception:  # botocore is optional for pure spec work
        return []


def check_region_id(region_id: object) -> str:
    """Return ``region_id`` if it looks like an AWS region id, else raise ConfigError."""
    if not isinstance(region_id, str) or not region_id:
        raise ConfigError(f"expected a region id such as 'us-west-1', got {region_id!r}")
    if not _REGION_ID.match(region_id):
        raise ConfigError(
            f"'{region_id}' is not an AWS region id; expected something like 'us-west-1'"
            + did_you_mean(region_id, _known_regions())
        )
    return region_id


def check_endpoint(endpoint: object) -> str:
    """Return ``endpoint`` if it is an http(s) URL with a host, else raise ConfigError."""
    example = "expected a URL with a scheme and a host, such as 'https://localhost:4567'"
    if not isinstance(endpoint, str) or not endpoint:
        raise ConfigError(f"{example}, got {endpoint!r}", field="endpoint")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        hint = " (the scheme is missing)" if "://" not in endpoint else ""
        raise ConfigError(f"'{endpoint}' is not an endpoint URL{hint}; {example}", field="endpoint")
    try:
        parts.port
    except ValueError:
        raise ConfigError(f"'{endpoint}' has an invalid port; {example}", field="endpoint") from None
    return endpoint.rstrip("/")


def resolve_default_region() -> str:
    """Resolve the region the way boto3 does (environment, then config profile).

    Raises:
        ConfigError: when no region is configured anywhere, saying how to set one.
    """
    import os

    import botocore.session

    # AWS_REGION is what the AWS SDKs (and so the Flink connector) read; botocore reads only
    # AWS_DEFAULT_REGION and the profile, so check AWS_REGION first.
    region = os.environ.get("AWS_REGION") or botocore.session.get_session().get_config_variable("region")
    if not region:
        raise ConfigError(
            "no AWS region is configured for the default provider chain; set AWS_REGION "
            "(or AWS_DEFAULT_REGION), add 'region = ...' to the profile in ~/.aws/config, "
            "or give the region explicitly (AwsRegion.of('us-west-1'), "
            "or 'awsRegion: {type: specific, id: us-west-1}' in YAML)",
            field="awsRegion",
        )
    return region


@dataclass(frozen=True)
class AwsRegion:
    """The AWS region of a Kinesis ingress or egress.

    Build it with one of the class methods; the attributes are read-only.

    Attributes:
        kind: ``"default"``, ``"specific"`` or ``"custom-endpoint"``.
        region_id: The region id (``None`` for the default provider chain).
        endpoint: The service URL of a custom endpoint, else ``None``.
        emulator: The custom endpoint is a local Kinesis emulator (kinesis-local): the connector then works
            around what the emulator lacks (``aws.emulator``). Declared, never guessed from the address.
    """

    kind: str
    region_id: Optional[str] = None
    endpoint: Optional[str] = None
    emulator: bool = False

    @classmethod
    def from_default_provider_chain(cls) -> "AwsRegion":
        """Use the region boto3 would use: ``AWS_REGION``/``AWS_DEFAULT_REGION``, then the profile."""
        return cls("default")

    @classmethod
    def of(cls, region_id: str) -> "AwsRegion":
        """Use a specific region.

        Args:
            region_id: The region's id, e.g. ``"us-west-1"``.
        """
        return cls("specific", check_region_id(region_id))

    @classmethod
    def of_custom_endpoint(cls, endpoint: str, region_id: str, *, emulator: bool = False) -> "AwsRegion":
        """Connect through a non-standard endpoint: a VPC endpoint, a proxy, a local emulator.

        Args:
            endpoint: An ``http://`` or ``https://`` URL with a host, e.g. ``"http://localhost:4568"``.
            region_id: The region to sign requests for, e.g. ``"us-east-1"``.
            emulator: The endpoint is kinesis-local (sets ``aws.emulator``: fan-out shard ends read by
                polling, event streams without ``initial-response`` accepted). :class:`LocalKinesis` sets it.
        """
        if not isinstance(emulator, bool):
            raise ConfigError(f"expected True or False, got {emulator!r}", field="emulator")
        return cls("custom-endpoint", check_region_id(region_id), check_endpoint(endpoint), emulator)
