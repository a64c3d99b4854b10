"""Issue 11, items 5 and 6, and the corpus: bad input across YAML, builders, transform arguments and the CLI.

Each case asserts the exact error class and the field or argument named (with file and line for YAML);
each CLI case also asserts a one-line ``error:`` on stderr, a non-zero exit and no traceback.
"""

from __future__ import annotations

import io
import sys
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, List, Optional, Tuple

import pytest

from pyflink_kinesis import (AwsCredentials, AwsRegion, ConfigError, EgressRecord, KinesisEgressBuilder,
                             KinesisEgressSerializer, KinesisIngressBuilder, KinesisIngressStartupPosition,
                             load_module)
from pyflink_kinesis.cli import main
from pyflink_kinesis.spec.records import InvalidRecordError

HEAD_IN = "kind: io.statefun.kinesis.v1/ingress\nspec:\n  id: ex/in\n"
HEAD_OUT = "kind: io.statefun.kinesis.v1/egress\nspec:\n  id: ex/out\n"
ROUTED = "  streams:\n    - stream: s1\n      valueType: ex/T\n      targets: [ex/f]\n"

# (id, module text or bytes, line, field) - load_module(file) must raise ConfigError at file:line: field.
YAML_CASES: List[Tuple[str, Any, Optional[int], str]] = [
    ("spec_is_a_list", "kind: io.statefun.kinesis.v1/ingress\nspec:\n  - id: ex/in\n  - streams: [s]\n", 2,
     "document[0].spec"),
    ("spec_is_a_number", "kind: io.statefun.kinesis.v1/egress\nspec: 42\n", 2, "document[0].spec"),
    ("not_utf8", b"kind: io.statefun.kinesis.v1/egress\nspec:\n  id: ex/\xe9\n", 3, ""),
    ("routed_ingress_without_deserializer", HEAD_IN + "  streams:\n    - s1\n", 5, "document[0].spec.streams[0]"),
    ("region_type_typo", HEAD_OUT + "  awsRegion:\n    type: specifc\n", 5, "document[0].spec.awsRegion.type"),
    ("region_under_credentials", HEAD_OUT + "  awsCredentials:\n    type: specific\n    id: eu-west-1\n", 5,
     "document[0].spec.awsCredentials.type"),
    ("streams_missing", HEAD_IN + "  startupPosition: {type: latest}\n", 2, "document[0].spec"),
    ("duplicate_key", HEAD_OUT + "  maxOutstandingRecords: 5\n  maxOutstandingRecords: 6\n", 5, ""),
    ("bad_yaml", HEAD_OUT + "  awsRegion: [unclosed\n", 5, ""),
    ("date_without_zone", HEAD_IN + "  startupPosition:\n    type: date\n    date: 2020-02-01 04:15:00\n" + ROUTED,
     6, "document[0].spec.startupPosition.date"),
    ("negative_max_outstanding", HEAD_OUT + "  maxOutstandingRecords: -1\n", 4,
     "document[0].spec.maxOutstandingRecords"),
    ("unknown_client_property", HEAD_OUT + "  clientConfigProperties:\n    - SocketTimout: 1\n", 5,
     "document[0].spec.clientConfigProperties[0].SocketTimout"),
    ("basic_credentials_without_secret", HEAD_OUT + "  awsCredentials:\n    type: basic\n    accessKeyId: AK\n", 4,
     "document[0].spec.awsCredentials"),
    ("unsupported_version", "version: \"4.0\"\nmodule:\n  spec: {}\n", 1, "version"),
    ("empty_module", "# nothing\n", 1, ""),
    ("duplicate_id", HEAD_OUT + "---\n" + HEAD_OUT, 7, "document[1].spec.id"),
    ("bad_stream_name", HEAD_IN + "  deserializer: json:loads\n  streams: ['bad stream!']\n", 5,
     "document[0].spec.streams[0]"),
    ("deserializer_not_importable", HEAD_IN + "  deserializer: nomodule_xyz:thing\n  streams: [s1]\n", 4,
     "document[0].spec.deserializer"),
    ("spec_without_id", "kind: io.statefun.kinesis.v1/egress\nspec:\n  maxOutstandingRecords: 5\n", 2,
     "document[0].spec"),
]


# What some messages must also say.
HINTS = {"routed_ingress_without_deserializer": "needs a 'deserializer:'", "not_utf8": "not UTF-8",
         "spec_is_a_list": "expected a mapping", "spec_is_a_number": "expected a mapping"}


