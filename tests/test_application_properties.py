"""MSF runtime properties (application_properties.json): specs from `kind: ingress|egress` groups, plain groups for
the job's own settings, where the file is found, and an error naming the file, the group and the key for every
kind of bad input, with secrets never shown."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import pyflink_kinesis.spec.application_properties as application_properties
from pyflink_kinesis import (AwsCredentials, AwsRegion, ConfigError, KinesisEgressBuilder, KinesisIngressBuilder,
                             KinesisIngressStartupPosition, load_application_properties)

ROOT = Path(__file__).resolve().parents[1]
ROLE = "arn:aws:iam::123456789012:role/reader"
LOCAL = {"aws.region": "us-east-1", "aws.endpoint": "http://127.0.0.1:4568", "aws.credentials.provider": "BASIC",
         "aws.credentials.provider.basic.accesskeyid": "AKIDLOCAL",
         "aws.credentials.provider.basic.secretkey": "s3cr3t-value"}


def write(tmp_path: Path, groups: Any, name: str = "application_properties.json") -> Path:
    path = tmp_path / name
    path.write_text(groups if isinstance(groups, str) else json.dumps(groups), encoding="utf-8")
    return path


def group(group_id: str, **values: str) -> dict[str, Any]:
    return {"PropertyGroupId": group_id, "PropertyMap": values}


def test_ingress_and_egress_groups_become_the_specs_the_builders_make(tmp_path: Path) -> None:
    path = write(tmp_path, [
        group("readings", kind="ingress", streams="sensors, sensors-eu", **LOCAL,
              **{"source.init.position": "AT_TIMESTAMP", "source.init.timestamp": "2026-01-02T03:04:05.678Z",
                 "source.shard.discovery.interval": "2 s", "SocketTimeout": "9000"}),
        group("alerts", kind="egress", namespace="example",
              **{"aws.region": "eu-west-1", "aws.credentials.provider": "ASSUME_ROLE",
                 "aws.credentials.provider.role.arn": ROLE, "aws.credentials.provider.role.sessionName": "writer",
                 "aws.credentials.provider.role.provider": "PROFILE",
                 "aws.credentials.provider.role.provider.profile.name": "ops",
                 "sink.requests.max-buffered": "250", "sink.batch.max-size": "100"}),
    ])
    loaded = load_application_properties(path)

    want_in = (KinesisIngressBuilder.for_identifier("msf/readings")
               .with_aws_region(AwsRegion.of_custom_endpoint("http://127.0.0.1:4568", "us-east-1"))
               .with_aws_credentials(AwsCredentials.basic("AKIDLOCAL", "s3cr3t-value"))
               .with_streams(["sensors", "sensors-eu"])
               .with_client_configuration_properties({"source.init.position": "AT_TIMESTAMP",
                                                      "source.init.timestamp": "2026-01-02T03:04:05.678Z",
                                                      "source.shard.discovery.interval": "2 s",
                                                      "SocketTimeout": "9000"}).build())
    want_out = (KinesisEgressBuilder.for_identifier("example/alerts").with_aws_region(AwsRegion.of("eu-west-1"))
                .with_aws_credentials(AwsCredentials.assume_role(ROLE, "writer", None, AwsCredentials.profile("ops")))
                .with_max_outstanding_records(250)
                .with_client_configuration_property("sink.batch.max-size", "100").build())
    assert loaded.ingresses == {"readings": want_in}
    assert loaded.egresses == {"alerts": want_out}
    assert loaded.groups == {} and loaded.source == str(path)
    ingress = loaded.ingresses["readings"]
    assert ingress.startup_position == KinesisIngressStartupPosition.from_date(
        datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc))
    assert ingress.source_properties()["aws.http-client.read-timeout"] == "9000"
    assert loaded.egresses["alerts"].sql_options("arn")["sink.requests.max-buffered"] == "250"


def test_plain_groups_are_dicts_for_the_job_and_secrets_are_masked_in_every_repr(tmp_path: Path) -> None:
    path = write(tmp_path, [
        group("kinesis.analytics.flink.run.options", python="job.py", jarfile="lib/c.jar", pyFiles="site-packages/"),
        group("job", **{"output.stream": "out", "db.password": "hunter2-secret"}),
        group("in", kind="ingress", streams="s", **LOCAL),
        group("out", kind="egress", **LOCAL),
    ])
    loaded = load_application_properties(path)
    assert set(loaded.ingresses) == {"in"} and set(loaded.egresses) == {"out"}
    assert loaded.group("job") == {"output.stream": "out", "db.password": "hunter2-secret"}
    assert isinstance(loaded.group("job"), dict)
    assert loaded.groups["kinesis.analytics.flink.run.options"]["pyFiles"] == "site-packages/"
    assert loaded.ingresses["in"].deserializer is None and loaded.egresses["out"].serializer is None
    for shown in (repr(loaded), str(loaded), repr(loaded.group("job")), str(loaded.groups), repr(loaded.ingresses)):
        assert "hunter2-secret" not in shown and "s3cr3t-value" not in shown, shown
    assert "'db.password': '****'" in repr(loaded.group("job"))
    with pytest.raises(ConfigError) as info:
        loaded.group("jobs")
    assert str(info.value).startswith(f"{path}: no property group 'jobs' (did you mean 'job'?)")


def test_deserializer_and_serializer_are_import_paths(tmp_path: Path) -> None:
    path = write(tmp_path, [
        group("in", kind="ingress", streams="s", deserializer="examples.sensors:parse_reading", **LOCAL),
        group("out", kind="egress", serializer="examples.sensors:SensorEventSerializer", **LOCAL),
    ])
    loaded = load_application_properties(path)
    from examples.sensors import STREAMS, Reading, parse_reading

    assert loaded.ingresses["in"].deserializer is parse_reading
    record = loaded.egresses["out"].serializer(Reading(7, 45.0, datetime.now(timezone.utc), "shard-0", "1"))
    assert (record.stream, record.partition_key) == (STREAMS["alerts"], "sensor-7")


BAD_GROUPS = [  # (group map, the key the error names, words the message has)
    ({"kind": "ingres", "streams": "s"}, "kind", "did you mean 'ingress'"),
    ({"kind": "ingress"}, "streams", "stream names"),
    ({"kind": "ingress", "streams": "ok, not ok"}, "streams", "'not ok'"),
    ({"kind": "ingress", "streams": "s", "aws.region": "moon-1"}, "aws.region", "not an AWS region id"),
    ({"kind": "egress", "aws.endpoint": "http://127.0.0.1:4568"}, "aws.endpoint", "needs aws.region"),
    ({"kind": "egress", "aws.region": "us-east-1", "aws.endpoint": "127.0.0.1:4568"}, "aws.endpoint", "URL"),
    ({"kind": "egress", "aws.credentials.provider": "BASIC", "aws.credentials.provider.basic.accesskeyid": "AKID"},
     "aws.credentials.provider.basic.secretkey", "missing: BASIC credentials need it"),
    ({"kind": "egress", "aws.credentials.provider.basic.secretKey": "x"},
     "aws.credentials.provider.basic.secretKey", "did you mean 'basic.secretkey'"),
    ({"kind": "egress", "aws.credentials.provider": "CUSTOM"}, "aws.credentials.provider", "Java connector"),
    ({"kind": "egress", "aws.credentials.provider": "ASSUME_ROLE", "aws.credentials.provider.role.arn": "nope"},
     "aws.credentials.provider.role.arn", "not a role ARN"),
    ({"kind": "ingress", "streams": "s", "source.init.position": "EARLIEST"}, "source.init.position", "TRIM_HORIZON"),
    ({"kind": "ingress", "streams": "s", "source.init.position": "AT_TIMESTAMP"}, "source.init.position",
     "needs source.init.timestamp"),
    ({"kind": "ingress", "streams": "s", "source.init.position": "AT_TIMESTAMP", "source.init.timestamp": "soon"},
     "source.init.timestamp", "soon"),
    ({"kind": "ingress", "streams": "s", "SocketTimeOut": "1"}, "SocketTimeOut", "did you mean 'SocketTimeout'"),
    ({"kind": "ingress", "streams": "s", "sink.batch.max-size": "10"}, "sink.batch.max-size", "kind: ingress"),
    ({"kind": "egress", "source.init.position": "LATEST"}, "source.init.position", "kind: egress"),
    ({"kind": "egress", "sink.requests.max-buffered": "many"}, "sink.requests.max-buffered", "'many'"),
    ({"kind": "egress", "sink.requests.max-buffered": "0"}, "sink.requests.max-buffered", "greater than 0"),
    ({"kind": "egress", "namespace": "a/b"}, "namespace", "namespace/name"),
    ({"kind": "ingress", "streams": "s", "deserializer": "no_such_module_here:parse"}, "deserializer",
     "no_such_module_here"),
    ({"kind": "egress", "serializer": "examples.sensors:no_such_function"}, "serializer", "no_such_function"),
]


@pytest.mark.parametrize("values,key,words", BAD_GROUPS, ids=[f"{k}-{i}" for i, (_, k, _) in enumerate(BAD_GROUPS)])
def test_every_error_names_the_file_the_group_and_the_key(tmp_path: Path, values: dict[str, str], key: str,
                                                          words: str) -> None:
    path = write(tmp_path, [group("fine", kind="ingress", streams="s"), group("broken", **values)])
    with pytest.raises(ConfigError) as info:
        load_application_properties(path)
    e = info.value
    assert (e.file, e.field) == (str(path), f"broken[{key}]"), str(e)
    assert str(e).startswith(f"{path}: broken[{key}]: ") and words in str(e), str(e)
    assert "\n" not in str(e)


FILE_ERRORS = [  # (file text, field or None, words)
    ("[{\"PropertyGroupId\": \"a\"", None, "not valid JSON"),
    ("{\"PropertyGroupId\": \"a\", \"PropertyMap\": {}}", None, "expected a JSON list"),
    ("[\"a\"]", "[0]", "expected an object"),
    ("[{\"PropertyGroupId\": \"a\", \"PropertyMap\": {}, \"Extra\": 1}]", "[0]", "unknown key 'Extra'"),
    ("[{\"PropertyGroupId\": \"ns/in\", \"PropertyMap\": {}}]", "[0][PropertyGroupId]", "what the service accepts"),
    ("[{\"PropertyGroupId\": \"a\", \"PropertyMap\": [\"x\"]}]", "a[PropertyMap]", "expected an object"),
    ("[{\"PropertyGroupId\": \"a\", \"PropertyMap\": {\"n\": 5}}]", "a[n]", "non-empty text"),
    ("[{\"PropertyGroupId\": \"a\", \"PropertyMap\": {}}, {\"PropertyGroupId\": \"a\", \"PropertyMap\": {}}]", "a",
     "duplicate PropertyGroupId"),
    ("[{\"PropertyGroupId\": \"a\", \"PropertyMap\": {\"k\": \"1\", \"k\": \"2\"}}]", None, "duplicate key 'k'"),
]


@pytest.mark.parametrize("text,field,words", FILE_ERRORS)
def test_a_malformed_file_is_an_error_naming_it_and_where(tmp_path: Path, text: str, field: Any, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_application_properties(path)
    assert (info.value.file, info.value.field) == (str(path), field), str(info.value)
    assert words in str(info.value) and str(info.value).startswith(f"{path}: ")


def test_secret_values_never_appear_in_errors(tmp_path: Path) -> None:
    path = write(tmp_path, [group("out", kind="egress", **{**LOCAL, "aws.region": "not-a-region"})])
    with pytest.raises(ConfigError) as info:
        load_application_properties(path)
    assert "s3cr3t-value" not in str(info.value) and "out[aws.region]" in str(info.value)
    path.write_text(json.dumps([{"PropertyGroupId": "out", "PropertyMap": {
        "kind": "egress", "aws.credentials.provider.basic.secretkey": 987654321}}]))
    with pytest.raises(ConfigError) as info:
        load_application_properties(path)
    assert "987654321" not in str(info.value) and "out[aws.credentials.provider.basic.secretkey]" in str(info.value)


def test_the_file_is_found_on_the_service_else_beside_the_main_script(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    service, local = tmp_path / "etc" / "application_properties.json", tmp_path / "job" / "application_properties.json"
    local.parent.mkdir()
    monkeypatch.setattr(application_properties, "MSF_PROPERTIES_FILE", str(service))
    monkeypatch.setattr(sys.modules["__main__"], "__file__", str(local.parent / "job.py"), raising=False)
    with pytest.raises(ConfigError) as info:
        load_application_properties()
    assert str(service) in str(info.value) and str(local) in str(info.value)

    write(local.parent, [group("job", where="beside the script")])
    assert load_application_properties().group("job")["where"] == "beside the script"
    service.parent.mkdir()
    write(service.parent, [group("job", where="the service's file")])
    assert load_application_properties().group("job")["where"] == "the service's file"
    assert load_application_properties(local).source == str(local)  # an explicit path wins


def test_the_examples_properties_file_loads() -> None:
    loaded = load_application_properties(ROOT / "examples" / "msf" / "application_properties.json")
    assert set(loaded.ingresses) == {"input"} and set(loaded.egresses) == {"output"}
    assert loaded.ingresses["input"].streams == ("msf-in",) and loaded.group("job")["output.stream"] == "msf-out"
    assert loaded.groups["kinesis.analytics.flink.run.options"]["python"] == "msf_job.py"
