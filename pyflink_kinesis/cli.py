"""``pyflink-kinesis`` / ``python -m pyflink_kinesis``: validate and explain module YAML, run the
local Kinesis, and work with streams during development."""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Optional, Sequence

from .spec import keys, keys_doc
from .spec.errors import ConfigError, did_you_mean
from .tools.local import LOCAL_CREDENTIALS, EmulatorError, LocalKinesis, cache_dir, create_stream
from .spec.properties import masked
from .spec.records import MAX_PARTITION_KEY_CHARS, partition_key_length
from .spec.builders import KinesisIngressSpec, check_stream
from .flink.table import create_table_sql
from .statefun.module import load_module

STATE_FILE = "local-kinesis.json"


def _state_path() -> Path:
    return cache_dir() / STATE_FILE


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


# --- validate / explain -------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = load_module(Path(args.file))
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    for kind, line in module.ignored:
        print(f"  line {line}: '{kind}' is not a Kinesis component; skipped")
    if not module.ingresses and not module.egresses:
        print(f"error: {args.file}: no Kinesis ingress or egress in the module", file=sys.stderr)
        return 1
    print(f"{args.file}: OK ({len(module.ingresses)} ingress(es), {len(module.egresses)} egress(es))")
    return 0


def _explain_spec(spec: Any, stream_arn: str) -> dict[str, Any]:
    try:
        boto = spec.boto3_arguments()
        out: dict[str, Any] = {}
        if isinstance(spec, KinesisIngressSpec):
            out["streams"] = list(spec.streams)
            out["startup_position"] = spec.startup_position.iterator_type
            out["flink_source_properties"] = masked(spec.source_properties())
        else:
            out["max_outstanding_records"] = spec.max_outstanding_records
            out["flink_sink_properties"] = masked(spec.sink_properties())
        out["sql_options"] = masked(spec.sql_options(stream_arn))
        table = spec.id.replace("/", "_")
        out["sql_create_table"] = create_table_sql(spec, table, [("data", "BYTES")], stream_arn, mask_secrets=True)
        out["boto3"] = {"credentials": repr(boto["credentials"]), "client": boto["client"]}
        out["client_properties"] = keys_doc.explain(spec.client_properties)
        return out
    except ConfigError as e:
        return {"error": str(e)}


def cmd_explain(args: argparse.Namespace) -> int:
    module = load_module(Path(args.file))
    if not module.ingresses and not module.egresses:
        raise ConfigError("no Kinesis ingress or egress in the module: nothing to explain", file=args.file)
    report: dict[str, Any] = {"ingresses": {}, "egresses": {}}
    for section, specs in (("ingresses", module.ingresses), ("egresses", module.egresses)):
        for identifier, spec in specs.items():
            stream = spec.streams[0] if isinstance(spec, KinesisIngressSpec) else "<stream>"
            report[section][identifier] = _explain_spec(spec, f"<ARN of {stream}: aws kinesis describe-stream-summary>")
    _print_json(report)
    return 1 if any("error" in v for s in report.values() for v in s.values()) else 0


def cmd_keys(args: argparse.Namespace) -> int:
    if args.markdown:
        print("\n".join(keys_doc.tables().values()))
        return 0
    names = args.key or [k.name for k in keys.all_keys()]
    for name in names:
        key = keys.lookup(name)
        if key is None:
            known = [k.name for k in keys.all_keys()]
            raise ConfigError(f"not a key of the registry{did_you_mean(name, known)}", field=name)
        print(keys_doc.describe(key))
    return 0


# --- local --------------------------------------------------------------------------------------


def _read_state() -> Optional[dict[str, Any]]:
    try:
        return json.loads(_state_path().read_text())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def cmd_local(args: argparse.Namespace) -> int:
    state = _read_state()
    running = state is not None and _alive(state["pid"])
    if args.action == "status":
        if not running:
            print("local Kinesis: not running")
            return 3
        assert state is not None
        healthy = LocalKinesis(port=state["port"], tls_port=state["tls_port"]).healthy()
        _print_json({**state, "healthy": healthy})
        return 0 if healthy else 1
    if args.action == "down":
        if not running:
            print("local Kinesis: not running")
        else:
            assert state is not None
            os.killpg(state["pid"], signal.SIGTERM)
            for _ in range(100):
                if not _alive(state["pid"]):
                    break
                time.sleep(0.1)
            print(f"local Kinesis stopped (pid {state['pid']})")
        _state_path().unlink(missing_ok=True)
        return 0
    if running:
        assert state is not None
        print(f"local Kinesis already running: {state['endpoint']} (pid {state['pid']})")
        return 0
    local = LocalKinesis(port=args.port, tls_port=args.tls_port, persist_path=args.persist,
                         exit_with_parent=False).start()
    state = {**local.state(), "port": local.port, "tls_port": local.tls_port, "log": str(local.log_path)}
    _state_path().parent.mkdir(parents=True, exist_ok=True)
    _state_path().write_text(json.dumps(state))
    print(f"local Kinesis running on {local.endpoint} (TLS {local.tls_endpoint}), region us-east-1, pid {local.pid}")
    print(f"  awsRegion: {{type: custom-endpoint, endpoint: {local.endpoint}, id: us-east-1}}")
    return 0


