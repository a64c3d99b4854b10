"""ConfigError's shape, and secret access keys never showing in repr, str, errors, masked output, explain or logs."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest

from pyflink_kinesis import (AwsCredentials, AwsRegion, ConfigError, ConfigWarning, KinesisEgressBuilder,
                             KinesisIngressBuilder, Secret, load_module, masked)
from pyflink_kinesis.cli import main

from tests.yaml_support import ROLE

SECRET = "SeCrEt-123"


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


# --- ConfigError --------------------------------------------------------------------------------


def test_config_error_parts() -> None:
    e = ConfigError("expected x", field="spec.a", file="m.yaml", line=3)
    assert isinstance(e, ValueError)
    assert str(e) == "m.yaml:3: spec.a: expected x"
    assert (e.reason, e.field, e.file, e.line) == ("expected x", "spec.a", "m.yaml", 3)
    assert str(ConfigError("bad", field="f")) == "f: bad"
    assert str(ConfigError("bad", file="m.yaml")) == "m.yaml: bad"
    assert str(ConfigError("bad", line=7)) == "line 7: bad"
    assert str(ConfigError("bad")) == "bad"


def test_config_warning_is_a_user_warning() -> None:
    assert issubclass(ConfigWarning, UserWarning)


# --- Secrets ------------------------------------------------------------------------------------


def test_secret_prints_masked() -> None:
    secret = Secret(SECRET)
    assert secret.reveal() == SECRET
    for shown in (repr(secret), str(secret), f"{secret}", "%s" % secret, f"{secret!r}", format(secret)):
        assert shown == "****"
    assert Secret(SECRET) == Secret(SECRET) and Secret(SECRET) != Secret("other")
    assert hash(Secret(SECRET)) == hash(Secret(SECRET))


def _all_credentials() -> list[AwsCredentials]:
    basic = AwsCredentials.basic("AKIAEXAMPLE", SECRET)
    return [basic, AwsCredentials.assume_role(ROLE, "reader", "ext", basic)]


@pytest.mark.parametrize("credentials", _all_credentials(), ids=["basic", "assume-role-with-basic-source"])
def test_specs_never_show_the_secret(credentials: AwsCredentials) -> None:
    ingress = (
        KinesisIngressBuilder.for_identifier("ex/in").with_stream("s").with_aws_credentials(credentials)
        .with_aws_region(AwsRegion.of("us-west-1")).build()
    )
    egress = KinesisEgressBuilder.for_identifier("ex/out").with_aws_credentials(credentials).build()
    for spec in (ingress, egress):
        shown = [repr(spec), str(spec), repr(spec.credentials), str(spec.credentials), repr(spec.boto3_arguments())]
        shown += [repr(masked(spec.aws_properties())), repr(masked(spec.sql_options("arn:s")))]
        for text in shown:
            assert SECRET not in text
        assert "****" in repr(spec)
    # the real value still reaches the connector
    assert SECRET in ingress.source_properties().values()
    assert SECRET in egress.sql_options("arn:s").values()


def test_secret_client_properties_masked_in_repr_and_masked() -> None:
    spec = (
        KinesisEgressBuilder.for_identifier("ex/out")
        .with_client_configuration_property("aws.credentials.provider", "BASIC")
        .with_client_configuration_property("aws.credentials.provider.basic.accesskeyid", "AKIA")
        .with_client_configuration_property("aws.credentials.provider.basic.secretkey", SECRET)
        .build()
    )
    assert SECRET not in repr(spec) and SECRET not in str(spec)
    assert "('aws.credentials.provider.basic.accesskeyid', 'AKIA')" in repr(spec)  # other values stay visible
    assert spec.sink_properties()["aws.credentials.provider.basic.secretkey"] == SECRET
    assert SECRET not in repr(masked(spec.sink_properties()))
    assert SECRET not in repr(masked(spec.sql_options("arn:s")))
    assert SECRET not in repr(spec.boto3_arguments())


@pytest.mark.parametrize(
    "key",
    ["aws.credentials.provider.basic.secretkey", "aws.credentials.basic.secretkey",
     "aws.credentials.provider.role.provider.basic.secretkey", "aws.session_token", "ProxyPassword",
     "sink.Secret-Thing"],
)
def test_masked_hides_secret_keys(key: str) -> None:
    out = masked({key: SECRET, "aws.region": "us-east-1"})
    assert out == {key: "****", "aws.region": "us-east-1"}


@pytest.mark.parametrize(
    "make",
    [
        lambda: AwsCredentials.basic("", SECRET),
        lambda: AwsCredentials.basic("AKIA", " "),
        lambda: AwsCredentials.assume_role("not-an-arn", "s", source=AwsCredentials.basic("A", SECRET)),
        lambda: KinesisEgressBuilder.for_identifier("a/b").with_client_configuration_property(
            "aws.credentials.provider.basic.secretkey", [SECRET]),
        lambda: KinesisEgressBuilder.for_identifier("a/b").with_client_configuration_property(
            "aws.credentials.provider.basic.secretkey", {"v": SECRET}),
        lambda: KinesisIngressBuilder.for_identifier("a/b").with_aws_credentials(
            AwsCredentials.basic("A", SECRET)).build(),
    ],
)
def test_errors_never_show_the_secret(make) -> None:
    with pytest.raises(ConfigError) as info:
        make()
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert SECRET not in str(info.value.args)


YAML_WITH_SECRET = f"""\
kind: io.statefun.kinesis.v1/egress
spec:
  id: ex/out
  awsRegion: {{type: specific, id: us-west-1}}
  awsCredentials:
    type: basic
    accessKeyId: AKIAEXAMPLE
    secretAccessKey: {SECRET}
  clientConfigProperties:
    - aws.credentials.provider.role.provider.basic.secretkey: {SECRET}
