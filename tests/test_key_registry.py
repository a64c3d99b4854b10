"""The key registry (pyflink_kinesis/spec/keys.json) is what every Python path, the documentation and the CLI say.

The Java side holds the same file against the connector's own keys and defaults
(java/src/test/java/io/github/pyflinkkinesis/KeyRegistryTest.java). No emulator, no JVM.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from beam_transforms.settings import ReadSettings, WriteSettings, read_settings, write_settings
from pyflink_kinesis import AwsRegion, ConfigError, ConfigWarning, KinesisEgressBuilder, KinesisIngressBuilder
from pyflink_kinesis.cli import main
from pyflink_kinesis.flink.datastream import sink_configuration, source_configuration
from pyflink_kinesis.spec import keys, keys_doc
from pyflink_kinesis.spec.builders import KinesisEgressSpec
from tests.spec_support import PAGE, TABLES as KEY_TABLES, page_tables

REPO = Path(__file__).resolve().parents[1]
REGION = AwsRegion.of("eu-west-1")
CONNECTOR = [k for k in keys.all_keys("connector") if k.name.startswith(("source.", "sink."))]


def example(key: keys.Key) -> str:
    """A valid value of ``key`` that is not its default (so a path that ignores it has something to warn about)."""
    if key.type == "enum":
        return next(c for c in key.choices if c != key.default)
    return {"int": "2", "duration": "2 s", "bytes": "1048576", "bool": "true"}.get(key.type, "x")


def spec(name: str, value: str) -> Any:
    props = {name: value}
    if name == "source.init.position" and value == "AT_TIMESTAMP":
        props["source.init.timestamp"] = "2026-01-01T00:00:00.000Z"
    if name.startswith("sink."):
        return (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(REGION)
                .with_client_configuration_properties(props).build())
    return (KinesisIngressBuilder.for_identifier("t/in").with_aws_region(REGION).with_stream("s")
            .with_client_configuration_properties(props).build())


def test_the_key_pages_tables_are_the_registrys() -> None:
    shown = page_tables((REPO / PAGE).read_text(encoding="utf-8"))
    assert set(shown) == set(KEY_TABLES), f"{PAGE} marks {sorted(shown)}, not {KEY_TABLES}"
    assert shown == keys_doc.tables(), f"regenerate them: tests.spec_support.with_tables({PAGE}'s text)"


def handed(path: str, spec: Any) -> Any:
    """What ``path`` is handed for ``spec``: the connector's configuration, or a table's options."""
    if path in ("sql", "official-sql"):
        return spec.sql_options("arn:aws:kinesis:eu-west-1:1:stream/s", connector=TABLES[path])
    return (sink_configuration if isinstance(spec, KinesisEgressSpec) else source_configuration)(spec)


TABLES = {"sql": "pyflink-kinesis", "official-sql": "kinesis"}
WARNS = {"flink": "is ignored by the PyFlink connector", "sql": "is left out of the 'pyflink-kinesis' table",
         "official-sql": "is left out of the 'kinesis' table"}


@pytest.mark.parametrize("path", sorted(WARNS))
@pytest.mark.parametrize("key", CONNECTOR, ids=lambda k: k.name)
def test_a_path_is_handed_only_the_keys_it_acts_on(key: keys.Key, path: str) -> None:
    """A key the registry says a path does not act on is dropped with a warning naming it and why; the others
    pass without one. For the PyFlink connector, KeyRegistryTest (JUnit) holds the registry's keys to the jar's,
    so no key passing here is refused by the jar."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        props = handed(path, spec(key.name, example(key)))
    named = [str(w.message) for w in caught if f"'{key.name}' {WARNS[path]}" in str(w.message)]
    if key.honoured_by(path):
        assert not named
    else:
        assert named and key.why_not(path) in named[0]
        assert key.name not in props


@pytest.mark.parametrize("key", CONNECTOR, ids=lambda k: k.name)
def test_beam_warns_about_exactly_the_keys_it_does_not_act_on(key: keys.Key) -> None:
    settings = write_settings if key.name.startswith("sink.") else read_settings
    value = example(key)
    if key.name == "source.reader.type":
        value = "POLLING"  # EFO would need a consumer name; POLLING is Beam's default: nothing to warn about
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings(spec(key.name, value))
    named = [w for w in caught if f"'{key.name}' is not honoured by the beam engine" in str(w.message)]
    assert bool(named) == (not key.honoured_by("beam") and not key.asks_nothing("beam", value))


