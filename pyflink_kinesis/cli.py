"""``pyflink-kinesis`` / ``python -m pyflink_kinesis``: the command's parser and its ``validate``, ``keys``,
``jar`` and ``streams`` verbs (``explain``, ``local``, ``cluster``, ``submit``, ``savepoint``, ``package`` and
``sql`` are in :mod:`pyflink_kinesis.tools`)."""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from .spec import keys, keys_doc
from .spec.errors import ConfigError, did_you_mean
from .tools.local import LOCAL_CREDENTIALS, EmulatorError, LocalKinesis, create_stream
from .tools.local_cli import alive as _alive, read_state as _read_state
from .spec.records import MAX_PARTITION_KEY_CHARS, partition_key_length
from .spec.builders import check_stream
from .statefun.module import load_module

DESCRIPTION = ("Validate and explain StateFun module YAML, run the local Kinesis and a Flink cluster, work with "
               "streams during development, and package jobs.")


# --- validate, keys, jar -------------------------------------------------------------------------


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


def cmd_jar(args: argparse.Namespace) -> int:
    from .flink.jar import ConnectorJarMissing, UnsupportedFlinkVersion, connector_jar, installed_flink_version

    version = args.flink
    if version is None:
        try:
            version = installed_flink_version()
        except ConnectorJarMissing:
            raise ConfigError("PyFlink (apache-flink) is not installed here, so the Flink line is unknown: pass it, "
                              "e.g. --flink 1.20 or --flink 2.x", field="--flink") from None
    try:
        jar = connector_jar(version)
    except UnsupportedFlinkVersion as e:
        raise ConfigError(str(e), field="--flink") from None
    except ConnectorJarMissing as e:
        raise ConfigError(str(e), field="jar") from None
    print(jar.as_uri() if args.url else jar)
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

    builder = KinesisEgressBuilder.for_identifier("cli/streams")
    if args.endpoint is not None:  # the default chain's credentials, as the AWS CLI's --endpoint-url, unless --emulator
        builder.with_aws_region(AwsRegion.of_custom_endpoint(args.endpoint, args.region, emulator=args.emulator))
        if args.emulator:
            builder.with_aws_credentials(LOCAL_CREDENTIALS)
        return builder.build().create_client()
    state = _read_state()
    if state is None or not _alive(state["pid"]):
        raise ConfigError("no --endpoint and no local Kinesis running; run 'pyflink-kinesis local up' first, "
                          "or pass --endpoint URL, or --module FILE --id ns/name", field="--endpoint")
    local = LocalKinesis(port=state["port"], tls_port=state["tls_port"])  # the one 'local up' started
    return builder.with_aws_region(local.region).with_aws_credentials(local.credentials).build().create_client()


def _check_streams_arguments(args: argparse.Namespace) -> None:
    """Every argument checked before any call, so a mistake is a one-line error naming it."""
    if args.action != "list":
        check_stream(args.stream, field="stream")
    for name, least in (("--shards", 1), ("--max", 1), ("--timeout", 0)):
        value = getattr(args, name[2:], None)  # each verb has its own options
        if value is not None and (value < least or (least == 0 and value == 0)):
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
    seen, noted, deadline = 0, 0, time.monotonic() + args.timeout
    while iterators and seen < args.max and time.monotonic() < deadline:
        got = 0
        for shard_id, iterator in list(iterators.items()):
            response = client.get_records(ShardIterator=iterator, Limit=min(10000, args.max - seen))
            for record in response["Records"]:
                shown = {
                    "stream": args.stream,
                    "shard_id": shard_id,
                    "partition_key": record["PartitionKey"],
                    "sequence_number": record["SequenceNumber"],
                    "approximate_arrival_timestamp": record["ApproximateArrivalTimestamp"].isoformat(),
                    **show_data(record["Data"], args.show),
                }
                print(json.dumps(shown), flush=True)
                seen += 1
                got += 1
                noted += "note" in shown
            if response.get("NextShardIterator"):
                iterators[shard_id] = response["NextShardIterator"]
            else:
                del iterators[shard_id]
            if seen >= args.max:
                break
        if not got:
            time.sleep(0.2)
    print(f"{seen} record(s)" + (f", {noted} with a note on their data" if noted else ""), file=sys.stderr)
    return 0


DATA_FORMATS = ("base64", "text", "hex", "json")


def show_data(data: bytes, form: str) -> dict[str, Any]:
    """A record's data for ``streams tail`` as ``{"data_<form>": value}``, with a ``note`` when the data is not
    valid UTF-8 (``text``: shown with U+FFFD) or not JSON (``json``: shown in base64 instead)."""
    if form == "hex":
        return {"data_hex": data.hex()}
    if form == "text":
        shown: dict[str, Any] = {"data_text": data.decode("utf-8", errors="replace")}
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            shown["note"] = f"not valid UTF-8 (byte {e.start}): undecodable bytes shown as U+FFFD"
        return shown
    encoded = base64.b64encode(data).decode("ascii")
    if form == "json":
        try:
            return {"data_json": json.loads(data)}
        except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
            return {"data_base64": encoded, "note": f"not JSON ({e}): data shown in base64"}
    return {"data_base64": encoded}


