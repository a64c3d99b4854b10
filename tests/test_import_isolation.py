"""pyflink_kinesis and beam_transforms import without PyFlink and Beam: build, load and translate specs with both blocked;
the packages and the benchmarks import nothing from tests/ (what they share with the tests is pyflink_kinesis.testing)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    '''
    import sys

    BLOCKED = ("pyflink", "apache_beam")


    class Block:
        attempts = []

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                Block.attempts.append(name)
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
            return None


    sys.meta_path.insert(0, Block())

    for name in BLOCKED:  # the blocker really works
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            raise SystemExit(f"{name} imported despite the blocker")
    Block.attempts.clear()

    import pyflink_kinesis
    from pyflink_kinesis import (
        AwsCredentials, AwsRegion, KinesisEgressBuilder, KinesisIngressBuilder,
        KinesisIngressStartupPosition, load_module, masked,
    )
    import pyflink_kinesis.cli  # validate/explain must work without the engines too

    ingress = (
        KinesisIngressBuilder.for_identifier("ex/in")
        .with_aws_region(AwsRegion.of_custom_endpoint("http://localhost:4568", "us-east-1"))
        .with_aws_credentials(AwsCredentials.basic("AKIA", "SeCrEt-123"))
        .with_stream("s")
        .with_startup_position(KinesisIngressStartupPosition.from_earliest())
        .with_client_configuration_property("SocketTimeout", 1000)
        .build()
    )
    props = ingress.source_properties()
    assert props["source.init.position"] == "TRIM_HORIZON", props
    assert ingress.sql_options("arn:s")["connector"] == "pyflink-kinesis"
    assert ingress.botocore_config() == {"read_timeout": 1.0}
    client = ingress.create_client()
    assert client.meta.endpoint_url == "http://localhost:4568"

    module = load_module(
        "kind: io.statefun.kinesis.v1/egress\\n"
        "spec:\\n"
        "  id: ex/out\\n"
        "  awsRegion: {type: specific, id: eu-west-1}\\n"
        "  maxOutstandingRecords: 10\\n"
    )
    egress = module.egresses["ex/out"]
    assert egress.sink_properties()["aws.region"] == "eu-west-1"
    assert egress.sql_options("arn:s")["sink.requests.max-buffered"] == "10"
    assert masked(props)["aws.credentials.provider.basic.secretkey"] == "****"

    import beam_transforms  # the package imports without Beam; its transforms say what to install
    try:
        beam_transforms.ReadFromKinesis
    except ImportError as e:
        assert "pip install 'pyflink-kinesis[beam]'" in str(e), e
    else:
        raise SystemExit("ReadFromKinesis loaded without Beam")
    import pyflink_kinesis.flink.table  # its PyFlink import is deferred to table_descriptor()
    from pyflink_kinesis import datastream  # PyFlink is imported when from_ingress / to_egress run
    assert datastream.sink_configuration(egress)["sink.requests.max-buffered"] == "10"
    try:
        datastream.from_ingress(None, ingress)
    except ImportError as e:
        assert "pyflink" in str(e), e
    else:
        raise SystemExit("from_ingress ran without PyFlink")

    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded
    print("isolated-ok", len(Block.attempts))
    '''
)


def test_pyflink_kinesis_without_pyflink_and_beam(tmp_path: Path) -> None:
    script = tmp_path / "isolated.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true",
               PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "isolated-ok" in result.stdout


def test_the_packages_and_benchmarks_import_nothing_from_tests() -> None:
    found = []
    for folder in ("pyflink_kinesis", "beam_transforms", "benchmarks"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
                found += [f"{path.relative_to(REPO)}:{node.lineno}: {n}" for n in names if n.split(".")[0] == "tests"]
    assert not found, "imports from tests/ (move what is shared into pyflink_kinesis.testing):\n" + "\n".join(found)
