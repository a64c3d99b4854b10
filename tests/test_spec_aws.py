"""The spec layer in code: region, credentials and startup position."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone

import pytest

from pyflink_kinesis import AwsCredentials, AwsRegion, ConfigError, KinesisIngressStartupPosition

ROLE = "arn:aws:iam::123456789012:role/reader"
WHEN = datetime(2020, 2, 1, 4, 15, tzinfo=timezone.utc)


# --- AwsRegion ----------------------------------------------------------------------------------


def test_region_kinds() -> None:
    assert AwsRegion.from_default_provider_chain() == AwsRegion("default")
    specific = AwsRegion.of("us-west-1")
    assert (specific.kind, specific.region_id, specific.endpoint) == ("specific", "us-west-1", None)
    custom = AwsRegion.of_custom_endpoint("https://localhost:4567/", "us-west-1")
    assert (custom.kind, custom.region_id, custom.endpoint) == ("custom-endpoint", "us-west-1", "https://localhost:4567")
    assert AwsRegion.of_custom_endpoint("http://kinesis.internal:80", "eu-west-1").endpoint == "http://kinesis.internal:80"


def test_an_emulator_endpoint_is_declared_and_checked() -> None:
    assert AwsRegion.of_custom_endpoint("http://127.0.0.1:4568", "us-east-1").emulator is False
    assert AwsRegion.of_custom_endpoint("http://kinesis.test:4568", "us-east-1", emulator=True).emulator is True
    with pytest.raises(ConfigError, match="emulator"):
        AwsRegion.of_custom_endpoint("http://127.0.0.1:4568", "us-east-1", emulator="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "uswest1", "US-WEST-1", "us_west_1", None, 42])
def test_region_id_rejected(bad: object) -> None:
    with pytest.raises(ConfigError, match="us-west-1"):
        AwsRegion.of(bad)  # type: ignore[arg-type]


def test_region_id_typo_gets_did_you_mean() -> None:
    with pytest.raises(ConfigError, match="did you mean 'us-west-1'"):
        AwsRegion.of("uswest1")


@pytest.mark.parametrize(
    "endpoint, fragment",
    [
        ("localhost:4567", "the scheme is missing"),
        ("localhost", "the scheme is missing"),
        ("ftp://localhost:21", "not an endpoint URL"),
        ("https://", "not an endpoint URL"),
        ("http://localhost:notaport", "invalid port"),
        ("", "expected a URL"),
    ],
)
def test_custom_endpoint_rejected(endpoint: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as info:
        AwsRegion.of_custom_endpoint(endpoint, "us-east-1")
    assert "https://localhost:4567" in str(info.value)  # says what was expected


def test_custom_endpoint_checks_region_id_too() -> None:
    with pytest.raises(ConfigError, match="not an AWS region id"):
        AwsRegion.of_custom_endpoint("http://localhost:4568", "local")


def test_region_is_frozen() -> None:
    region = AwsRegion.of("us-west-1")
    with pytest.raises(AttributeError):
        region.region_id = "eu-west-1"  # type: ignore[misc]


# --- AwsCredentials -----------------------------------------------------------------------------


def test_credentials_kinds() -> None:
    assert AwsCredentials.from_default_provider_chain().kind == "default"

    basic = AwsCredentials.basic("AKIAEXAMPLE", "SeCrEt-123")
    assert (basic.kind, basic.access_key_id) == ("basic", "AKIAEXAMPLE")
    assert basic.secret_access_key is not None and basic.secret_access_key.reveal() == "SeCrEt-123"

    profile = AwsCredentials.profile("john-doe")
    assert (profile.kind, profile.profile_name, profile.profile_path) == ("profile", "john-doe", None)
    assert AwsCredentials.profile("john-doe", "/path/to/config").profile_path == "/path/to/config"

    role = AwsCredentials.assume_role(ROLE, "session", "ext-1", AwsCredentials.profile("base"))
    assert (role.kind, role.role_arn, role.role_session_name, role.external_id) == ("assume-role", ROLE, "session", "ext-1")
    assert role.source == AwsCredentials.profile("base")
    assert AwsCredentials.assume_role(ROLE, "session").source == AwsCredentials.from_default_provider_chain()

    web = AwsCredentials.web_identity(ROLE, "/var/run/token")
    assert (web.kind, web.role_arn, web.web_identity_token_file, web.role_session_name) == (
        "web-identity", ROLE, "/var/run/token", None)
    assert AwsCredentials.web_identity(ROLE, "/t", "pod-1").role_session_name == "pod-1"


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: AwsCredentials.basic("", "x"), "access_key_id"),
        (lambda: AwsCredentials.basic("AKIA", "  "), "secret_access_key"),
        (lambda: AwsCredentials.basic("AKIA", None), "secret_access_key"),
        (lambda: AwsCredentials.profile(""), "profile_name"),
        (lambda: AwsCredentials.profile("p", ""), "profile_path"),
        (lambda: AwsCredentials.assume_role("not-an-arn", "s"), "role_arn"),
        (lambda: AwsCredentials.assume_role("arn:aws:iam::1:user/bob", "s"), "role_arn"),
        (lambda: AwsCredentials.assume_role(ROLE, ""), "role_session_name"),
        (lambda: AwsCredentials.assume_role(ROLE, "r"), "role_session_name"),  # STS wants 2 to 64 characters
        (lambda: AwsCredentials.assume_role(ROLE, "s" * 65), "role_session_name"),
        (lambda: AwsCredentials.assume_role(ROLE, "my session"), "role_session_name"),
        (lambda: AwsCredentials.web_identity(ROLE, "/t", "bad/name"), "role_session_name"),
        (lambda: AwsCredentials.assume_role(ROLE, "ss", ""), "external_id"),
        (lambda: AwsCredentials.web_identity(ROLE, ""), "web_identity_token_file"),
        (lambda: AwsCredentials.web_identity("arn:nope", "/t"), "role_arn"),
    ],
)
def test_credentials_rejected(make, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    "source", [AwsCredentials.assume_role(ROLE, "inner"), AwsCredentials.web_identity(ROLE, "/t")]
)
def test_assume_role_source_cannot_be_a_role(source: AwsCredentials) -> None:
    with pytest.raises(ConfigError, match="default, basic or profile") as info:
        AwsCredentials.assume_role(ROLE, "outer", source=source)
    assert info.value.field == "source"


def test_secret_pickles_with_its_value() -> None:
    creds = AwsCredentials.basic("AKIA", "SeCrEt-123")
    again = pickle.loads(pickle.dumps(creds))
    assert again == creds
    assert again.secret_access_key.reveal() == "SeCrEt-123"  # type: ignore[union-attr]


# --- KinesisIngressStartupPosition --------------------------------------------------------------


def test_startup_positions() -> None:
    assert KinesisIngressStartupPosition.from_latest().iterator_type == "LATEST"
    assert KinesisIngressStartupPosition.from_earliest().iterator_type == "TRIM_HORIZON"
    at = KinesisIngressStartupPosition.from_date(WHEN)
    assert (at.kind, at.date, at.iterator_type) == ("date", WHEN, "AT_TIMESTAMP")


def test_startup_position_naive_date_rejected() -> None:
    with pytest.raises(ConfigError, match="no time zone"):
        KinesisIngressStartupPosition.from_date(datetime(2020, 2, 1, 4, 15))


def test_startup_position_date_must_be_datetime() -> None:
    with pytest.raises(ConfigError, match="timezone-aware datetime") as info:
        KinesisIngressStartupPosition.from_date("2020-02-01")  # type: ignore[arg-type]
    assert info.value.field == "date"
