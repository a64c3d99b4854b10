"""The ``explain`` verb of ``pyflink-kinesis``: what each ingress and egress of a module YAML means for Flink,
Flink SQL and boto3, as text (SQL statements a user can copy), as the statements only, or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterator

from ..spec import keys_doc
from ..spec.builders import KinesisIngressSpec
from ..spec.ddl import CONNECTOR, OFFICIAL_CONNECTOR, Spec, create_table_sql
from ..spec.errors import ConfigError
from ..spec.properties import LEGACY_KEYS, masked
from ..statefun.module import load_module

#: The columns of an explained table: an ingress's payload; an egress's payload, the stream and partition key of
#: each row (the pyflink-kinesis table writes to the stream a row names, as a StateFun egress's serializer picks).
INGRESS_COLUMNS = "`data` BYTES"
EGRESS_COLUMNS = {CONNECTOR: "`data` BYTES,\n  `stream` STRING METADATA FROM 'stream',\n"
                             "  `partition_key` STRING METADATA FROM 'partition-key'",
                  OFFICIAL_CONNECTOR: "`data` BYTES"}
SQL_HEADING = "-- Flink SQL. Secrets show as '****': put them in before running a statement."


def sql_tables(spec: Spec, connector: str) -> Iterator[dict[str, Any]]:
    """The tables of ``spec``, masked: one per stream of an ingress (its name, or a placeholder ARN for the official
    connector), one for an egress (whose rows name their stream; the official connector needs the ARN)."""
    base = spec.id.replace("/", "_")
    if isinstance(spec, KinesisIngressSpec):
        many = len(spec.streams) > 1
        for stream in spec.streams:
            yield _table(spec, f"{base}_{stream}" if many else base, INGRESS_COLUMNS, connector, stream,
                         f"reads stream {stream}")
    else:
        yield _table(spec, base, EGRESS_COLUMNS[connector], connector, None, "writes to the stream each row names"
                     if connector == CONNECTOR else "writes to one stream")


def _table(spec: Spec, name: str, columns: str, connector: str, stream: Any, what: str) -> dict[str, Any]:
    where: dict[str, Any] = {"stream": stream}
    if connector == OFFICIAL_CONNECTOR:  # it knows streams by ARN only
        where = {"stream_arn": f"<ARN of {stream or 'the stream'}: aws kinesis describe-stream-summary>"}
    return {"table": name, "about": f"{spec.id}: the '{connector}' table that {what}",
            "options": masked(spec.sql_options(format="raw", connector=connector, **where)),
            "create_table": create_table_sql(spec, name, columns, "raw", connector=connector, mask_secrets=True,
                                             **where) + ";"}


AGGREGATION = "sink.aggregation.enabled"
#: Said of an egress that sets neither AGGREGATION nor its KPL name: StateFun's egress (the KPL) aggregated.
KPL_AGGREGATED = ("StateFun's egress wrote through the KPL, which aggregated small records by default "
                  "(AggregationEnabled: true); without it here each record is one Kinesis record. Set AggregationEnabled: "
                  "true (or sink.aggregation.enabled) to aggregate again; consumers must de-aggregate (the KCL, "
                  "aws-kinesis-agg and this package's readers do, the official Flink source does not).")


def _sets_aggregation(spec: Spec) -> bool:
    """True if a client property of ``spec`` is sink.aggregation.enabled or an SDK v1 / KPL name for it."""
    return any(name == AGGREGATION or getattr(LEGACY_KEYS.get(name), "flink", None) == AGGREGATION
               for name, _ in spec.client_properties)


def spec_report(spec: Spec, connector: str) -> dict[str, Any]:
    """The configuration ``spec`` means for each engine, secrets masked; ``{"error": ...}`` when it cannot say."""
    try:
        out: dict[str, Any] = {}
        if isinstance(spec, KinesisIngressSpec):
            out["streams"] = list(spec.streams)
            out["startup_position"] = spec.startup_position.iterator_type
            out["flink_source_properties"] = masked(spec.source_properties())
        else:
            out["max_outstanding_records"] = spec.max_outstanding_records
            out["flink_sink_properties"] = masked(spec.sink_properties())
            if not _sets_aggregation(spec):
                out["notes"] = [KPL_AGGREGATED]
        out["sql"] = list(sql_tables(spec, connector))
        boto = spec.boto3_arguments()
        out["boto3"] = {"credentials": repr(boto["credentials"]), "client": boto["client"]}
        out["client_properties"] = keys_doc.explain(spec.client_properties)
        return out
    except ConfigError as e:
        return {"error": str(e)}


def module_report(file: str, connector: str) -> dict[str, dict[str, Any]]:
    """``{"ingresses": {id: report}, "egresses": {id: report}}`` of a module YAML."""
    module = load_module(Path(file))
    if not module.ingresses and not module.egresses:
        raise ConfigError("no Kinesis ingress or egress in the module: nothing to explain", file=file)
    return {section: {identifier: spec_report(spec, connector) for identifier, spec in specs.items()}
            for section, specs in (("ingresses", module.ingresses), ("egresses", module.egresses))}


def statements(report: dict[str, dict[str, Any]]) -> str:
    """Every table's ``CREATE TABLE``, each after a comment naming what it is: a script to copy."""
    parts = [SQL_HEADING]
    for section in report.values():
        for explained in section.values():
            for table in explained.get("sql", []):
                parts.append(f"\n-- {table['about']}\n{table['create_table']}")
    return "\n".join(parts)


