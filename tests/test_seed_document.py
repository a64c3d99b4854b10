"""Every YAML block of the StateFun Kinesis documentation (the seed) loads, or fails with a message pointing at the fix.

The seed lives beside the clone: ``../shared/seed/aws-kinesis.md`` relative to the repository root.
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pyflink_kinesis import (
    AwsCredentials,
    AwsRegion,
    ConfigError,
    ConfigWarning,
    KinesisIngressStartupPosition,
    Routing,
    load_module,
)

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seed" / "aws-kinesis.md"

pytestmark = pytest.mark.skipif(
    not SEED.is_file(), reason=f"the seed document is not beside the clone (expected {SEED})"
)

_BLOCK = re.compile(r"\{% highlight yaml %\}\n(.*?)\{% endhighlight %\}", re.S)


def blocks() -> list[tuple[str, str]]:
    """``(section, yaml)`` for every yaml block, where section is the nearest ``## `` heading above it."""
    text = SEED.read_text(encoding="utf-8")
    out = []
    for match in _BLOCK.finditer(text):
        headings = re.findall(r"^## (.+)$", text[: match.start()], re.M)
        out.append((headings[-1].strip() if headings else "", match.group(1)))
    return out


@pytest.fixture(autouse=True)
def _no_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)


def modules() -> list[str]:
    return [y for _, y in blocks() if y.lstrip().startswith("version:")]


def fragments() -> list[tuple[str, str]]:
    return [(s, y) for s, y in blocks() if not y.lstrip().startswith("version:")]


FRAGMENT_FIRST_LINE = 8


def wrap(tmp_path: Path, fragment: str) -> Path:
    """A minimal 3.1 ingress module around ``fragment``, which starts at line 8 of the file."""
    path = tmp_path / "fragment.yaml"
    head = (
        "kind: io.statefun.kinesis.v1/ingress\n"
        "spec:\n"
        "  id: seed/fragment\n"
        "  streams:\n"
        "    - stream: s\n"
        "      valueType: seed/T\n"
        "      targets: [seed/f]\n"
    )
    assert head.count("\n") == FRAGMENT_FIRST_LINE - 1
    path.write_text(head + textwrap.indent(fragment, "  "), encoding="utf-8")
    return path


def test_seed_has_the_expected_blocks() -> None:
    found = blocks()
    assert len(found) == 11, [y.splitlines()[0] for _, y in found]
    assert len(modules()) == 2
    firsts = sorted({y.split(":")[0].strip() for _, y in fragments()})
    assert firsts == ["awsCredentials", "startupPosition"]


def test_seed_ingress_module(tmp_path: Path) -> None:
    path = tmp_path / "ingress.yaml"
    path.write_text(modules()[0])
    module = load_module(path)
    spec = module.ingresses["example-namespace/messages"]
    assert module.egresses == {}
    assert spec.region == AwsRegion.of("us-west-1")
    assert spec.credentials == AwsCredentials.basic("my_access_key_id", "my_secret_access_key")
    assert spec.startup_position == KinesisIngressStartupPosition.from_earliest()
    assert spec.streams == ("stream-1", "stream-2")
    user = "com.googleapis/org.apache.flink.statefun.docs.models.User"
    assert spec.routing == {
        "stream-1": Routing(user, ("example-namespace/my-function-1", "example-namespace/my-function-2")),
        "stream-2": Routing(user, ("example-namespace/my-function-1",)),
    }
    props = spec.source_properties()
    assert props["aws.region"] == "us-west-1"
    assert props["aws.credentials.provider"] == "BASIC"
    assert props["source.init.position"] == "TRIM_HORIZON"
    assert props["aws.http-client.read-timeout"] == "9999"  # SocketTimeout: 9999
    assert props["aws.http-client.max-concurrency"] == "15"  # MaxConnections: 15
    assert spec.botocore_config() == {"read_timeout": 9.999, "max_pool_connections": 15}


def test_seed_egress_module(tmp_path: Path) -> None:
    path = tmp_path / "egress.yaml"
    path.write_text(modules()[1])
    with pytest.warns(ConfigWarning) as caught:
        module = load_module(path)
    warned = " ".join(str(w.message) for w in caught)
    assert "ThreadingModel" in warned and "ThreadPoolSize" in warned  # KPL settings with no equivalent
    spec = module.egresses["example/output-messages"]
    assert module.ingresses == {}
    assert spec.region == AwsRegion.of_custom_endpoint("https://localhost:4567", "us-west-1")
    assert spec.credentials == AwsCredentials.profile("john-doe", "/path/to/profile/config")
    assert spec.max_outstanding_records == 9999
    props = spec.sink_properties()
    assert props["aws.endpoint"] == "https://localhost:4567"
    assert props["aws.credentials.provider.profile.path"] == "/path/to/profile/config"
    assert "aws.trust.all.certificates" not in props  # nothing added because the endpoint is local
    assert "ThreadingModel" not in props and "ThreadPoolSize" not in props
    assert spec.sql_options("arn:s")["sink.requests.max-buffered"] == "9999"


