"""The spec layer in code: records, and serializers/deserializers as classes, instances, callables or names."""

from __future__ import annotations

import sys
import types
from datetime import timedelta, timezone

import pytest

from pyflink_kinesis import (ConfigError, EgressRecord, IngressRecord, KinesisEgressBuilder, KinesisEgressSerializer,
                             KinesisIngressBuilder, KinesisIngressDeserializer, KinesisIngressStartupPosition)

from tests.spec_support import WHEN
from tests.spec_support import ingress_record as _record


# --- Serde normalization ------------------------------------------------------------------------


class UpperDeserializer(KinesisIngressDeserializer[str]):
    def deserialize(self, record: IngressRecord) -> str:
        return record.data.decode().upper()


class SkipDeserializer(KinesisIngressDeserializer[str]):
    def deserialize(self, record: IngressRecord) -> None:
        return None


class ToStream(KinesisEgressSerializer[str]):
    def __init__(self, stream: str = "out") -> None:
        self.stream = stream

    def serialize(self, value: str) -> EgressRecord:
        return EgressRecord(value, self.stream, "pk")


class NeedsArgs(KinesisIngressDeserializer[str]):
    def __init__(self, required: str) -> None:
        self.required = required

    def deserialize(self, record: IngressRecord) -> str:
        return self.required


@pytest.fixture
def serde_module(monkeypatch: pytest.MonkeyPatch) -> str:
    module = types.ModuleType("serde_under_test")
    module.UpperDeserializer = UpperDeserializer  # type: ignore[attr-defined]
    module.ToStream = ToStream  # type: ignore[attr-defined]
    module.upper = lambda record: record.data.upper()  # type: ignore[attr-defined]
    module.nested = types.SimpleNamespace(fn=lambda record: b"nested")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "serde_under_test", module)
    return "serde_under_test"


def _deser(value: object):
    return KinesisIngressBuilder.for_identifier("a/b").with_stream("s").with_deserializer(value).build().deserializer


def _ser(value: object):
    return KinesisEgressBuilder.for_identifier("a/b").with_serializer(value).build().serializer


def test_deserializer_class_instance_callable(serde_module: str) -> None:
    record = _record(b"abc")
    assert _deser(UpperDeserializer)(record) == "ABC"  # class: instantiated with no arguments
    assert _deser(UpperDeserializer())(record) == "ABC"  # instance: its deserialize()
    assert _deser(lambda r: len(r.data))(record) == 3  # plain callable
    assert _deser(SkipDeserializer)(record) is None  # None means skip
    assert _deser(f"{serde_module}:upper")(record) == b"ABC"  # import path with colon
    assert _deser(f"{serde_module}.upper")(record) == b"ABC"  # dotted import path
    assert _deser(f"{serde_module}:UpperDeserializer")(record) == "ABC"  # path to a class
    assert _deser(f"{serde_module}:nested.fn")(record) == b"nested"  # attribute chain
    assert _deser(None) is None


def test_serializer_class_instance_callable(serde_module: str) -> None:
    assert _ser(ToStream)("v") == EgressRecord(b"v", "out", "pk")
    assert _ser(ToStream("other"))("v").stream == "other"
    assert _ser(lambda v: None)("v") is None
    assert _ser(f"{serde_module}:ToStream")("v").data == b"v"


@pytest.mark.parametrize(
    "bad, fragment",
    [
        (42, "expected a deserialize() object"),
        (object(), "expected a deserialize() object"),
        ("nosuchmodule_xyz:thing", "cannot import 'nosuchmodule_xyz:thing'"),
        ("json:no_such_attribute", "cannot import 'json:no_such_attribute'"),
        ("justaname", "expected an import path"),
        (NeedsArgs, "cannot instantiate NeedsArgs with no arguments"),
    ],
)
def test_bad_deserializers(bad: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        _deser(bad)
    assert fragment in str(info.value)
    assert info.value.field == "deserializer"


def test_bad_serializer_names_its_field() -> None:
    with pytest.raises(ConfigError, match="expected a serialize\\(\\) object") as info:
        _ser(3.14)
    assert info.value.field == "serializer"


# --- Records ------------------------------------------------------------------------------------


def test_ingress_record_java_getters() -> None:
    record = _record()
    assert record.get_data() == b"payload"
    assert record.get_stream() == "stream-1"
    assert record.get_shard_id() == "shardId-000000000000"
    assert record.get_partition_key() == "pk"
    assert record.get_sequence_number() == "4960"
    assert record.get_approximate_arrival_timestamp() == WHEN
    assert record.sub_sequence_number is None


def test_egress_record_normalizes_data() -> None:
    assert EgressRecord("héllo", "s", "pk").data == "héllo".encode("utf-8")
    assert EgressRecord(bytearray(b"ab"), "s", "pk").data == b"ab"
    assert EgressRecord(memoryview(b"cd"), "s", "pk").data == b"cd"
    assert EgressRecord(b"x", "s", "pk", str(2**128 - 1)).explicit_hash_key == str(2**128 - 1)
    assert EgressRecord(b"abc", "s", "pké").size == 3 + len("pké".encode("utf-8"))


@pytest.mark.parametrize(
    "args, field",
    [
        ((123, "s", "pk"), "EgressRecord.data"),
        ((b"x", "", "pk"), "EgressRecord.stream"),
        ((b"x", None, "pk"), "EgressRecord.stream"),
        ((b"x", "s", ""), "EgressRecord.partition_key"),
        ((b"x", "s", "k" * 257), "EgressRecord.partition_key"),
        ((b"x", "s", "pk", "12ab"), "EgressRecord.explicit_hash_key"),
        ((b"x", "s", "pk", str(2**128)), "EgressRecord.explicit_hash_key"),
        ((b"x", "s", "pk", 5), "EgressRecord.explicit_hash_key"),
    ],
)
def test_egress_record_rejected(args: tuple, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        EgressRecord(*args)
    assert info.value.field == field


def test_egress_record_partition_key_limit_accepted() -> None:
    assert len(EgressRecord(b"x", "s", "k" * 256).partition_key) == 256


def test_egress_record_builder() -> None:
    builder = EgressRecord.new_builder()
    assert builder.with_data(b"d") is builder
    assert builder.with_stream("s") is builder
    assert builder.with_partition_key("pk") is builder
    assert builder.with_explicit_hash_key("42") is builder
    assert builder.build() == EgressRecord(b"d", "s", "pk", "42")
    assert EgressRecord.new_builder().with_data("t").with_stream("s").with_partition_key("p").build().explicit_hash_key is None


@pytest.mark.parametrize("missing", ["data", "stream", "partition_key"])
def test_egress_record_builder_missing_field(missing: str) -> None:
    builder = EgressRecord.new_builder()
    for name, value in (("data", b"d"), ("stream", "s"), ("partition_key", "pk")):
        if name != missing:
            getattr(builder, f"with_{name}")(value)
    with pytest.raises(ConfigError, match="is required") as info:
        builder.build()
    assert info.value.field == f"EgressRecord.{missing}"


def test_egress_record_builder_validates() -> None:
    with pytest.raises(ConfigError) as info:
        EgressRecord.new_builder().with_data(b"d").with_stream("s").with_partition_key("p").with_explicit_hash_key("-1").build()
    assert info.value.field == "EgressRecord.explicit_hash_key"


def test_date_offsets_compare_as_instants() -> None:
    plus_one = KinesisIngressStartupPosition.from_date(WHEN.astimezone(timezone(timedelta(hours=1))))
    assert plus_one.date == WHEN