# --- streams ------------------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> Any:
    if args.module:
        module = load_module(Path(args.module))
        specs: dict[str, Any] = {**module.ingresses, **module.egresses}
        if args.id not in specs:
            raise ConfigError(f"no ingress or egress '{args.id}'; the module has {', '.join(specs) or 'none'}",
                              field="--id", file=args.module)
        return specs[args.id].create_client()
    from .spec.region import AwsRegion
    from .spec.builders import KinesisEgressBuilder

    if args.endpoint is not None:  # the default chain's credentials, as the AWS CLI's --endpoint-url, unless --emulator
        builder = KinesisEgressBuilder.for_identifier("cli/streams").with_aws_region(
            AwsRegion.of_custom_endpoint(args.endpoint, args.region, emulator=args.emulator))
        if args.emulator:
            builder.with_aws_credentials(LOCAL_CREDENTIALS)
        return builder.build().create_client()
    state = _read_state()
    if state is None or not _alive(state["pid"]):
        raise ConfigError("no --endpoint and no local Kinesis running; run 'pyflink-kinesis local up' first, "
                          "or pass --endpoint URL, or --module FILE --id ns/name", field="--endpoint")
    local = LocalKinesis(port=state["port"], tls_port=state["tls_port"])  # the one 'local up' started
    return (KinesisEgressBuilder.for_identifier("cli/streams").with_aws_region(local.region)
            .with_aws_credentials(local.credentials).build().create_client())


def _check_streams_arguments(args: argparse.Namespace) -> None:
    """Every argument checked before any call, so a mistake is a one-line error naming it."""
    if args.action != "list":
        check_stream(args.stream, field="stream")
    for name, value, least in (("--shards", args.shards, 1), ("--max", args.max, 1), ("--timeout", args.timeout, 0)):
        if value < least or (least == 0 and value == 0):
            raise ConfigError(f"expected a number {'above' if least == 0 else 'of at least'} {least}, got {value}",
                              field=name)
    if args.action == "put" and not 1 <= partition_key_length(args.partition_key) <= MAX_PARTITION_KEY_CHARS:
        raise ConfigError(f"expected 1 to {MAX_PARTITION_KEY_CHARS} characters, got {args.partition_key!r}",
                          field="--partition-key")


def cmd_streams(args: argparse.Namespace) -> int:
    _check_streams_arguments(args)
    payloads = _payloads(args) if args.action == "put" else []
    client = _client(args)
    if args.action == "create":
        summary = create_stream(client, args.stream, args.shards)
        print(f"{summary['StreamName']}: {summary['StreamStatus']}, {summary['OpenShardCount']} shard(s), {summary['StreamARN']}")
    elif args.action == "list":
        names = client.list_streams()["StreamNames"]
        for name in names:
            print(name)
        if not names:
            print("no streams", file=sys.stderr)
    elif args.action == "put":
        return _put(client, args, payloads)
    else:
        return _tail(client, args)
    return 0


def _payloads(args: argparse.Namespace) -> list[bytes]:
    if args.hex is not None:
        try:
            return [bytes.fromhex(args.hex)]
        except ValueError:
            raise ConfigError(f"expected pairs of hex digits such as 'fffe00', got {args.hex!r}", field="--hex") from None
    if args.file is not None:
        try:
            return [Path(args.file).read_bytes()]
        except OSError as e:
            raise ConfigError(f"cannot read {args.file!r}: {e.strerror}", field="--file") from None
    if args.data is not None:
        return [args.data.encode("utf-8")]
    payloads = [line.rstrip(b"\n") for line in sys.stdin.buffer if line.strip()]
    if not payloads:
        raise ConfigError("no records to put: stdin had no lines; give --data, --hex, --file or lines on stdin",
                          field="stdin")
    return payloads


def _put(client: Any, args: argparse.Namespace, payloads: list[bytes]) -> int:
    for payload in payloads:
        result = client.put_record(StreamName=args.stream, Data=payload, PartitionKey=args.partition_key)
        print(json.dumps({"shard_id": result["ShardId"], "sequence_number": result["SequenceNumber"], "bytes": len(payload)}))
    return 0