def _startup(fragment_type: str) -> str:
    (found,) = [y for _, y in fragments() if y.startswith("startupPosition:") and f"type: {fragment_type}" in y]
    return found


@pytest.mark.parametrize("kind, expected", [("latest", "LATEST"), ("earliest", "TRIM_HORIZON")])
def test_seed_startup_fragments(tmp_path: Path, kind: str, expected: str) -> None:
    spec = load_module(wrap(tmp_path, _startup(kind))).ingresses["seed/fragment"]
    assert spec.startup_position.kind == kind
    assert spec.startup_position.iterator_type == expected


def test_seed_date_fragment(tmp_path: Path) -> None:
    fragment = _startup("date")
    assert "2020-02-01 04:15:00.00 Z" in fragment  # the example StateFun itself could not parse
    spec = load_module(wrap(tmp_path, fragment)).ingresses["seed/fragment"]
    assert spec.startup_position.date == datetime(2020, 2, 1, 4, 15, tzinfo=timezone.utc)
    assert spec.startup_position.date.isoformat() == "2020-02-01T04:15:00+00:00"  # type: ignore[union-attr]


def _credentials(section: str) -> list[str]:
    return [y for s, y in fragments() if s == section and y.startswith("awsCredentials:")]


def test_seed_region_section_slips_point_at_aws_region(tmp_path: Path) -> None:
    region_blocks = _credentials("AWS Region")
    assert len(region_blocks) == 3
    slips = [y for y in region_blocks if "type: default" not in y]
    assert len(slips) == 2
    expected = {
        "specific": AwsRegion.of("us-west-1"),
        "custom-endpoint": AwsRegion.of_custom_endpoint("https://localhost:4567", "us-west-1"),
    }
    for fragment in slips:
        kind = re.search(r"type: (\S+)", fragment).group(1)  # type: ignore[union-attr]
        path = wrap(tmp_path, fragment)
        with pytest.raises(ConfigError) as info:
            load_module(path)
        message = str(info.value)
        assert message.startswith(f"{path}:{FRAGMENT_FIRST_LINE + 1}: document[0].spec.awsCredentials.type: ")
        assert f"'{kind}' is a region type" in message
        assert "move this block under 'awsRegion'" in message
        # ... and the fix works
        fixed = load_module(wrap(tmp_path, fragment.replace("awsCredentials:", "awsRegion:")))
        assert fixed.ingresses["seed/fragment"].region == expected[kind]


def test_seed_region_section_default_block_is_valid_credentials(tmp_path: Path) -> None:
    (fragment,) = [y for y in _credentials("AWS Region") if "type: default" in y]
    spec = load_module(wrap(tmp_path, fragment)).ingresses["seed/fragment"]
    assert spec.credentials == AwsCredentials.from_default_provider_chain()
    assert spec.region == AwsRegion.from_default_provider_chain()


def test_seed_credentials_section(tmp_path: Path) -> None:
    blocks_ = _credentials("AWS Credentials")
    assert len(blocks_) == 3
    default, basic, profile = blocks_
    assert load_module(wrap(tmp_path, default)).ingresses["seed/fragment"].credentials.kind == "default"
    assert load_module(wrap(tmp_path, basic)).ingresses["seed/fragment"].credentials == AwsCredentials.basic(
        "access-key-id", "secret-access-key")

    assert "type: basic" in profile and "profileName" in profile  # the seed's slip
    path = wrap(tmp_path, profile)
    with pytest.raises(ConfigError) as info:
        load_module(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{FRAGMENT_FIRST_LINE + 1}: document[0].spec.awsCredentials.type: ")
    assert "write 'type: profile'" in message
    fixed = load_module(wrap(tmp_path, profile.replace("type: basic", "type: profile")))
    assert fixed.ingresses["seed/fragment"].credentials == AwsCredentials.profile(
        "profile-name", "/path/to/profile/config")


def test_seed_fragments_also_load_in_the_1_0_format(tmp_path: Path) -> None:
    """The fragments are spec-level YAML: they mean the same inside a 1.0 module."""
    for fragment in [_startup("date"), _credentials("AWS Credentials")[1]]:
        path = tmp_path / "v1.yaml"
        path.write_text(
            'version: "1.0"\nmodule:\n  meta:\n    type: remote\n  spec:\n    ingresses:\n      - ingress:\n'
            "          meta:\n            type: statefun.kinesis.io/routable-protobuf-ingress\n"
            "            id: seed/fragment\n          spec:\n"
            "            streams: [{stream: s, typeUrl: seed/T, targets: [seed/f]}]\n"
            + textwrap.indent(fragment, " " * 12)
        )
        nested = load_module(path).ingresses["seed/fragment"]
        flat = load_module(wrap(tmp_path, fragment)).ingresses["seed/fragment"]
        assert nested == flat
