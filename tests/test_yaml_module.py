"""StateFun module YAML: formats 1.0, 2.0, 3.0 and 3.1+ load into the specs they describe."""

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

from tests.yaml_support import HTTP_ENDPOINT, ROLE, write



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
    module = load_module(write(tmp_path, HTTP_ENDPOINT + textwrap.dedent("""\
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
        """)))
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
        spec: {id: example/out, serializer: "json:dumps"}
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