def test_max_retry_time_properties_set_the_beam_retry_time() -> None:
    """source/sink.max-retry-time (the connector's keys, branch javacore) configure the Beam transforms too."""
    assert read_settings(spec("source.max-retry-time", "2 min")).max_retry_time == 120.0
    assert write_settings(spec("sink.max-retry-time", "30 s")).max_retry_time == 30.0
    assert write_settings(spec("sink.max-retry-time", "30 s"), max_retry_time=5).max_retry_time == 5.0
    assert read_settings(spec("source.init.position", "LATEST")).max_retry_time == 300.0
    with pytest.raises(ConfigError, match=r"client_properties\.sink\.max-retry-time: must be greater than 0"):
        write_settings(spec("sink.max-retry-time", "0 s"))


def test_a_key_no_engine_knows_fails_before_the_job_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"client_properties\.sink\.request\.max-record-size: unknown client "
                                          r"property 'sink\.request\.max-record-size'"):
        KinesisEgressBuilder.for_identifier("t/out").with_client_configuration_property(
            "sink.request.max-record-size", 1048576)
    with pytest.raises(ConfigError, match="expected a whole number"):
        KinesisEgressBuilder.for_identifier("t/out").with_client_configuration_property("sink.batch.max-size", "ten")
    with pytest.warns(ConfigWarning, match=r"aws\.regin: not a key this project reads \(did you mean 'aws.region'"):
        KinesisEgressBuilder.for_identifier("t/out").with_client_configuration_property("aws.regin", "eu-west-1")


def test_nested_credential_keys_are_the_top_level_ones() -> None:
    nested = keys.lookup("aws.credentials.provider.role.provider.role.provider.basic.secretkey")
    assert nested is not None and nested.name == "aws.credentials.provider.basic.secretkey" and nested.secret
    assert keys.lookup("aws.credentials.provider.role.provider.region") is None  # only credential sub-keys nest


def test_defaults_differ_only_with_a_why_and_every_default_parses() -> None:
    for key in keys.all_keys():
        if key.defaults or key.jar_default:
            assert key.why, f"{key.name}: a default of its own on {sorted(key.defaults)} needs a 'why'"
        for path in keys.PATHS:
            key.default_value(path)
        assert key.type != "enum" or key.default is None or key.default in key.choices, key.name


def test_beam_arguments_are_settings_fields_with_the_registrys_defaults() -> None:
    read, write = ReadSettings(), WriteSettings()
    names = {f.name for f in fields(ReadSettings)} | {f.name for f in fields(WriteSettings)}
    for key in keys.all_keys():
        argument = key.beam_argument or (key.name if key.kind == "beam" else None)
        if argument is None:
            continue
        assert argument in names, f"{key.name}: no Beam setting '{argument}'"
        default = getattr(read, argument, getattr(write, argument, None))
        if key.default_for("beam") is not None and argument != "consumer_lifecycle":
            assert default == keys.beam_default(argument), argument


def test_cli_keys_and_explain_come_from_the_registry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "--markdown"]) == 0
    assert capsys.readouterr().out == "\n".join(keys_doc.tables().values()) + "\n"
    assert main(["keys", "source.shard.discovery.interval"]) == 0
    out = capsys.readouterr().out
    assert "beam: honoured, default 30 s" in out and "why: Beam has no enumerator" in out
    module = tmp_path / "m.yaml"
    module.write_text("kind: io.statefun.kinesis.v1/egress\nspec:\n  id: a/b\n"
                      "  awsRegion: {type: specific, id: eu-west-1}\n"
                      "  clientConfigProperties:\n    - sink.skip-oversized-records: true\n    - SocketTimeout: 100\n"
                      "    - AggregationEnabled: true\n")
    assert main(["explain", str(module), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["egresses"]["a/b"]["client_properties"]
    assert report["sink.skip-oversized-records"]["honoured_by"] == ["flink", "sql"]
    assert "dead letter" in report["sink.skip-oversized-records"]["ignored_by"]["beam"]
    assert report["AggregationEnabled"]["honoured_by"] == ["beam", "flink", "sql"]  # the KPL name, as sink.aggregation.enabled
    assert report["SocketTimeout"]["honoured_by"] == ["beam", "flink", "sql", "official-sql"]
    assert main(["explain", str(module)]) == 0  # the same as text
    out = capsys.readouterr().out
    assert "    sink.skip-oversized-records: honoured by flink, sql; not by beam: " in out