def _tail(client: Any, args: argparse.Namespace) -> int:
    iterator_type = {"earliest": "TRIM_HORIZON", "latest": "LATEST"}[args.start]
    iterators = {}
    for shard in client.list_shards(StreamName=args.stream)["Shards"]:
        iterators[shard["ShardId"]] = client.get_shard_iterator(
            StreamName=args.stream, ShardId=shard["ShardId"], ShardIteratorType=iterator_type)["ShardIterator"]
    seen, deadline = 0, time.monotonic() + args.timeout
    while iterators and seen < args.max and time.monotonic() < deadline:
        got = 0
        for shard_id, iterator in list(iterators.items()):
            response = client.get_records(ShardIterator=iterator, Limit=min(10000, args.max - seen))
            for record in response["Records"]:
                print(json.dumps({
                    "stream": args.stream,
                    "shard_id": shard_id,
                    "partition_key": record["PartitionKey"],
                    "sequence_number": record["SequenceNumber"],
                    "approximate_arrival_timestamp": record["ApproximateArrivalTimestamp"].isoformat(),
                    "data_base64": base64.b64encode(record["Data"]).decode("ascii"),
                }), flush=True)
                seen += 1
                got += 1
            if response.get("NextShardIterator"):
                iterators[shard_id] = response["NextShardIterator"]
            else:
                del iterators[shard_id]
            if seen >= args.max:
                break
        if not got:
            time.sleep(0.2)
    print(f"{seen} record(s)", file=sys.stderr)
    return 0


# --- main ---------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pyflink-kinesis", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a module YAML; exit 0 when valid")
    v.add_argument("file")
    v.set_defaults(run=cmd_validate)

    e = sub.add_parser("explain", help="show the Flink, SQL and boto3 configuration of each ingress and egress")
    e.add_argument("file")
    e.set_defaults(run=cmd_explain)

    k = sub.add_parser("keys", help="the configuration keys: type, default, which engines act on each and why")
    k.add_argument("key", nargs="*", help="keys to explain (default: all)")
    k.add_argument("--markdown", action="store_true", help="the README's tables")
    k.set_defaults(run=cmd_keys)

    loc = sub.add_parser("local", help="the embedded local Kinesis on 127.0.0.1")
    loc.add_argument("action", choices=["up", "down", "status"])
    loc.add_argument("--port", type=int, default=4568, help="plain HTTP port (default 4568)")
    loc.add_argument("--tls-port", type=int, default=4567, help="HTTPS port (default 4567)")
    loc.add_argument("--persist", metavar="DIR", help="keep streams in DIR across restarts")
    loc.set_defaults(run=cmd_local)

    s = sub.add_parser("streams", help="create, list, put to and tail streams (development)")
    s.add_argument("action", choices=["create", "list", "put", "tail"])
    s.add_argument("stream", nargs="?", help="the stream (not for list)")
    s.add_argument("--endpoint", help="service URL (default: the running local Kinesis)")
    s.add_argument("--region", default="us-east-1", help="region to sign for with --endpoint")
    s.add_argument("--emulator", action="store_true",
                   help="the --endpoint is a local Kinesis emulator: sign with its dummy credentials")
    s.add_argument("--module", help="use the client configuration of a module YAML's ingress or egress...")
    s.add_argument("--id", help="...with this id (namespace/name)")
    s.add_argument("--shards", type=int, default=1, help="create: shard count")
    s.add_argument("--partition-key", default="cli", help="put: partition key")
    group = s.add_mutually_exclusive_group()
    group.add_argument("--data", help="put: one record with this UTF-8 text")
    group.add_argument("--hex", help="put: one record with these bytes, in hex")
    group.add_argument("--file", help="put: one record with this file's bytes (default: one record per stdin line)")
    s.add_argument("--start", choices=["earliest", "latest"], default="earliest", help="tail: where to start")
    s.add_argument("--max", type=int, default=100, help="tail: stop after this many records")
    s.add_argument("--timeout", type=float, default=10.0, help="tail: stop after this many seconds")
    s.set_defaults(run=cmd_streams)

    from .tools.cluster_cli import register  # cluster up|down|status, submit, savepoint
    register(sub)
    from .tools.msf_package import register as register_package  # package (Amazon Managed Service for Apache Flink)
    register_package(sub)
    from .tools.sql_cli import register as register_sql  # sql [-f script.sql]
    register_sql(sub)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "action", None) in ("create", "put", "tail") and not args.stream:
        parser().error(f"streams {args.action} needs a stream name")
    try:
        return args.run(args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except EmulatorError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # botocore's errors (no credentials, unreachable endpoint, API errors)
        if type(e).__module__.startswith("botocore"):
            print("error: " + " ".join(str(e).split()), file=sys.stderr)  # one line
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
