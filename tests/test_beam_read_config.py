"""ReadFromKinesis' configuration (module lookup, argument errors) and the boundedness of what it reads.

No mocks: every read is of real records from kinesis-local on the DirectRunner.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Dict, Tuple

import pytest

beam = pytest.importorskip("apache_beam")


from beam_transforms.read import ReadFromKinesis  # noqa: E402
from pyflink_kinesis import (ConfigError, IngressRecord, KinesisIngressBuilder,  # noqa: E402
                             KinesisIngressStartupPosition, load_module)

from tests.beam_support import SINK, Collect, put, run_read, spec_for  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]
NewStream = Callable[..., str]


# ---------------------------------------------------------------- configuration


def test_ingress_id_is_looked_up_in_a_loaded_module(kinesis: Any, client: Any, new_stream: NewStream,
                                                     tmp_path: Any) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [("k", b"from-yaml")])
    path = tmp_path / "module.yaml"
    path.write_text(
        "kind: io.statefun.kinesis.v1/ingress\n"
        "spec:\n"
        "  id: example/in\n"
        "  awsRegion:\n"
        "    type: custom-endpoint\n"
        f"    endpoint: {kinesis.endpoint}\n"
        "    id: us-east-1\n"
        "  awsCredentials:\n"
        "    type: basic\n"
        "    accessKeyId: local\n"
        "    secretAccessKey: local\n"
        "  startupPosition:\n"
        "    type: earliest\n"
        "  streams:\n"
        f"    - stream: {stream}\n"
        "      valueType: example/V\n"
        "      targets:\n"
        "        - example/f\n"
    )
    module = load_module(str(path))
    key = uuid.uuid4().hex
    SINK[key] = []
    with beam.Pipeline(runner="DirectRunner") as pipeline:
        _ = pipeline | ReadFromKinesis("example/in", module, stop_when_caught_up=True) | beam.ParDo(Collect(key, timestamps=True))
    # A routed YAML stream: the message carries the record's bytes to its target.
    assert [(m.target, m.payload) for m, _ in SINK.pop(key)] == [("example/f", b"from-yaml")]
    with pytest.raises(ConfigError, match="example/nope"):
        ReadFromKinesis("example/nope", module)
    with pytest.raises(ConfigError, match="module"):
        ReadFromKinesis("example/in")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"max_records": 0}, "max_records"),
        ({"max_records": 1.5}, "max_records"),
        ({"max_read_time": -1}, "max_read_time"),
        ({"on_deserialize_error": "ignore"}, "on_deserialize_error"),
        ({"max_records_per_call": 10_001}, "max_records_per_call"),
        ({"stop_when_caught_up": "yes"}, "stop_when_caught_up"),
    ],
)
def test_invalid_arguments_raise_config_errors_naming_the_field(kwargs: Dict[str, Any], field: str) -> None:
    spec = KinesisIngressBuilder.for_identifier("t/in").with_aws_region(
        __import__("pyflink_kinesis").AwsRegion.of("us-east-1")).with_stream("s").build()
    with pytest.raises(ConfigError) as raised:
        ReadFromKinesis(spec, **kwargs)
    assert raised.value.field == field


# ---------------------------------------------------------------- boundedness


def _key_one(record: IngressRecord) -> Tuple[str, int]:
    return record.partition_key, 1


def test_bounded_modes_give_bounded_pcollections_that_group(kinesis: Any, client: Any,
                                                            new_stream: NewStream) -> None:
    stream = new_stream(shards=2)
    put(client, stream, [(f"k{i % 3}", b"x") for i in range(30)])
    spec = spec_for(kinesis, stream)
    assert not (beam.Pipeline() | ReadFromKinesis(spec)).is_bounded  # no stop condition: unbounded
    key = uuid.uuid4().hex
    SINK[key] = []
    with beam.Pipeline(runner="DirectRunner") as pipeline:
        records = pipeline | ReadFromKinesis(spec, stop_when_caught_up=True)
        assert records.is_bounded
        _ = records | beam.Map(_key_one) | beam.CombinePerKey(sum) | beam.ParDo(Collect(key, timestamps=True))
    assert sorted(v for v, _ in SINK.pop(key)) == [("k0", 10), ("k1", 10), ("k2", 10)]


def test_a_spec_with_two_streams_reads_both(kinesis: Any, client: Any, new_stream: NewStream) -> None:
    first, second = new_stream(shards=1), new_stream(shards=2)
    put(client, first, [("k", f"a-{i}".encode()) for i in range(10)])
    put(client, second, [(f"k{i}", f"b-{i}".encode()) for i in range(10)])
    spec = (KinesisIngressBuilder.for_identifier("t/in").with_aws_region(kinesis.region)
            .with_aws_credentials(kinesis.credentials).with_streams([first, second])
            .with_startup_position(KinesisIngressStartupPosition.from_earliest()).build())
    out, _ = run_read(spec, stop_when_caught_up=True, max_records=10)  # max_records counts per stream
    assert sorted((r.stream, r.data) for r, _ in out) == sorted(
        [(first, f"a-{i}".encode()) for i in range(10)] + [(second, f"b-{i}".encode()) for i in range(10)])


def test_a_missing_stream_fails_naming_it(kinesis: Any) -> None:
    with pytest.raises(Exception, match="stream no-such-stream does not exist"):
        run_read(spec_for(kinesis, "no-such-stream"), stop_when_caught_up=True)