@pytest.mark.parametrize("case, text, line, field", YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_yaml(tmp_path: Path, case: str, text: Any, line: Optional[int], field: str) -> None:
    path = tmp_path / "module.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(ConfigError) as caught:
        load_module(path)
    e = caught.value
    assert type(e) is ConfigError
    assert e.file == str(path) and str(e).startswith(f"{path}:")
    assert e.line == line
    assert (e.field or "") == field
    assert HINTS.get(case, "") in e.reason


def test_load_module_never_reads_a_path_as_yaml_text(tmp_path: Path) -> None:
    for missing in (str(tmp_path / "missing.yaml"), "c:/modules/module.yaml", "module:with:colons"):
        with pytest.raises(ConfigError) as caught:
            load_module(missing)
        assert type(caught.value) is ConfigError and caught.value.file == missing
        assert "cannot read the module file" in str(caught.value) and "<string>" not in str(caught.value)
    # A str with a line break is YAML text; a Path is always a file.
    text = HEAD_OUT + "  maxOutstandingRecords: 5\n"
    assert load_module(text).egresses["ex/out"].max_outstanding_records == 5
    (tmp_path / "m.yaml").write_text(text)
    assert load_module(tmp_path / "m.yaml").source == str(tmp_path / "m.yaml")


class _NoMethod(KinesisEgressSerializer):
    pass


def _in() -> KinesisIngressBuilder:
    return KinesisIngressBuilder.for_identifier("ex/in")


def _out() -> KinesisEgressBuilder:
    return KinesisEgressBuilder.for_identifier("ex/out")


def _spec() -> Any:
    return _out().with_aws_region(AwsRegion.of("us-east-1")).with_aws_credentials(AwsCredentials.basic("a", "b")).build()


def _ingress() -> Any:
    return (_in().with_aws_region(AwsRegion.of("us-east-1")).with_aws_credentials(AwsCredentials.basic("a", "b"))
            .with_stream("s").build())


def _write(**kwargs: Any) -> Any:
    from beam_transforms import WriteToKinesis
    return WriteToKinesis(_spec(), **kwargs)


def _read(**kwargs: Any) -> Any:
    from beam_transforms import ReadFromKinesis
    return ReadFromKinesis(_ingress(), **kwargs)


# (id, call, exact error class, field named)
API_CASES: List[Tuple[str, Callable[[], Any], type, str]] = [
    ("id_without_slash", lambda: KinesisIngressBuilder.for_identifier("noslash"), ConfigError, "id"),
    ("stream_name", lambda: _in().with_stream("bad stream!"), ConfigError, "stream"),
    ("max_outstanding_zero", lambda: _out().with_max_outstanding_records(0), ConfigError, "max_outstanding_records"),
    ("endpoint_without_scheme", lambda: AwsRegion.of_custom_endpoint("localhost:4568", "us-east-1"), ConfigError,
     "endpoint"),
    ("deserializer_number", lambda: _in().with_deserializer(42), ConfigError, "deserializer"),
    ("serializer_without_method", lambda: _out().with_serializer(_NoMethod), ConfigError, "serializer"),
    ("naive_date", lambda: KinesisIngressStartupPosition.from_date(datetime(2020, 1, 1)), ConfigError, "date"),
    ("client_property_typo", lambda: _out().with_client_configuration_property("SocketTimout", 1), ConfigError,
     "client_properties.SocketTimout"),
    ("hash_key_superscript", lambda: EgressRecord(b"x", "s", "k", "²"), InvalidRecordError,
     "EgressRecord.explicit_hash_key"),
    ("hash_key_arabic_indic", lambda: EgressRecord(b"x", "s", "k", "١٢٣"), InvalidRecordError,
     "EgressRecord.explicit_hash_key"),
    ("partition_key_astral", lambda: EgressRecord(b"x", "s", "\U0001D11E" * 129), InvalidRecordError,
     "EgressRecord.partition_key"),
    ("record_stream_name", lambda: EgressRecord(b"x", "bad stream!", "k"), InvalidRecordError, "EgressRecord.stream"),
    ("dead_letter_text", lambda: _write(dead_letter="yes"), ConfigError, "dead_letter"),
    ("max_batch_records_bool", lambda: _write(max_batch_records=True), ConfigError, "max_batch_records"),
    ("max_batch_records_501", lambda: _write(max_batch_records=501), ConfigError, "max_batch_records"),
    ("max_batch_bytes_bool", lambda: _write(max_batch_bytes=True), ConfigError, "max_batch_bytes"),
    ("max_concurrent_requests_zero", lambda: _write(max_concurrent_requests=0), ConfigError,
     "max_concurrent_requests"),
    ("max_attempts_zero", lambda: _write(max_attempts=0), ConfigError, "max_attempts"),
    ("write_max_retry_time_negative", lambda: _write(max_retry_time=-1), ConfigError, "max_retry_time"),
    ("initial_backoff_negative", lambda: _write(initial_backoff=-1), ConfigError, "initial_backoff"),
    ("egress_id_not_in_module", lambda: __import__("beam_transforms").WriteToKinesis(
        "ex/ouz", SimpleNamespace(egresses={"ex/out": _spec()})), ConfigError, "egress"),
    ("max_records_zero", lambda: _read(max_records=0), ConfigError, "max_records"),
    ("on_deserialize_error", lambda: _read(on_deserialize_error="ignore"), ConfigError, "on_deserialize_error"),
    ("read_max_retry_time_zero", lambda: _read(max_retry_time=0), ConfigError, "max_retry_time"),
    ("stop_when_caught_up_text", lambda: _read(stop_when_caught_up="yes"), ConfigError, "stop_when_caught_up"),
]


@pytest.mark.parametrize("call, error, field", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api(call: Callable[[], Any], error: type, field: str) -> None:
    if {"_write", "_read", "__import__"} & set(call.__code__.co_names):
        pytest.importorskip("apache_beam")
    with pytest.raises(ConfigError) as caught:
        call()
    assert type(caught.value) is error
    assert caught.value.field == field


NO_SERVER = ["--endpoint", "http://127.0.0.1:9"]  # nothing listens: no case may get as far as a call

# (id, argv, stdin bytes or None, the argument named)
CLI_CASES: List[Tuple[str, List[str], Optional[bytes], str]] = [
    ("hex_not_hex", ["streams", "put", "s", "--hex", "zz", *NO_SERVER], None, "--hex"),
    ("file_missing", ["streams", "put", "s", "--file", "/nonexistent/payload", *NO_SERVER], None, "--file"),
    ("stdin_empty", ["streams", "put", "s", *NO_SERVER], b"", "stdin"),
    ("tail_max_negative", ["streams", "tail", "s", "--max", "-1", *NO_SERVER], None, "--max"),
    ("tail_timeout_zero", ["streams", "tail", "s", "--timeout", "0", *NO_SERVER], None, "--timeout"),
    ("create_zero_shards", ["streams", "create", "s", "--shards", "0", *NO_SERVER], None, "--shards"),
    ("put_bad_stream", ["streams", "put", "bad stream!", "--data", "x", *NO_SERVER], None, "stream"),
    ("put_empty_partition_key", ["streams", "put", "s", "--partition-key", "", "--data", "x", *NO_SERVER], None,
     "--partition-key"),
    ("module_id_missing", ["streams", "list", "--module", "MODULE", "--id", "ex/none"], None, "--id"),
    ("validate_missing_file", ["validate", "/nonexistent/module.yaml"], None, "/nonexistent/module.yaml"),
    ("validate_spec_list", ["validate", "BADSPEC"], None, "document[0].spec"),
    ("validate_no_kinesis", ["validate", "NOKINESIS"], None, "no Kinesis ingress or egress"),
    ("explain_no_kinesis", ["explain", "NOKINESIS"], None, "nothing to explain"),
    ("endpoint_without_scheme", ["streams", "list", "--endpoint", "localhost:4568"], None, "endpoint"),
]


@pytest.mark.parametrize("argv, stdin, named", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, argv: List[str],
             stdin: Optional[bytes], named: str) -> None:
    files = {"MODULE": HEAD_OUT, "BADSPEC": "kind: io.statefun.kinesis.v1/egress\nspec: [1]\n",
             "NOKINESIS": "kind: io.statefun.endpoints.v2/http\nspec:\n  functions: ex/*\n"}
    for placeholder, text in files.items():
        (tmp_path / f"{placeholder}.yaml").write_text(text)
    argv = [str(tmp_path / f"{a}.yaml") if a in files else a for a in argv]
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(argv)  # an exception escaping here would be a traceback for the user
    out, err = capsys.readouterr()
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert named in lines[0] and "Traceback" not in out + err


def test_the_corpus_has_at_least_40_bad_inputs() -> None:
    assert len(YAML_CASES) + len(API_CASES) + len(CLI_CASES) >= 40


def test_the_cli_process_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1])] + sys.path)}
    done = subprocess.run([sys.executable, "-m", "pyflink_kinesis", "streams", "put", "s", "--file",
                           str(tmp_path / "missing"), *NO_SERVER], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: --file: cannot read"), done.stderr
