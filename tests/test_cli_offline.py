"""``pyflink-kinesis validate``, ``explain``, ``keys``, ``jar`` and every verb's help: no emulator, no network."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from pyflink_kinesis import cli
from pyflink_kinesis.cli import main
from pyflink_kinesis.flink.jar import ConnectorJarMissing, connector_jar

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


def test_explain_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    assert main(["explain", str(path), "--json"]) == 0
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
    assert "aws.trust.all.certificates" not in source  # nothing added because the endpoint is local
    [table] = ingress["sql"]
    sql = table["options"]
    assert sql["connector"] == "pyflink-kinesis" and sql["aws.credentials.basic.secretkey"] == "****"
    assert sql["stream"] == "readings" and "stream.arn" not in sql  # the name is enough for our connector
    assert ingress["boto3"]["client"]["endpoint_url"] == "http://localhost:4568"
    assert ingress["boto3"]["client"]["config"] == {"read_timeout": 9.999}
    assert "kind='basic'" in ingress["boto3"]["credentials"]
    ddl = table["create_table"]
    assert ddl.startswith("CREATE TABLE `example_in` (") and "'aws.credentials.basic.secretkey' = '****'" in ddl

    egress = report["egresses"]["example/out"]
    assert egress["max_outstanding_records"] == 100
    sink = egress["flink_sink_properties"]
    assert sink["aws.region"] == "eu-west-1"
    assert sink["aws.credentials.provider.profile.path"] == "/etc/aws/credentials"
    [table] = egress["sql"]
    assert table["options"]["sink.requests.max-buffered"] == "100" and "stream" not in table["options"]
    assert "`stream` STRING METADATA FROM 'stream'" in table["create_table"]  # each row names its stream
    assert "SeCrEt-123" not in out and "SeCrEt-123" not in err


def test_explain_prints_sql_a_user_can_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    assert main(["explain", str(path)]) == 0
    text = capsys.readouterr().out
    assert main(["explain", str(path), "--sql"]) == 0
    sql = capsys.readouterr().out
    assert text.endswith(sql) and text.startswith("ingress example/in\n")  # the report, then the statements
    assert "\\n" not in text and '"' not in sql  # SQL text, not JSON strings
    assert "    aws.credentials.provider.basic.accesskeyid = AKIAEXAMPLE\n" in text
    assert "    SocketTimeout: honoured by beam, flink, sql, official-sql\n" in text
    statements = [part for part in sql.split("\n\n") if part.startswith("-- example/")]
    assert [s.splitlines()[1] for s in statements] == ["CREATE TABLE `example_in` (", "CREATE TABLE `example_out` ("]
    assert all(s.rstrip("\n").endswith("\n);") for s in statements)  # each statement ends with ";"
    reading = statements[0]
    assert reading.startswith("-- example/in: the 'pyflink-kinesis' table that reads stream readings\n")
    assert "  'stream' = 'readings',\n" in reading and "stream.arn" not in reading
    assert "  'aws.credentials.basic.secretkey' = '****',\n" in reading and "SeCrEt" not in text


def test_explain_for_the_official_connector_names_the_arn_to_fill_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD)
    assert main(["explain", str(path), "--sql", "--connector", "kinesis"]) == 0
    sql = capsys.readouterr().out
    assert "'connector' = 'kinesis'" in sql and "METADATA" not in sql
    assert "'stream.arn' = '<ARN of readings: aws kinesis describe-stream-summary>'" in sql
    assert "'stream.arn' = '<ARN of the stream: aws kinesis describe-stream-summary>'" in sql  # the egress's


def test_explain_makes_a_table_per_stream_of_an_ingress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "kind: io.statefun.kinesis.v1/ingress\nspec:\n  id: a/b\n  streams: [one, two]\n"
                           "  deserializer: json:loads\n  awsRegion: {type: specific, id: eu-west-1}\n")
    assert main(["explain", str(path), "--sql"]) == 0
    sql = capsys.readouterr().out
    assert "CREATE TABLE `a_b_one` (" in sql and "'stream' = 'one'" in sql
    assert "CREATE TABLE `a_b_two` (" in sql and "'stream' = 'two'" in sql


def test_explain_reports_missing_default_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/b\n")
    assert main(["explain", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert "AWS_REGION" in report["egresses"]["a/b"]["error"]
    assert main(["explain", str(path)]) == 1
    assert "egress a/b\n  error: " in capsys.readouterr().out
    assert main(["explain", str(path), "--sql"]) == 1
    out, err = capsys.readouterr()
    assert "CREATE" not in out and err.startswith("error: egress a/b: ") and "AWS_REGION" in err


def test_explain_uses_default_region_from_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-northeast-1")
    path = write(tmp_path, "kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/b\n")
    assert main(["explain", str(path), "--json"]) == 0
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
    explained = subprocess.run([sys.executable, "-m", "pyflink_kinesis", "explain", str(good), "--json"], capture_output=True,
                               text=True, cwd=tmp_path, env=_env(tmp_path), timeout=120)
    assert explained.returncode == 0, explained.stderr
    assert json.loads(explained.stdout)["egresses"]["example/out"]["flink_sink_properties"]["aws.region"] == "eu-west-1"
    assert "SeCrEt-123" not in explained.stdout + explained.stderr


# --- the command as a newcomer meets it ---------------------------------------------------------

CONSOLE_SCRIPT = """\
import os, sys
assert os.getcwd() not in sys.path and "" not in sys.path, sys.path  # as the installed pyflink-kinesis script
from pyflink_kinesis.cli import main
sys.exit(main())
"""


def console_script(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pyflink-kinesis ARGS`` run from the checkout's root as the installed console script runs: the import
    path starts elsewhere (not at the current folder); this checkout's package is the one imported."""
    packages = tmp_path / "packages"
    packages.mkdir(exist_ok=True)
    if not (packages / "pyflink_kinesis").exists():
        (packages / "pyflink_kinesis").symlink_to(REPO / "pyflink_kinesis")
    env = {**_env(tmp_path), "PYTHONPATH": str(packages), "PYTHONSAFEPATH": "1"}
    return subprocess.run([sys.executable, "-c", CONSOLE_SCRIPT, *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=120)


def test_the_console_script_imports_the_module_code_from_the_current_folder(tmp_path: Path) -> None:
    """examples/module.yaml names examples.sensors:parse_reading: found from the checkout's root, as the README
    runs it, although a console script's import path does not start at the current folder."""
    validated = console_script(tmp_path, "validate", "examples/module.yaml")
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout == "examples/module.yaml: OK (1 ingress(es), 1 egress(es))\n"
    explained = console_script(tmp_path, "explain", "examples/module.yaml")
    assert explained.returncode == 0, explained.stderr
    assert "CREATE TABLE `example_readings` (\n  `data` BYTES\n)\nWITH (\n  'connector' = 'pyflink-kinesis',\n" \
           "  'stream' = 'sensor-readings',\n" in explained.stdout


def test_the_current_folder_leaves_the_import_path_after_a_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    (tmp_path / "mine.py").write_text("def parse(record):\n    return record\n")
    module = write(tmp_path, "kind: io.statefun.kinesis.v1/ingress\nspec:\n  id: a/b\n  streams: [s]\n"
                             "  deserializer: mine:parse\n")
    assert main(["validate", str(module)]) == 0
    assert str(tmp_path) not in sys.path


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, path + (name,))


