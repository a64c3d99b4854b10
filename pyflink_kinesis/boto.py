"""boto3 sessions and Kinesis clients from the same translated properties the Flink connector gets."""

from __future__ import annotations

from typing import Any, Mapping

from .credentials import AwsCredentials
from .errors import ConfigError
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
