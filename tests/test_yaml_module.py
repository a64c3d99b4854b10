"""StateFun module YAML: formats 1.0, 2.0, 3.0 and 3.1+, and located errors for every kind of bad input."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import pytest

from pyflink_kinesis import (
    AwsCredentials,
    AwsRegion,
    ConfigError,
    ConfigWarning,
    KinesisEgressSpec,
    KinesisIngressSpec,
    KinesisIngressStartupPosition,
    KinesisModule,
    Routing,
    load_module,
)

ROLE = "arn:aws:iam::123456789012:role/reader"


def write(tmp_path: Path, text: str, name: str = "module.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error(tmp_path: Path, text: str, line: int, field: str) -> str:
    """Load ``text`` from a file; assert the ConfigError names the file, ``line`` and ``field``; return the message."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_module(path)
    e = info.value
    message = str(e)
    assert (e.file, e.line, e.field) == (str(path), line, field), message
    assert message.startswith(f"{path}:{line}: {field}: "), message
    return message


# --- Formats ------------------------------------------------------------------------------------

V1 = """
version: "1.0"
module:
  meta:
    type: remote
  spec:
    ingresses:
      - ingress:
          meta:
            type: statefun.kinesis.io/routable-protobuf-ingress
            id: example/in
          spec:
            awsRegion:
              type: specific
              id: us-west-1
            awsCredentials:
              type: basic
              accessKeyId: AKIAEXAMPLE
              secretAccessKey: SeCrEt-123
            startupPosition:
              type: earliest
            streams:
              - stream: stream-1
                typeUrl: com.example/User
                targets:
                  - example/f1
                  - example/f2
              - stream: stream-2
                typeUrl: com.example/Order
                targets:
                  - example/f1
            clientConfigProperties:
              - SocketTimeout: 9999
              - MaxConnections: 15
    egresses:
      - egress:
          meta:
            type: statefun.kinesis.io/generic-egress
            id: example/out
          spec:
            awsRegion:
              type: custom-endpoint
              endpoint: https://localhost:4567
              id: us-west-1
            awsCredentials:
              type: profile
              profileName: john-doe
              profilePath: /path/to/profile/config
            maxOutstandingRecords: 9999
"""


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_formats_1_and_2(tmp_path: Path, version: str) -> None:
    module = load_module(write(tmp_path, V1.replace('"1.0"', f'"{version}"')))
    assert isinstance(module, KinesisModule)
    assert list(module.ingresses) == ["example/in"] and list(module.egresses) == ["example/out"]
    ingress = module.ingresses["example/in"]
    assert isinstance(ingress, KinesisIngressSpec)
    assert ingress.id == "example/in"
    assert ingress.region == AwsRegion.of("us-west-1")
    assert ingress.credentials == AwsCredentials.basic("AKIAEXAMPLE", "SeCrEt-123")
    assert ingress.startup_position == KinesisIngressStartupPosition.from_earliest()
    assert ingress.streams == ("stream-1", "stream-2")
    assert ingress.routing["stream-1"].type_url == "com.example/User"
    assert ingress.routing["stream-1"].targets == ("example/f1", "example/f2")
    assert ingress.routing["stream-2"] == Routing("com.example/Order", ("example/f1",))
    assert ingress.client_properties == (("SocketTimeout", "9999"), ("MaxConnections", "15"))
    assert ingress.deserializer is None
    egress = module.egresses["example/out"]
    assert isinstance(egress, KinesisEgressSpec)
    assert egress.region == AwsRegion.of_custom_endpoint("https://localhost:4567", "us-west-1")
    assert egress.credentials == AwsCredentials.profile("john-doe", "/path/to/profile/config")
    assert egress.max_outstanding_records == 9999
    assert module.source == str(tmp_path / "module.yaml")


def test_format_3_0_uses_value_type(tmp_path: Path) -> None:
    module = load_module(write(tmp_path, """
        version: "3.0"
        module:
          meta:
            type: remote
          spec:
            endpoints:
              - endpoint:
                  meta: {kind: http}
                  spec: {functions: example/*, urlPathTemplate: "http://functions/{function.name}"}
            ingresses:
              - ingress:
                  meta:
                    type: io.statefun.kinesis/ingress
                    id: example/in
                  spec:
                    startupPosition:
                      type: latest
                    streams:
                      - stream: s1
                        valueType: example/User
                        targets: [example/f1]
            egresses:
              - egress:
                  meta:
                    type: io.statefun.kinesis/egress
                    id: example/out
                  spec:
                    maxOutstandingRecords: 5
        """))
    ingress = module.ingresses["example/in"]
    assert ingress.routing == {"s1": Routing("example/User", ("example/f1",))}
    assert ingress.region.kind == "default" and ingress.credentials.kind == "default"
    assert ingress.startup_position.kind == "latest"
    assert module.egresses["example/out"].max_outstanding_records == 5