def test_no_help_and_no_keys_output_carries_markup(capsys: pytest.CaptureFixture[str]) -> None:
    helps = dict(_parsers(cli.parser()))
    assert ("streams", "tail") in helps and ("jar",) in helps and len(helps) >= 16
    for path, parser in helps.items():
        text = parser.format_help()
        assert "`" not in text and "\\|" not in text, (path, text)
    assert main(["keys"]) == 0
    out = capsys.readouterr().out
    assert "source.init.position (connector, LATEST | TRIM_HORIZON | AT_TIMESTAMP, default LATEST)" in out
    assert "`" not in out and "\\|" not in out


def test_streams_help_shows_each_verbs_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["streams", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # unwrapped
    usages = {verb: text.split(f"pyflink-kinesis streams {verb} ")[1].split("pyflink-kinesis")[0]
              for verb in ("create", "list", "put", "tail")}
    assert "--shards N" in usages["create"]
    assert "[--data TEXT | --hex HEX | --file FILE]" in usages["put"] and "--partition-key KEY" in usages["put"]
    for option in ("--start {earliest,latest}", "--max N", "--timeout SECONDS", "--data {base64,text,hex,json}"):
        assert option in usages["tail"]
    assert all("--endpoint URL" in usage and "--module FILE" in usage for usage in usages.values())
    assert "STREAM" not in usages["list"] and "--shards" not in usages["tail"] + usages["put"] + usages["list"]


# --- jar ----------------------------------------------------------------------------------------


def test_jar_prints_the_installed_flinks_connector_jar(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyflink")
    assert main(["jar"]) == 0
    printed = Path(capsys.readouterr().out.rstrip("\n"))
    assert printed.is_file() and printed == connector_jar() and printed.suffix == ".jar"


@pytest.mark.parametrize("line, jar", [("1.20", "1.20"), ("1.20.3", "1.20"), ("2.x", "2.x"), ("2.2", "2.x"), ("2.3.0", "2.x")])
def test_jar_for_a_named_flink_line(line: str, jar: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jar", "--flink", line]) == 0
    printed = Path(capsys.readouterr().out.rstrip("\n"))
    assert printed.is_file() and printed.name == f"pyflink-kinesis-connector-flink-{jar}.jar"
    assert main(["jar", "--flink", line, "--url"]) == 0
    assert capsys.readouterr().out == printed.as_uri() + "\n"  # file:///...: what pipeline.jars takes


def test_jar_without_pyflink_says_to_pass_the_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def absent() -> str:
        raise ConnectorJarMissing("apache-flink is not installed")

    monkeypatch.setattr("pyflink_kinesis.flink.jar.installed_flink_version", absent)
    assert main(["jar"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: --flink: PyFlink (apache-flink) is not installed here")
    assert "--flink 1.20 or --flink 2.x" in err
    monkeypatch.setattr("pyflink_kinesis.flink.jar.installed_flink_version", lambda: "1.20.3")
    assert main(["jar"]) == 0
    assert capsys.readouterr().out.endswith("pyflink-kinesis-connector-flink-1.20.jar\n")


def test_jar_for_a_flink_without_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jar", "--flink", "1.19"]) == 1
    assert capsys.readouterr().err == "error: --flink: Flink '1.19': the connector is built for Flink 1.20, 2.1, 2.2, 2.3 only\n"


@pytest.mark.parametrize("properties, told", [
    ("", True),
    ("  clientConfigProperties:\n    - AggregationEnabled: true\n", False),
    ("  clientConfigProperties:\n    - sink.aggregation.enabled: false\n", False),
])
def test_explain_tells_an_egress_without_aggregation_that_statefuns_kpl_aggregated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], properties: str, told: bool) -> None:
    path = tmp_path / "egress.yaml"
    path.write_text("kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/out\n"
                    "  awsRegion: {type: specific, id: eu-west-1}\n  serializer: json:dumps\n" + properties)
    assert main(["explain", str(path)]) == 0
    out = capsys.readouterr().out
    assert ("note: StateFun's egress wrote through the KPL, which aggregated" in out) is told, out
