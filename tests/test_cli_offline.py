"""``pyflink-kinesis validate`` and ``explain``: no emulator, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyflink_kinesis.cli import main

from tests.yaml_support import HTTP_ENDPOINT, write

REPO = Path(__file__).resolve().parents[1]

GOOD = HTTP_ENDPOINT + """\
kind: io.statefun.kinesis.v1/ingress
spec:
  id: example/in
  awsRegion: {type: custom-endpoint, endpoint: "http://localhost:4568", id: us-east-1}
  awsCredentials:
    type: basic
    accessKeyId: AKIAEXAMPLE
    secretAccessKey: SeCrEt-123
  startupPosition:
    type: date
    date: 2020-02-01 04:15:00.00 Z
  streams:
    - stream: readings
      valueType: example/Reading
      targets: [example/f]
  clientConfigProperties:
    - SocketTimeout: 9999
---
kind: io.statefun.kinesis.v1/egress
spec:
  id: example/out
  awsRegion:
    type: specific
    id: eu-west-1
  awsCredentials:
    type: profile
    profileName: john-doe
    profilePath: /etc/aws/credentials
  maxOutstandingRecords: 100
"""

BAD = """\
kind: io.statefun.kinesis.v1/egress
spec:
  id: example/out
  maxOutstandingRecord: 5
"""


def test_validate_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert f"{path}: OK (1 ingress(es), 1 egress(es))" in out
    assert "line 1: 'io.statefun.endpoints.v2/http' is not a Kinesis component; skipped" in out
    assert err == ""


def test_validate_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BAD)
    assert main(["validate", str(path)]) != 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {path}:4: document[0].spec.maxOutstandingRecord: unknown key")
    assert "did you mean 'maxOutstandingRecords'?" in err


def test_validate_warning_goes_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BAD.replace("  maxOutstandingRecord: 5\n", "  clientConfigProperties:\n    - ThreadPoolSize: 4\n"))
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "OK" in out
    assert f"warning: {path}:5: " in err and "ThreadPoolSize" in err


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "absent.yaml"
    assert main(["validate", str(path)]) != 0
    assert f"error: {path}: cannot read the module file" in capsys.readouterr().err


def test_validate_needs_no_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """validate checks the file; resolving the default region is explain's (and the job's) business."""
    path = write(tmp_path, "kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/b\n")
    assert main(["validate", str(path)]) == 0


def test_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    assert main(["explain", str(path)]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    ingress = report["ingresses"]["example/in"]
    assert ingress["streams"] == ["readings"]
    assert ingress["startup_position"] == "AT_TIMESTAMP"
    source = ingress["flink_source_properties"]
    assert source["aws.endpoint"] == "http://localhost:4568"
    assert source["aws.credentials.provider.basic.secretkey"] == "****"
    assert source["aws.credentials.provider.basic.accesskeyid"] == "AKIAEXAMPLE"
    assert source["source.init.timestamp"] == "2020-02-01T04:15:00.000Z"
    assert source["aws.http-client.read-timeout"] == "9999"
    assert source["aws.trust.all.certificates"] == "true"
    sql = ingress["sql_options"]
    assert sql["connector"] == "pyflink-kinesis" and sql["aws.credentials.basic.secretkey"] == "****"
    assert "readings" in sql["stream.arn"]
    assert ingress["boto3"]["client"]["endpoint_url"] == "http://localhost:4568"
    assert ingress["boto3"]["client"]["config"] == {"read_timeout": 9.999}
    assert "kind='basic'" in ingress["boto3"]["credentials"]
    ddl = ingress["sql_create_table"]
    assert ddl.startswith("CREATE TABLE `example_in` (") and "'aws.credentials.basic.secretkey' = '****'" in ddl

    egress = report["egresses"]["example/out"]
    assert egress["max_outstanding_records"] == 100
    sink = egress["flink_sink_properties"]
    assert sink["aws.region"] == "eu-west-1"
    assert sink["aws.credentials.provider.profile.path"] == "/etc/aws/credentials"
    assert egress["sql_options"]["sink.requests.max-buffered"] == "100"
    assert "SeCrEt-123" not in out and "SeCrEt-123" not in err


def test_explain_reports_missing_default_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/b\n")
    assert main(["explain", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert "AWS_REGION" in report["egresses"]["a/b"]["error"]


def test_explain_uses_default_region_from_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-northeast-1")
    path = write(tmp_path, "kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/b\n")
    assert main(["explain", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["egresses"]["a/b"]["flink_sink_properties"]["aws.region"] == "ap-northeast-1"


def test_explain_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BAD)
    assert main(["explain", str(path)]) != 0
    out, err = capsys.readouterr()
    assert out == "" and f"error: {path}:4:" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
    assert "file" in capsys.readouterr().err


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true",
               PYTHONPATH=str(REPO))
    return env


def test_python_dash_m(tmp_path: Path) -> None:
    good, bad = write(tmp_path, GOOD, "good.yaml"), write(tmp_path, BAD, "bad.yaml")
    ok = subprocess.run([sys.executable, "-m", "pyflink_kinesis", "validate", str(good)], capture_output=True,
                        text=True, cwd=tmp_path, env=_env(tmp_path), timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert f"{good}: OK (1 ingress(es), 1 egress(es))" in ok.stdout
    failed = subprocess.run([sys.executable, "-m", "pyflink_kinesis", "validate", str(bad)], capture_output=True,
                            text=True, cwd=tmp_path, env=_env(tmp_path), timeout=120)
    assert failed.returncode != 0
    assert f"{bad}:4: document[0].spec.maxOutstandingRecord" in failed.stderr
    explained = subprocess.run([sys.executable, "-m", "pyflink_kinesis", "explain", str(good)], capture_output=True,
                               text=True, cwd=tmp_path, env=_env(tmp_path), timeout=120)
    assert explained.returncode == 0, explained.stderr
    assert json.loads(explained.stdout)["egresses"]["example/out"]["flink_sink_properties"]["aws.region"] == "eu-west-1"
    assert "SeCrEt-123" not in explained.stdout + explained.stderr
