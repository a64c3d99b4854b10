"""Translation of specs into boto3 sessions and clients: profiles, assumed roles and web identity.

No network: the ``offline`` fixture makes any HTTP send fail, and STS is answered by botocore's Stubber.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyflink_kinesis import AwsCredentials, AwsRegion, ConfigError, KinesisEgressSpec

from tests.translation_support import StsStub, egress
from tests.yaml_support import ROLE

pytestmark = pytest.mark.usefixtures("offline")


# --- boto3 sessions and clients -----------------------------------------------------------------


def test_boto3_arguments_shape() -> None:
    spec = egress(region=AwsRegion.of_custom_endpoint("https://kinesis.example.com", "eu-west-1"),
                  credentials=AwsCredentials.basic("AKIA", "SeCrEt-123"), props={"SocketTimeout": 1000})
    args = spec.boto3_arguments()
    assert args["client"] == {"service_name": "kinesis", "region_name": "eu-west-1",
                              "endpoint_url": "https://kinesis.example.com", "config": {"read_timeout": 1.0}}
    assert args["credentials"] == AwsCredentials.basic("AKIA", "SeCrEt-123")
    assert "SeCrEt-123" not in repr(args)


def test_create_client_basic() -> None:
    spec = egress(region=AwsRegion.of_custom_endpoint("http://localhost:4568", "us-east-1"),
                  credentials=AwsCredentials.basic("AKIAEXAMPLE", "SeCrEt-123"))
    client = spec.create_client()
    assert client.meta.service_model.service_name == "kinesis"
    assert client.meta.endpoint_url == "http://localhost:4568"
    assert client.meta.region_name == "us-east-1"
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key) == ("AKIAEXAMPLE", "SeCrEt-123")


def test_create_client_with_a_given_session() -> None:
    import boto3

    session = boto3.Session(aws_access_key_id="AKIAGIVEN", aws_secret_access_key="given", region_name="us-east-1")
    client = egress(credentials=AwsCredentials.basic("AKIAOTHER", "SeCrEt-123")).create_client(session=session)
    assert client._request_signer._credentials.get_frozen_credentials().access_key == "AKIAGIVEN"
    assert client.meta.region_name == "us-west-1"  # the spec's region still applies


def test_create_client_rejects_bad_botocore_setting() -> None:
    spec = KinesisEgressSpec(
        id="ex/out", region=AwsRegion.of("us-east-1"), credentials=AwsCredentials.from_default_provider_chain(),
        client_properties=(("MaxConnections", "1"),),
    )
    spec_config = spec.botocore_config()
    assert spec_config == {"max_pool_connections": 1}
    from pyflink_kinesis.spec.boto import create_client

    with pytest.raises(ConfigError, match="invalid botocore setting"):
        create_client(spec.aws_properties(), {"no_such_option": 1})


def test_profile_session_reads_profile_path(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[john-doe]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = SeCrEt-123\n")
    client = egress(credentials=AwsCredentials.profile("john-doe", str(credentials))).create_client()
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key) == ("AKIAPROFILE", "SeCrEt-123")


def test_profile_missing_from_file_fails_clearly(tmp_path: Path) -> None:
    import botocore.exceptions

    credentials = tmp_path / "credentials"
    credentials.write_text("[someone-else]\naws_access_key_id = A\naws_secret_access_key = B\n")
    with pytest.raises(botocore.exceptions.ProfileNotFound, match="john-doe"):
        egress(credentials=AwsCredentials.profile("john-doe", str(credentials))).create_client()


def test_assume_role_session_calls_sts_with_source_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = StsStub(monkeypatch)
    sts.responses.append((
        "assume_role",
        StsStub.credentials("ASIAASSUMEDEXAMPLE"),
        {"RoleArn": ROLE, "RoleSessionName": "reader", "ExternalId": "ext-1"},
    ))
    spec = egress(credentials=AwsCredentials.assume_role(ROLE, "reader", "ext-1", AwsCredentials.basic("AKIASOURCE", "SeCrEt-123")))
    client = spec.create_client()
    assert sts.created == []  # lazy: nothing is fetched before the first request
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("ASIAASSUMEDEXAMPLE", "role-secret", "role-token")
    assert len(sts.created) == 1
    assert sts.created[0]["aws_access_key_id"] == "AKIASOURCE"
    assert sts.created[0]["aws_secret_access_key"] == "SeCrEt-123"
    for stubber in sts.stubbers:
        stubber.assert_no_pending_responses()


def test_assume_role_default_session_name_and_no_external_id(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[base]\naws_access_key_id = AKIABASEPROFILE\naws_secret_access_key = SeCrEt-123\n")
    sts = StsStub(monkeypatch)
    sts.responses.append(("assume_role", StsStub.credentials("ASIAFROMPROFILEXX"), {"RoleArn": ROLE, "RoleSessionName": "reader"}))
    spec = egress(credentials=AwsCredentials.assume_role(ROLE, "reader", source=AwsCredentials.profile("base", str(credentials))))
    frozen = spec.create_client()._request_signer._credentials.get_frozen_credentials()
    assert frozen.access_key == "ASIAFROMPROFILEXX"
    assert sts.created[0]["aws_access_key_id"] == "AKIABASEPROFILE"


def test_assume_role_without_source_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = StsStub(monkeypatch)
    spec = egress(credentials=AwsCredentials.assume_role(ROLE, "reader"))  # default chain: nothing in this test env
    with pytest.raises(ConfigError, match="no credentials to assume") as info:
        spec.create_client()
    assert info.value.field == "awsCredentials.source"
    assert "AWS_ACCESS_KEY_ID" in str(info.value)
    assert sts.created == []


def test_assume_role_default_source_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SeCrEt-123")
    sts = StsStub(monkeypatch)
    sts.responses.append(("assume_role", StsStub.credentials("ASIAFROMENVROLEXX"), {"RoleArn": ROLE, "RoleSessionName": "rr"}))
    frozen = egress(credentials=AwsCredentials.assume_role(ROLE, "rr")).create_client()._request_signer._credentials
    assert frozen.get_frozen_credentials().access_key == "ASIAFROMENVROLEXX"
    assert sts.created[0]["aws_access_key_id"] == "AKIAFROMENVIRONMENT"


def test_web_identity_session_reads_token_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJ.token.sig")
    sts = StsStub(monkeypatch)
    sts.responses.append((
        "assume_role_with_web_identity",
        StsStub.credentials("ASIAWEBIDENTITYXX"),
        {"RoleArn": ROLE, "RoleSessionName": "pod", "WebIdentityToken": "eyJ.token.sig"},
    ))
    spec = egress(region=AwsRegion.of("eu-west-1"), credentials=AwsCredentials.web_identity(ROLE, str(token), "pod"))
    client = spec.create_client()
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.token) == ("ASIAWEBIDENTITYXX", "role-token")
    assert len(sts.created) == 1
    assert "aws_secret_access_key" not in sts.created[0]  # the web identity call is unsigned
    assert sts.created[0]["region"] == "eu-west-1"  # the regional STS endpoint of the spec's region


def test_web_identity_default_session_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("token-text")
    sts = StsStub(monkeypatch)
    sts.responses.append((
        "assume_role_with_web_identity", StsStub.credentials("ASIAWEBIDENTITYYY"),
        {"RoleArn": ROLE, "RoleSessionName": "pyflink-kinesis", "WebIdentityToken": "token-text"},
    ))
    spec = egress(credentials=AwsCredentials.web_identity(ROLE, str(token)))
    assert spec.create_client()._request_signer._credentials.get_frozen_credentials().access_key == "ASIAWEBIDENTITYYY"
