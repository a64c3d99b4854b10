"""AWS credentials of a Kinesis ingress or egress; secrets never show in repr, str or errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .errors import ConfigError

MASK = "****"
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)  # STS RoleSessionName


class Secret:
    """A secret string that prints as ``****``; call :meth:`reveal` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value. Pass it to a client, never to a log."""
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self):  # pickles keep the value; Beam ships specs to workers
        return (Secret, (self._value,))


def _text(name: str, value: object, *, optional: bool = False) -> Optional[str]:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        shown = MASK if "secret" in name else repr(value)
        raise ConfigError(f"expected a non-empty string, got {shown}", field=name)
    return value


@dataclass(frozen=True)
class AwsCredentials:
    """How the Kinesis client authenticates. Build it with one of the class methods.

    Attributes:
        kind: ``"default"``, ``"basic"``, ``"profile"``, ``"assume-role"`` or ``"web-identity"``.
        access_key_id: The access key id of ``basic`` credentials.
        secret_access_key: The secret key of ``basic`` credentials, as a :class:`Secret`.
        profile_name: The profile of ``profile`` credentials.
        profile_path: The credentials file of ``profile`` credentials (``None``: the default file).
        role_arn: The role of ``assume-role`` and ``web-identity`` credentials.
        role_session_name: The session name used when assuming the role.
        external_id: The external id of ``assume-role`` credentials, if the role requires one.
        web_identity_token_file: The token file of ``web-identity`` credentials.
        source: The credentials that assume the role (``assume-role`` only).
    """

    kind: str
    access_key_id: Optional[str] = None
    secret_access_key: Optional[Secret] = None
    profile_name: Optional[str] = None
    profile_path: Optional[str] = None
    role_arn: Optional[str] = None
    role_session_name: Optional[str] = None
    external_id: Optional[str] = None
    web_identity_token_file: Optional[str] = None
    source: Optional["AwsCredentials"] = None

    @classmethod
    def from_default_provider_chain(cls) -> "AwsCredentials":
        """Use the default chain of boto3 and the AWS SDK: environment, profile, container or instance role."""
        return cls("default")

    @classmethod
    def basic(cls, access_key_id: str, secret_access_key: str) -> "AwsCredentials":
        """Use a static key pair.

        Args:
            access_key_id: The access key id, e.g. ``"AKIA..."``.
            secret_access_key: The secret access key; it is never printed.
        """
        _text("access_key_id", access_key_id)
        _text("secret_access_key", secret_access_key)
        return cls("basic", access_key_id=access_key_id, secret_access_key=Secret(secret_access_key))

    @classmethod
    def profile(cls, profile_name: str, profile_path: Optional[str] = None) -> "AwsCredentials":
        """Use a named profile of an AWS credentials file.

        Args:
            profile_name: The profile's name, e.g. ``"john-doe"``.
            profile_path: Path of the credentials file; ``None`` means ``~/.aws/credentials``.
        """
        return cls(
            "profile",
            profile_name=_text("profile_name", profile_name),
            profile_path=_text("profile_path", profile_path, optional=True),
        )

    @classmethod
    def assume_role(
        cls,
        role_arn: str,
        role_session_name: str,
        external_id: Optional[str] = None,
        source: Optional["AwsCredentials"] = None,
    ) -> "AwsCredentials":
        """Assume an IAM role through STS.

        Args:
            role_arn: The role to assume, ``arn:aws:iam::<account>:role/<name>``.
            role_session_name: A name for the role session (shows in CloudTrail).
            external_id: The external id the role's trust policy requires, if any.
            source: The credentials that call STS; the default provider chain if ``None``.
        """
        _check_role_arn(role_arn)
        if source is not None and source.kind in ("assume-role", "web-identity"):
            raise ConfigError("the source of an assumed role must be default, basic or profile credentials", field="source")
        return cls(
            "assume-role",
            role_arn=role_arn,
            role_session_name=_session_name(role_session_name),
            external_id=_text("external_id", external_id, optional=True),
            source=source or cls.from_default_provider_chain(),
        )

    @classmethod
    def web_identity(
        cls, role_arn: str, web_identity_token_file: str, role_session_name: Optional[str] = None
    ) -> "AwsCredentials":
        """Assume a role with a web identity token (EKS service accounts, OIDC).

        Args:
            role_arn: The role to assume.
            web_identity_token_file: Path of the file holding the token.
            role_session_name: A name for the role session; ``None`` lets the SDK pick one.
        """
        _check_role_arn(role_arn)
        return cls(
            "web-identity",
            role_arn=role_arn,
            web_identity_token_file=_text("web_identity_token_file", web_identity_token_file),
            role_session_name=_session_name(role_session_name, optional=True),
        )


def _session_name(value: object, *, optional: bool = False) -> Optional[str]:
    if _text("role_session_name", value, optional=optional) is None:
        return None
    if not _SESSION_NAME.match(str(value)):
        raise ConfigError(
            f"'{value}' is not a role session name; STS expects 2 to 64 characters from "
            "a-z, A-Z, 0-9, '_', '+', '=', ',', '.', '@', '-'",
            field="role_session_name",
        )
    return str(value)


def _check_role_arn(role_arn: object) -> None:
    _text("role_arn", role_arn)
    if not str(role_arn).startswith("arn:") or ":role/" not in str(role_arn):
        raise ConfigError(
            f"'{role_arn}' is not a role ARN; expected 'arn:aws:iam::<account-id>:role/<name>'", field="role_arn"
        )
