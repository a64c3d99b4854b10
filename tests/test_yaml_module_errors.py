"""StateFun module YAML: a located error (file, line, field path) for every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyflink_kinesis import ConfigError, load_module

from tests.yaml_support import ROLE, error, write


# --- Errors -------------------------------------------------------------------------------------

EGRESS = "kind: io.statefun.kinesis.v1/egress\nspec:\n  id: example/out\n"
INGRESS_HEAD = "kind: io.statefun.kinesis.v1/ingress\nspec:\n  id: example/in\n"
ROUTED = "  streams:\n    - stream: s\n      valueType: example/T\n      targets: [example/f]\n"


def test_unknown_key_did_you_mean(tmp_path: Path) -> None:
    message = error(tmp_path, EGRESS + "  maxOutstandingRecord: 5\n", 4, "document[0].spec.maxOutstandingRecord")
    assert "did you mean 'maxOutstandingRecords'?" in message
    assert "'serializer'" in message  # lists what is expected


@pytest.mark.parametrize(
    "block, line, field, fragment",
    [
        ("  awsRegion:\n    type: specific\n    idd: us-west-1\n", 6, "document[0].spec.awsRegion.idd", "did you mean 'id'?"),
        ("  awsCredentials:\n    type: basic\n    accessKeyID: a\n    secretAccessKey: b\n", 6,
         "document[0].spec.awsCredentials.accessKeyID", "did you mean 'accessKeyId'?"),
        ("  awsRegion:\n    type: specfic\n    id: us-west-1\n", 5, "document[0].spec.awsRegion.type",
         "unknown region type 'specfic' (did you mean 'specific'?)"),
        ("  awsCredentials:\n    type: basik\n", 5, "document[0].spec.awsCredentials.type",
         "unknown credentials type 'basik' (did you mean 'basic'?)"),
        ("  awsCredentials:\n    type: sso\n", 5, "document[0].spec.awsCredentials.type",
         "expected 'default', 'basic', 'profile', 'assume-role' or 'web-identity'"),
        ("  clientConfigProperties:\n    - SocketTimout: 1\n", 5, "document[0].spec.clientConfigProperties[0].SocketTimout",
         "did you mean 'SocketTimeout'?"),
        ("  clientConfigProperties:\n    - SocketTimeout: 1\n      MaxConnections: 2\n", 5,
         "document[0].spec.clientConfigProperties[0]", "single-entry mapping"),
        ("  clientConfigProperties:\n    - SocketTimeout: fast\n", 5,
         "document[0].spec.clientConfigProperties[0].SocketTimeout", "non-negative number"),
        ("  clientConfigProperties: 5\n", 4, "document[0].spec.clientConfigProperties", "expected a list"),
        ("  maxOutstandingRecords: lots\n", 4, "document[0].spec.maxOutstandingRecords", "positive whole number"),
        ("  maxOutstandingRecords: 0\n", 4, "document[0].spec.maxOutstandingRecords", "greater than 0"),
        ("  maxOutstandingRecords: -3\n", 4, "document[0].spec.maxOutstandingRecords", "greater than 0"),
        ("  maxOutstandingRecords: 1.5\n", 4, "document[0].spec.maxOutstandingRecords", "positive whole number"),
        ("  awsRegion: us-west-1\n", 4, "document[0].spec.awsRegion", "expected a mapping for region"),
        ("  awsRegion:\n    id: us-west-1\n", 4, "document[0].spec.awsRegion", "missing required key 'type'"),
        ("  awsRegion:\n    type: specific\n", 4, "document[0].spec.awsRegion", "missing required key 'id'"),
        ("  awsRegion:\n    type: specific\n    id: [us-west-1]\n", 6, "document[0].spec.awsRegion.id", "expected text"),
        ("  awsRegion:\n    type: specific\n    id: uswest1\n", 6, "document[0].spec.awsRegion.id", "not an AWS region id"),
        ("  awsRegion:\n    type: custom-endpoint\n    endpoint: localhost:4567\n    id: us-east-1\n", 6,
         "document[0].spec.awsRegion.endpoint", "the scheme is missing"),
        ("  awsRegion:\n    type: custom-endpoint\n    endpoint: http://localhost:4568\n    id: local\n", 7,
         "document[0].spec.awsRegion.id", "not an AWS region id"),
        ("  awsCredentials:\n    type: basic\n    accessKeyId: a\n", 4, "document[0].spec.awsCredentials",
         "missing required key 'secretAccessKey'"),
        ("  awsCredentials:\n    type: basic\n    accessKeyId: a\n    secretAccessKey: [x]\n", 7,
         "document[0].spec.awsCredentials.secretAccessKey", "expected text"),
        ("  awsCredentials:\n    type: profile\n    profilePath: /x\n", 4, "document[0].spec.awsCredentials",
         "missing required key 'profileName'"),
        ("  awsCredentials:\n    type: assume-role\n    roleArn: not-an-arn\n    roleSessionName: reader\n", 6,
         "document[0].spec.awsCredentials.roleArn", "not a role ARN"),
        ("  awsCredentials:\n    type: assume-role\n    roleArn: " + ROLE + "\n", 4, "document[0].spec.awsCredentials",
         "missing required key 'roleSessionName'"),
        ("  awsCredentials:\n    type: assume-role\n    roleArn: " + ROLE + "\n    roleSessionName: my session\n", 7,
         "document[0].spec.awsCredentials.roleSessionName", "not a role session name"),
        ("  awsCredentials:\n    type: assume-role\n    roleArn: " + ROLE + "\n    roleSessionName: reader\n    source:\n"
         "      type: basic\n      accessKeyId: a\n", 8, "document[0].spec.awsCredentials.source",
         "missing required key 'secretAccessKey'"),
        ("  awsCredentials:\n    type: assume-role\n    roleArn: " + ROLE + "\n    roleSessionName: reader\n    source:\n"
         "      type: web-identity\n      roleArn: " + ROLE + "\n      webIdentityTokenFile: /t\n", 8,
         "document[0].spec.awsCredentials.source", "default, basic or profile"),
        ("  awsCredentials:\n    type: web-identity\n    roleArn: " + ROLE + "\n", 4, "document[0].spec.awsCredentials",
         "missing required key 'webIdentityTokenFile'"),
        ("  serializer: nosuchmodule_xyz:f\n", 4, "document[0].spec.serializer", "cannot import"),
        ("  serializer: 5\n", 4, "document[0].spec.serializer", "expected an import path"),
    ],
)
def test_egress_field_errors(tmp_path: Path, block: str, line: int, field: str, fragment: str) -> None:
    assert fragment in error(tmp_path, EGRESS + block, line, field)


@pytest.mark.parametrize(
    "block, line, field, fragment",
    [
        ("  startupPosition:\n    type: earlist\n" + ROUTED, 5, "document[0].spec.startupPosition.type",
         "unknown startup position type 'earlist' (did you mean 'earliest'?)"),
        ("  startupPosition:\n    type: latest\n    date: 2020-02-01T04:15:00Z\n" + ROUTED, 6,
         "document[0].spec.startupPosition.date", "unknown key 'date'"),
        ("  startupPosition:\n    type: date\n    date: 2020-02-01 04:15\n" + ROUTED, 6,
         "document[0].spec.startupPosition.date", "not a date with a time zone"),
        ("  startupPosition:\n    type: date\n    date: 2020-02-31T04:15:00Z\n" + ROUTED, 6,
         "document[0].spec.startupPosition.date", "not a valid date"),
        ("", 2, "document[0].spec", "missing required key 'streams'"),
        ("  streams: []\n", 4, "document[0].spec.streams", "at least one stream"),
        ("  streams: s1\n", 4, "document[0].spec.streams", "expected a list"),
        ("  streams:\n    - s1\n", 5, "document[0].spec.streams[0]", "needs a 'deserializer:' in the ingress spec"),
        ("  streams:\n    - stream: s\n      valueType: example/T\n", 5, "document[0].spec.streams[0]",
         "missing required key 'targets'"),
        ("  streams:\n    - stream: s\n      typeUrl: example/T\n      targets: [example/f]\n", 6,
         "document[0].spec.streams[0].typeUrl", "calls this key 'valueType', not 'typeUrl'"),
        ("  streams:\n    - stream: s\n      valueType: example/T\n      target: [example/f]\n", 7,
         "document[0].spec.streams[0].target", "did you mean 'targets'?"),
        ("  streams:\n    - stream: bad stream\n      valueType: example/T\n      targets: [example/f]\n", 5,
         "document[0].spec.streams[0].stream", "stream name of 1 to 128"),
        ("  streams:\n    - stream: s\n      valueType: example/T\n      targets:\n        - example/f\n        - nobar\n", 9,
         "document[0].spec.streams[0].targets[1]", "namespace/name"),
        ("  streams:\n    - stream: s\n      valueType: example/T\n      targets: []\n", 5,
         "document[0].spec.streams[0]", "at least one target"),
        ("  streams:\n    - stream: s\n      valueType: example/T\n      targets: [example/f]\n"
         "    - stream: s\n      valueType: example/U\n      targets: [example/g]\n", 8,
         "document[0].spec.streams[1].stream", "duplicate stream 's' (first at line 5)"),
        ("  deserializer: json:loads\n  streams: [s1, s2, s1]\n", 5, "document[0].spec.streams[2]",
         "duplicate stream 's1'"),
        ("  deserializer: json:loads\n  streams: [s1, bad stream]\n", 5, "document[0].spec.streams[1]", "stream name"),
        ("  deserializer: nosuchmodule_xyz:f\n  streams: [s1]\n", 4, "document[0].spec.deserializer", "cannot import"),
        ("  maxOutstandingRecords: 5\n" + ROUTED, 4, "document[0].spec.maxOutstandingRecords",
         "unknown key 'maxOutstandingRecords'"),
    ],
)
def test_ingress_field_errors(tmp_path: Path, block: str, line: int, field: str, fragment: str) -> None:
    assert fragment in error(tmp_path, INGRESS_HEAD + block, line, field)


@pytest.mark.parametrize(
    "text, line, field, fragment",
    [
        ("kind: io.statefun.kinesis.v1/egress\nspec:\n  id: exampleout\n", 3, "document[0].spec.id", "namespace/name"),
        ("kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/b/c\n", 3, "document[0].spec.id", "namespace/name"),
        ("kind: io.statefun.kinesis.v1/egress\nspec:\n  awsRegion: {type: default}\n", 2, "document[0].spec",
         "missing required key 'id'"),
        ("kind: io.statefun.kinesis.v1/egress\n", 1, "document[0]", "missing required key 'spec'"),
        ("kind: io.statefun.kinesis.v1/egress\nspec:\n", 2, "document[0].spec", "expected a mapping"),
        ("kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/b\n---\nkind: io.statefun.kinesis.v1/egress\nspec:\n"
         "  id: a/b\n", 7, "document[1].spec.id", "duplicate id 'a/b'"),
        ("kind: io.statefun.kinesis.v1/ingres\nspec:\n  id: a/b\n", 1, "document[0].kind",
         "unknown Kinesis component type 'io.statefun.kinesis.v1/ingres' (did you mean 'io.statefun.kinesis.v1/ingress'?)"),
        ("kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/b\nextra: 1\n", 4, "document[0].extra", "unknown key 'extra'"),
        ("version: \"4.0\"\nmodule: {}\n", 1, "version", "unsupported module version '4.0'"),
        ("version: \"1.0\"\n", 1, "", "missing required key 'module'"),
        ("version: \"1.0\"\nmodule:\n  meta: {type: remote}\n  spec:\n    ingresss: []\n", 5, "module.spec.ingresss",
         "did you mean 'ingresses'?"),
        ("version: \"1.0\"\nmodule:\n  meta: {type: remote}\n  spec:\n    egresses:\n      - egress:\n"
         "          meta: {type: statefun.kinesis.io/generic-egress}\n          spec: {}\n", 7,
         "module.spec.egresses[0].egress.meta", "missing required key 'id'"),
        ("version: \"1.0\"\nmodule:\n  meta: {type: remote}\n  spec:\n    egresses:\n      - egress:\n"
         "          meta: {type: statefun.kinesis.io/generic-egress, id: a/b}\n          spec: {}\n"
         "      - egress:\n          meta: {type: statefun.kinesis.io/generic-egress, id: a/b}\n"
         "          spec: {}\n", 10, "module.spec.egresses[1].egress.meta.id", "duplicate id 'a/b'"),
        ("version: \"1.0\"\nmodule:\n  meta: {type: remote}\n  spec:\n    egresses:\n      - egress:\n"
         "          meta: {type: statefun.kinesis.io/generic-egress, id: nonamespace}\n          spec: {}\n", 7,
         "module.spec.egresses[0].egress.meta.id", "namespace/name"),
        ("- just\n- a list\n", 1, "document[0]", "expected a StateFun module"),
    ],
)
def test_module_errors(tmp_path: Path, text: str, line: int, field: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_module(path)
    e = info.value
    assert (e.file, e.line, e.field or "") == (str(path), line, field), str(e)
    assert str(e).startswith(f"{path}:{line}: ")
    assert fragment in str(e)


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(tmp_path, EGRESS + "  maxOutstandingRecords: 1\n  maxOutstandingRecords: 2\n")
    with pytest.raises(ConfigError, match="duplicate key 'maxOutstandingRecords' \\(first at line 4\\)") as info:
        load_module(path)
    assert (info.value.file, info.value.line) == (str(path), 5)
    assert str(info.value).startswith(f"{path}:5: ")


def test_not_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, EGRESS + "  awsRegion: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML") as info:
        load_module(path)
    assert info.value.file == str(path) and info.value.line == 5


@pytest.mark.parametrize("text", ["", "\n# only a comment\n", "---\n---\n"])
def test_empty_module(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text) if text else (tmp_path / "module.yaml")
    path.write_text(text)
    with pytest.raises(ConfigError, match="the module is empty") as info:
        load_module(path)
    assert info.value.file == str(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match="cannot read the module file") as info:
        load_module(path)
    assert info.value.file == str(path)


def test_errors_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        load_module(write(tmp_path, EGRESS + "  bogus: 1\n"))


def test_yaml_tags_are_not_executed(tmp_path: Path) -> None:
    path = write(tmp_path, EGRESS + "  serializer: !!python/name:os.system\n")
    with pytest.raises(ConfigError) as info:
        load_module(path)
    assert info.value.file == str(path)