# --- main ---------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pyflink-kinesis", description=DESCRIPTION)
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a module YAML; exit 0 when valid")
    v.add_argument("file", help="the module YAML")
    v.set_defaults(run=cmd_validate)

    from .tools.explain_cli import register as register_explain  # explain FILE [--sql | --json]
    register_explain(sub)

    k = sub.add_parser("keys", help="the configuration keys: type, default, which engines act on each and why")
    k.add_argument("key", nargs="*", help="keys to explain (default: all)")
    k.add_argument("--markdown", action="store_true", help="the tables of docs/configuration-keys.md, in Markdown")
    k.set_defaults(run=cmd_keys)

    j = sub.add_parser("jar", help="the path of the connector jar (for ADD JAR or pipeline.jars)")
    j.add_argument("--flink", metavar="LINE", help="the Flink line or version: 1.20, 2.x, 2.2, ... "
                   "(default: the installed PyFlink's)")
    j.add_argument("--url", action="store_true", help="print a file:// URL (as pipeline.jars takes) instead")
    j.set_defaults(run=cmd_jar)

    from .tools.local_cli import register as register_local  # local up|down|status
    register_local(sub)
    _streams_parser(sub)

    from .tools.cluster_cli import register  # cluster up|down|status, submit, savepoint
    register(sub)
    from .tools.msf_package import register as register_package  # package (Amazon Managed Service for Apache Flink)
    register_package(sub)
    from .tools.sql_cli import register as register_sql  # sql [-f script.sql]
    register_sql(sub)
    return p


def _streams_parser(sub: Any) -> None:
    """``streams create|list|put|tail``, each verb with its own options; ``streams --help`` shows them all."""
    s = sub.add_parser("streams", help="create, list, put to and tail streams (development)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = s.add_subparsers(dest="action", required=True, title="verbs")
    create = verbs.add_parser("create", help="create a stream and wait until it is active")
    create.add_argument("stream", metavar="STREAM")
    create.add_argument("--shards", type=int, default=1, metavar="N", help="shard count (default 1)")
    listing = verbs.add_parser("list", help="the names of the streams")
    put = verbs.add_parser("put", help="put records: one per line of stdin, or one given by --data, --hex or --file")
    put.add_argument("stream", metavar="STREAM")
    put.add_argument("--partition-key", default="cli", metavar="KEY", help="the records' partition key (default cli)")
    payload = put.add_mutually_exclusive_group()
    payload.add_argument("--data", metavar="TEXT", help="one record with this UTF-8 text")
    payload.add_argument("--hex", help="one record with these bytes, in hex (fffe00)")
    payload.add_argument("--file", help="one record with this file's bytes")
    tail = verbs.add_parser("tail", help="print records as JSON lines, from every shard")
    tail.add_argument("stream", metavar="STREAM")
    tail.add_argument("--start", choices=["earliest", "latest"], default="earliest", help="where to start (default earliest)")
    tail.add_argument("--max", type=int, default=100, metavar="N", help="stop after N records (default 100)")
    tail.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                      help="stop after this many seconds (default 10)")
    tail.add_argument("--data", dest="show", choices=DATA_FORMATS, default="base64",
                      help="show each record's data as base64 (default), text (UTF-8; undecodable bytes as U+FFFD, "
                           "with a note), hex, or json (parsed; a record that is not JSON gets a note and base64)")
    usages = []
    for verb in (create, listing, put, tail):
        verb.add_argument("--endpoint", metavar="URL", help="service URL (default: the running local Kinesis)")
        verb.add_argument("--region", default="us-east-1", help="region to sign for with --endpoint (default us-east-1)")
        verb.add_argument("--emulator", action="store_true",
                          help="the --endpoint is a local Kinesis emulator: sign with its dummy credentials")
        verb.add_argument("--module", metavar="FILE", help="use the client of a module YAML's ingress or egress...")
        verb.add_argument("--id", metavar="NAMESPACE/NAME", help="...with this id")
        verb.set_defaults(run=cmd_streams)
        usages.append(verb.format_usage().rstrip().replace("usage: ", "  ", 1).replace("\n     ", "\n"))
    s.epilog = "each verb's options (pyflink-kinesis streams VERB --help explains them):\n" + "\n".join(usages)


@contextlib.contextmanager
def current_folder_first() -> Iterator[None]:
    """The current folder first on the import path while a command runs, as under ``python -m``: a module YAML's
    ``examples.sensors:parse_reading`` imports from where the command runs (a console script's import path starts
    at its own folder instead)."""
    folder = os.getcwd()
    added = folder not in sys.path and "" not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        yield
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        with current_folder_first():
            return int(args.run(args))
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