def _properties(values: dict[str, Any]) -> list[str]:
    return [f"    {key} = {value}" for key, value in values.items()]


def _client_property(name: str, explained: dict[str, Any]) -> str:
    if "registry" in explained:
        return f"    {name}: {explained['registry']}"
    line = f"    {name}: honoured by {', '.join(explained['honoured_by']) or 'none'}"
    return line + "".join(f"; not by {path}: {why}" for path, why in explained["ignored_by"].items())


def text(report: dict[str, dict[str, Any]]) -> str:
    """The report as plain text: each ingress and egress, then the SQL statements of them all."""
    lines: list[str] = []
    for section, kind in (("ingresses", "ingress"), ("egresses", "egress")):
        for identifier, explained in report[section].items():
            lines.append(f"{kind} {identifier}")
            if "error" in explained:
                lines += [f"  error: {explained['error']}", ""]
                continue
            if kind == "ingress":
                lines += [f"  streams: {', '.join(explained['streams'])}",
                          f"  startup position: {explained['startup_position']}",
                          "  Flink source properties:", *_properties(explained["flink_source_properties"])]
            else:
                lines += [f"  max outstanding records: {explained['max_outstanding_records']}",
                          "  Flink sink properties:", *_properties(explained["flink_sink_properties"])]
            lines += ["  boto3:", f"    credentials = {explained['boto3']['credentials']}",
                      *_properties(explained["boto3"]["client"])]
            if explained["client_properties"]:
                lines.append("  client properties:")
                lines += [_client_property(name, e) for name, e in explained["client_properties"].items()]
            lines += [f"  note: {note}" for note in explained.get("notes", [])]
            lines.append(f"  SQL tables: {', '.join(t['table'] for t in explained['sql'])} (below)")
            lines.append("")
    return "\n".join(lines) + "\n" + statements(report)


def cmd_explain(args: argparse.Namespace) -> int:
    report = module_report(args.file, args.connector)
    errors = [f"{kind} {identifier}: {explained['error']}" for kind, section in zip(("ingress", "egress"), report.values())
              for identifier, explained in section.items() if "error" in explained]
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    elif args.sql:
        print(statements(report))
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
    else:
        print(text(report))
    return 1 if errors else 0


def register(sub: Any) -> None:
    """Add the ``explain`` sub-command to the CLI's sub-parsers."""
    e = sub.add_parser("explain", help="show the Flink, SQL and boto3 configuration of each ingress and egress",
                       description="Show what each Kinesis ingress and egress of a module YAML means for Flink, "
                                   "Flink SQL (CREATE TABLE statements to copy) and boto3. Secrets show as ****.")
    e.add_argument("file", help="the module YAML")
    form = e.add_mutually_exclusive_group()
    form.add_argument("--sql", action="store_true", help="print the CREATE TABLE statements only")
    form.add_argument("--json", action="store_true", help="print the report as JSON")
    e.add_argument("--connector", choices=[CONNECTOR, OFFICIAL_CONNECTOR], default=CONNECTOR,
                   help=f"the tables' connector (default {CONNECTOR}, this package's; {OFFICIAL_CONNECTOR}: the "
                        "official one, which needs the stream's ARN)")
    e.set_defaults(run=cmd_explain)