def test_format_3_1_multi_document_ignores_other_components(tmp_path: Path) -> None:
    module = load_module(write(tmp_path, """
        kind: io.statefun.endpoints.v2/http
        spec:
          functions: example/*
          urlPathTemplate: http://functions/{function.name}
        ---
        kind: io.statefun.kinesis.v1/ingress
        spec:
          id: example/in
          awsRegion:
            type: custom-endpoint
            endpoint: http://localhost:4568
            id: us-east-1
          awsCredentials:
            type: assume-role
            roleArn: arn:aws:iam::123456789012:role/reader
            roleSessionName: reader
            externalId: ext-1
            source:
              type: profile
              profileName: base
          startupPosition:
            type: date
            date: 2020-02-01 04:15:00.000 +0000
          streams:
            - stream: s1
              valueType: example/User
              targets:
                - example/f1
        ---
        kind: io.statefun.kafka.v1/egress
        spec:
          id: example/kafka
          address: kafka:9092
        ---
        kind: io.statefun.kinesis.v1/egress
        spec:
          id: example/out
          awsCredentials:
            type: web-identity
            roleArn: arn:aws:iam::123456789012:role/reader
            webIdentityTokenFile: /var/run/token
          clientConfigProperties:
            - aws.http-client.read-timeout: 5000
        """))
    assert list(module.ingresses) == ["example/in"]
    assert list(module.egresses) == ["example/out"]
    assert module.ignored == (("io.statefun.endpoints.v2/http", 1), ("io.statefun.kafka.v1/egress", 30))
    ingress = module.ingresses["example/in"]
    assert ingress.region.endpoint == "http://localhost:4568"
    assert ingress.credentials == AwsCredentials.assume_role(ROLE, "reader", "ext-1", AwsCredentials.profile("base"))
    assert ingress.startup_position.date is not None and ingress.startup_position.date.isoformat() == "2020-02-01T04:15:00+00:00"
    egress = module.egresses["example/out"]
    assert egress.credentials == AwsCredentials.web_identity(ROLE, "/var/run/token")
    assert egress.client_properties == (("aws.http-client.read-timeout", "5000"),)


def test_nested_format_ignores_non_kinesis_components(tmp_path: Path) -> None:
    module = load_module(write(tmp_path, """
        version: "2.0"
        module:
          meta: {type: remote}
          spec:
            functions:
              - function: {meta: {kind: http, type: example/f}, spec: {endpoint: "http://f"}}
            routers:
              - router: {meta: {type: org.apache.flink.statefun.sdk/protobuf-router}}
            ingresses:
              - ingress:
                  meta: {type: statefun.kafka.io/routable-protobuf-ingress, id: example/kafka}
                  spec: {address: "kafka:9092"}
              - ingress:
                  meta: {type: statefun.kinesis.io/routable-protobuf-ingress, id: example/in}
                  spec: {streams: [{stream: s, typeUrl: example/T, targets: [example/f]}]}
        """))
    assert list(module.ingresses) == ["example/in"]
    assert module.ignored == (("statefun.kafka.io/routable-protobuf-ingress", 11),)


def test_ingress_with_deserializer_reads_plain_stream_names(tmp_path: Path) -> None:
    module = load_module(write(tmp_path, """
        kind: io.statefun.kinesis.v1/ingress
        spec:
          id: example/in
          deserializer: json:loads
          streams: [s1, s2]
        """))
    spec = module.ingresses["example/in"]
    assert spec.streams == ("s1", "s2") and spec.routing == {}
    assert spec.deserializer is not None and spec.deserializer('{"a": 1}') == {"a": 1}


def test_egress_serializer_by_import_path(tmp_path: Path) -> None:
    spec = load_module(write(tmp_path, """
        kind: io.statefun.kinesis.v1/egress
        spec:
          id: example/out
          serializer: json:dumps
        """)).egresses["example/out"]
    assert spec.serializer is not None and spec.serializer([1]) == "[1]"


def test_client_properties_as_a_mapping_and_values_as_text(tmp_path: Path) -> None:
    spec = load_module(write(tmp_path, """
        kind: io.statefun.kinesis.v1/egress
        spec:
          id: example/out
          clientConfigProperties:
            SocketTimeout: 1000
            aws.trust.all.certificates: true
            sink.flush-buffer.timeout: 2.5
        """)).egresses["example/out"]
    assert spec.client_properties == (
        ("SocketTimeout", "1000"), ("aws.trust.all.certificates", "true"), ("sink.flush-buffer.timeout", "2.5"))


def test_load_module_from_text_and_pathlike(tmp_path: Path) -> None:
    text = "kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/b\n"
    from_text = load_module(text)
    assert from_text.source == "<string>" and list(from_text.egresses) == ["a/b"]
    path = write(tmp_path, text, "m.yml")
    assert list(load_module(str(path)).egresses) == ["a/b"]
    assert list(load_module(path).egresses) == ["a/b"]


def test_text_errors_say_string(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^<string>:3: document\[0\]\.spec\.bogus: unknown key"):
        load_module("kind: io.statefun.kinesis.v1/egress\nspec:\n  bogus: 1\n  id: a/b\n")


def test_unsupported_legacy_property_warns_with_location(tmp_path: Path) -> None:
    path = write(tmp_path, """
        kind: io.statefun.kinesis.v1/egress
        spec:
          id: example/out
          clientConfigProperties:
            - ThreadingModel: POOLED
        """)
    with pytest.warns(ConfigWarning, match="ThreadingModel") as caught:
        load_module(path)
    assert [str(w.message).startswith(f"{path}:5: ") for w in caught] == [True]
    assert caught[0].filename == __file__  # points at the caller of load_module


def test_valid_module_gives_no_warning(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_module(write(tmp_path, V1))


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