---
kind: io.statefun.kinesis.v1/ingress
spec:
  id: ex/in
  awsCredentials:
    type: assume-role
    roleArn: {ROLE}
    roleSessionName: reader
    source:
      type: basic
      accessKeyId: AKIASOURCE
      secretAccessKey: {SECRET}
  streams:
    - stream: s
      valueType: ex/T
      targets: [ex/f]
"""


def test_loaded_module_never_shows_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(YAML_WITH_SECRET)
    module = load_module(path)
    assert SECRET not in repr(module) and SECRET not in str(module)
    assert module.egresses["ex/out"].credentials.secret_access_key.reveal() == SECRET  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "tail",
    [
        "    secretAccesKey: {s}\n",  # misspelled key next to the secret
        "    secretAccessKey: {s}\n    extra: 1\n",
        "    secretAccessKey: {s}\n    secretAccessKey: {s}\n",  # duplicate key
        "    secretAccessKey: {s}\n  awsRegion: {{type: specific, id: uswest1}}\n",
        "    secretAccessKey: {s}\n  maxOutstandingRecords: 0\n",
        "    secretAccessKey: [{s}]\n",
        "    secretAccessKey: {{v: {s}}}\n",
        "    secretAccessKey: \"{s}\n",  # broken YAML
    ],
)
def test_yaml_errors_never_show_the_secret(tmp_path: Path, tail: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "kind: io.statefun.kinesis.v1/egress\nspec:\n  id: ex/out\n  awsCredentials:\n    type: basic\n"
        "    accessKeyId: AKIA\n" + tail.format(s=SECRET)
    )
    with pytest.raises(ConfigError) as info:
        load_module(path)
    assert str(path) in str(info.value)
    assert SECRET not in str(info.value)


def test_explain_and_validate_never_show_the_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(YAML_WITH_SECRET)
    assert main(["validate", str(path)]) == 0
    assert main(["explain", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "AKIAEXAMPLE" in out and "****" in out  # explain does show the configuration
    assert SECRET not in out and SECRET not in err


def test_logs_never_show_the_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(YAML_WITH_SECRET)
    with caplog.at_level(logging.DEBUG), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = load_module(path)
        for spec in [*module.ingresses.values(), *module.egresses.values()]:
            spec.aws_properties()
            spec.sql_options("arn:s")
            spec.boto3_arguments()
        module.egresses["ex/out"].create_client()
    assert caplog.records  # botocore did log at DEBUG, so the check below means something
    assert SECRET not in caplog.text
