"""boto3 sessions and Kinesis clients from the same translated properties the Flink connector gets."""

from __future__ import annotations

from typing import Any, Mapping

from .credentials import AwsCredentials
from .errors import ConfigError
from .keys import default_of
from .properties import credentials_from_properties


def boto3_arguments(props: Mapping[str, str], config: Mapping[str, Any]) -> dict[str, Any]:
    """Describe the boto3 session and client a spec creates: ``{"session": ..., "client": ...}``.

    Args:
        props: The spec's merged Flink connector keys (``aws.region``, ``aws.endpoint``, ...).
        config: botocore ``Config`` arguments (timeouts, pool size, retries).

    The credentials are kept as an :class:`AwsCredentials` (its secret prints as ``****``).
    """
    client: dict[str, Any] = {"service_name": "kinesis", "region_name": props["aws.region"]}
    if "aws.endpoint" in props:
        client["endpoint_url"] = props["aws.endpoint"]
    if props.get("aws.trust.all.certificates", "false").lower() == "true":
        client["verify"] = False
    client["config"] = dict(config)
    return {"credentials": credentials_from_properties(props), "client": client}


# Timeouts of the Beam transforms' clients unless the spec sets them (milliseconds, as SDK v1 names take
# them): a frozen endpoint is noticed within seconds, not botocore's 60 s.
TRANSFORM_CONNECT_TIMEOUT_MS = default_of("ConnectionTimeout", "beam")
TRANSFORM_READ_TIMEOUT_MS = default_of("aws.http-client.read-timeout", "beam")


def transform_client(spec: Any, pool: int = 10) -> Any:
    """A boto3 Kinesis client of ``spec`` (an ingress or egress spec) for the Beam transforms.

    One attempt per call (``MaxErrorRetry`` 0, i.e. botocore ``retries.total_max_attempts=1``, whatever the
    spec says): the transforms retry themselves, bounded by their ``max_retry_time``, so botocore's retries
    would only multiply theirs (and hide attempts from the GetRecords rate limit). Unless the spec sets them:
    connect timeout :data:`TRANSFORM_CONNECT_TIMEOUT_MS`, read timeout :data:`TRANSFORM_READ_TIMEOUT_MS`,
    and a connection pool of ``pool``.
    """
    import dataclasses

    keys = {k for k, _ in spec.client_properties}
    extra = [("MaxErrorRetry", "0")]
    if not keys & {"ConnectionTimeout", "ConnectTimeout"}:
        extra.append(("ConnectionTimeout", str(TRANSFORM_CONNECT_TIMEOUT_MS)))
    if not keys & {"SocketTimeout", "RequestTimeout", "aws.http-client.read-timeout"}:
        extra.append(("SocketTimeout", str(TRANSFORM_READ_TIMEOUT_MS)))
    if not keys & {"MaxConnections", "aws.http-client.max-concurrency"}:
        extra.append(("MaxConnections", str(pool)))
    kept = tuple((k, v) for k, v in spec.client_properties if k != "MaxErrorRetry")
    return dataclasses.replace(spec, client_properties=kept + tuple(extra)).create_client()


def create_session(credentials: AwsCredentials, region_name: str) -> Any:
    """A boto3 Session for ``credentials`` (boto3's default chain for ``default``)."""
    import boto3
    import botocore.session

    c = credentials
    if c.kind == "default":
        return boto3.Session(region_name=region_name)
    if c.kind == "basic":
        assert c.secret_access_key is not None
        return boto3.Session(
            aws_access_key_id=c.access_key_id,
            aws_secret_access_key=c.secret_access_key.reveal(),
            region_name=region_name,
        )
    if c.kind == "profile":
        core = botocore.session.Session()
        if c.profile_path:
            core.set_config_variable("credentials_file", c.profile_path)
        return boto3.Session(botocore_session=core, profile_name=c.profile_name, region_name=region_name)
    return _role_session(c, region_name)


def _role_session(c: AwsCredentials, region_name: str) -> Any:
    import boto3
    import botocore.credentials as bc
    import botocore.session

    extra = {"RoleSessionName": c.role_session_name or "pyflink-kinesis"}
    if c.kind == "assume-role":
        source = create_session(c.source or AwsCredentials.from_default_provider_chain(), region_name)
        source_credentials = source.get_credentials()
        if source_credentials is None:  # botocore would fail later with an AttributeError
            raise ConfigError(
                f"no credentials to assume {c.role_arn} with: the default provider chain found none; set "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or give the source explicitly "
                "(AwsCredentials.assume_role(..., source=...), 'source:' in YAML)",
                field="awsCredentials.source",
            )
        if c.external_id:
            extra["ExternalId"] = c.external_id
        fetcher: Any = bc.AssumeRoleCredentialFetcher(
            client_creator=source.client,
            source_credentials=source_credentials,
            role_arn=c.role_arn,
            extra_args=extra,
        )
    else:
        sts_session = botocore.session.Session()
        sts_session.set_config_variable("region", region_name)  # the regional STS endpoint, not aws-global
        fetcher = bc.AssumeRoleWithWebIdentityCredentialFetcher(
            client_creator=sts_session.create_client,
            web_identity_token_loader=bc.FileWebIdentityTokenLoader(c.web_identity_token_file),
            role_arn=c.role_arn,
            extra_args=extra,
        )
    core = botocore.session.Session()
    # botocore has no public setter for refreshable credentials; this is how its own
    # assume-role provider installs them.
    core._credentials = bc.DeferredRefreshableCredentials(method=c.kind, refresh_using=fetcher.fetch_credentials)
    return boto3.Session(botocore_session=core, region_name=region_name)


def create_client(props: Mapping[str, str], config: Mapping[str, Any], session: Any = None) -> Any:
    """A boto3 Kinesis client for the merged properties.

    Args:
        props: The spec's merged Flink connector keys.
        config: botocore ``Config`` arguments.
        session: A boto3 Session to use instead of one built from the credentials.
    """
    from botocore.config import Config

    args = boto3_arguments(props, config)
    client_args = dict(args["client"])
    try:
        client_args["config"] = Config(**client_args["config"])
    except TypeError as e:
        raise ConfigError(f"invalid botocore setting: {e}", field="client_properties") from None
    if session is None:
        session = create_session(args["credentials"], client_args["region_name"])
    return session.client(**client_args)
