"""Integration: the embedded local Kinesis, the spec's boto3 clients and the CLI, byte for byte."""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from pyflink_kinesis import KinesisEgressBuilder, KinesisIngressBuilder, KinesisIngressStartupPosition
from pyflink_kinesis.cli import main
from pyflink_kinesis.tools.local import LocalKinesis, free_port

pytestmark = pytest.mark.integration
INVALID_UTF8 = [b"\xff\xfe\xfd", b"\xc3\x28", b"\x80", b"\xed\xa0\x80", bytes(range(256))]


def listening_addresses(port: int) -> set[str]:
    """Local addresses listening on ``port``, read from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                found.add(address)
    return found


def test_emulator_listens_on_loopback_only(kinesis: LocalKinesis) -> None:
    for port in (kinesis.port, kinesis.tls_port):
        # 0100007F is 127.0.0.1 in /proc's little-endian hex; nothing on 0.0.0.0 or ::.
        assert listening_addresses(port) == {"0100007F"}


def test_binary_records_round_trip_through_spec_clients(kinesis: LocalKinesis, new_stream) -> None:
    stream = new_stream(shards=2)
    egress = KinesisEgressBuilder.for_identifier("t/out").with_aws_region(kinesis.region) \
        .with_aws_credentials(kinesis.credentials).build()
    ingress = KinesisIngressBuilder.for_identifier("t/in").with_aws_region(kinesis.region) \
        .with_aws_credentials(kinesis.credentials).with_stream(stream) \
        .with_startup_position(KinesisIngressStartupPosition.from_earliest()).build()
    rng = random.Random(7)
    payloads = INVALID_UTF8 + [rng.randbytes(rng.randint(1, 2048)) for _ in range(200)]
    entries = [{"Data": p, "PartitionKey": f"key-{i % 37}"} for i, p in enumerate(payloads)]
    writer = egress.create_client()
    result = writer.put_records(StreamName=stream, Records=entries)
    assert result["FailedRecordCount"] == 0
    written = {r["SequenceNumber"]: (e["Data"], e["PartitionKey"], r["ShardId"]) for e, r in zip(entries, result["Records"])}

    reader = ingress.create_client()
    read = {}
    for shard in reader.list_shards(StreamName=stream)["Shards"]:
        iterator = reader.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                             ShardIteratorType=ingress.startup_position.iterator_type)["ShardIterator"]
        for _ in range(20):  # bounded: a few calls drain 205 records
            response = reader.get_records(ShardIterator=iterator, Limit=10000)
            for r in response["Records"]:
                read[r["SequenceNumber"]] = (r["Data"], r["PartitionKey"], shard["ShardId"])
            iterator = response["NextShardIterator"]
            if response.get("MillisBehindLatest", 0) == 0 and not response["Records"]:
                break
    assert read == written
    assert {shard for _, _, shard in read.values()} == {"shardId-000000000000", "shardId-000000000001"}


def run_cli(*args: str, env: dict | None = None, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyflink_kinesis", *args], capture_output=True,
                          input=input, env=env, timeout=120)


def test_cli_creates_puts_and_tails_binary_records(kinesis: LocalKinesis, tmp_path: Path) -> None:
    stream = f"cli-{os.getpid()}"
    assert run_cli("streams", "create", stream, "--shards", "2", "--endpoint", kinesis.endpoint,
                   "--emulator").returncode == 0
    listed = run_cli("streams", "list", "--endpoint", kinesis.endpoint, "--emulator")
    assert stream in listed.stdout.decode().split()

    payload_file = tmp_path / "payload.bin"
    payload_file.write_bytes(bytes(range(256)) * 3)
    puts = [
        run_cli("streams", "put", stream, "--file", str(payload_file), "--partition-key", "a",
                "--endpoint", kinesis.endpoint, "--emulator"),
        run_cli("streams", "put", stream, "--hex", "fffe00c328", "--partition-key", "b",
                "--endpoint", kinesis.endpoint, "--emulator"),
    ]
    for put in puts:
        assert put.returncode == 0, put.stderr.decode()
    sequence_numbers = {json.loads(p.stdout)["sequence_number"] for p in puts}

    tail = run_cli("streams", "tail", stream, "--max", "2", "--timeout", "30", "--endpoint", kinesis.endpoint,
                   "--emulator")
    assert tail.returncode == 0, tail.stderr.decode()
    records = [json.loads(line) for line in tail.stdout.decode().splitlines()]
    by_key = {r["partition_key"]: base64.b64decode(r["data_base64"]) for r in records}
    assert by_key == {"a": payload_file.read_bytes(), "b": bytes.fromhex("fffe00c328")}
    assert {r["sequence_number"] for r in records} == sequence_numbers


def test_cli_tail_shows_data_as_base64_text_hex_or_json(kinesis: LocalKinesis, new_stream, client,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    stream = new_stream()
    payloads = [b'{"t": 1}', "h\u00e9llo".encode(), b"\xff\xfe"]  # JSON, UTF-8 text, neither
    for payload in payloads:
        client.put_record(StreamName=stream, Data=payload, PartitionKey="k")  # one shard: read back in this order

    def tail(form: str) -> list[dict]:
        assert main(["streams", "tail", stream, "--data", form, "--max", "3", "--timeout", "30",
                     "--endpoint", kinesis.endpoint, "--emulator"]) == 0
        out, err = capsys.readouterr()
        assert err.startswith("3 record(s)"), err
        return [json.loads(line) for line in out.splitlines()]

    assert [base64.b64decode(r["data_base64"]) for r in tail("base64")] == payloads
    assert [bytes.fromhex(r["data_hex"]) for r in tail("hex")] == payloads
    text = tail("text")
    assert [r["data_text"] for r in text] == ['{"t": 1}', "h\u00e9llo", "\ufffd\ufffd"]
    assert "note" not in text[1] and text[2]["note"] == "not valid UTF-8 (byte 0): undecodable bytes shown as U+FFFD"
    parsed = tail("json")
    assert parsed[0]["data_json"] == {"t": 1} and "note" not in parsed[0]
    for record, payload in zip(parsed[1:], payloads[1:]):  # each failing record says so and keeps its bytes
        assert "data_json" not in record and base64.b64decode(record["data_base64"]) == payload
        assert record["note"].startswith("not JSON (") and record["note"].endswith("): data shown in base64")
    assert main(["streams", "tail", stream, "--data", "json", "--max", "3", "--endpoint", kinesis.endpoint,
                 "--emulator"]) == 0
    assert capsys.readouterr().err == "3 record(s), 2 with a note on their data\n"


def test_cli_local_up_status_down(tmp_path: Path) -> None:
    env = {**os.environ, "PYFLINK_KINESIS_CACHE": str(tmp_path)}
    # The emulator install is shared with the session cache to avoid a second npm ci.
    from pyflink_kinesis.tools.local import emulator_main

    env["PYFLINK_KINESIS_EMULATOR"] = str(emulator_main().parent)
    port, tls_port = free_port(), free_port()
    up = run_cli("local", "up", "--port", str(port), "--tls-port", str(tls_port), env=env)
    try:
        assert up.returncode == 0, up.stderr.decode()
        assert f"http://127.0.0.1:{port}" in up.stdout.decode()
        status = run_cli("local", "status", env=env)
        assert status.returncode == 0 and json.loads(status.stdout)["healthy"] is True
        assert listening_addresses(port) == {"0100007F"}
        # streams commands find the running emulator without --endpoint
        create = run_cli("streams", "create", "implicit", env=env)
        assert create.returncode == 0 and "ACTIVE" in create.stdout.decode()
    finally:
        down = run_cli("local", "down", env=env)
    assert down.returncode == 0
    assert run_cli("local", "status", env=env).returncode == 3
    assert listening_addresses(port) == set()


def test_cli_streams_without_endpoint_or_local_says_how(tmp_path: Path) -> None:
    env = {**os.environ, "PYFLINK_KINESIS_CACHE": str(tmp_path)}
    result = run_cli("streams", "list", env=env)
    assert result.returncode == 1
    assert "pyflink-kinesis local up" in result.stderr.decode()


def test_local_kinesis_reports_why_it_failed(tmp_path: Path, kinesis: LocalKinesis) -> None:
    # The session emulator holds kinesis.port: a second one on the same port must fail with its log.
    from pyflink_kinesis.tools.local import EmulatorError

    clash = LocalKinesis(port=kinesis.port, startup_timeout=20, log_path=str(tmp_path / "clash.log"))
    with pytest.raises(EmulatorError) as excinfo:
        clash.start()
    clash.stop()
    assert f"port {kinesis.port}" in str(excinfo.value) and "in use" in str(excinfo.value)


def test_emulator_ends_when_its_python_process_is_killed(tmp_path: Path) -> None:
    from pyflink_kinesis.tools.local import emulator_main

    script = (
        "import sys, time\n"
        "from pyflink_kinesis.tools.local import LocalKinesis\n"
        f"k = LocalKinesis(log_path={str(tmp_path / 'k.log')!r}).start()\n"
        "print(k.pid, k.port, flush=True)\n"
        "time.sleep(120)\n"
    )
    env = {**os.environ, "PYFLINK_KINESIS_EMULATOR": str(emulator_main().parent)}
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        emulator_pid, port = map(int, owner.stdout.readline().split())
        assert listening_addresses(port) == {"0100007F"}
    finally:
        owner.kill()  # SIGKILL: no cleanup code runs in the owner
        owner.wait(timeout=10)
    import time

    deadline = time.monotonic() + 15
    while Path(f"/proc/{emulator_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    state = Path(f"/proc/{emulator_pid}/stat").read_text().split()[2] if Path(f"/proc/{emulator_pid}").exists() else "gone"
    assert state in ("gone", "Z"), f"the emulator outlived its owner (state {state})"
    assert listening_addresses(port) == set()
