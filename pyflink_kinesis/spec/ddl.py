"""SQL DDL for Kinesis tables: the options that head a WITH clause (connector, stream, format) and whole
``CREATE TABLE`` statements. Text only: nothing here needs PyFlink."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional, Sequence, Union

from .errors import ConfigError
from .properties import masked
from .records import STREAM_NAME

if TYPE_CHECKING:
    from .builders import KinesisEgressSpec, KinesisIngressSpec

CONNECTOR = "pyflink-kinesis"  # the table factory in this package's jar
OFFICIAL_CONNECTOR = "kinesis"  # the official flink-sql-connector-aws-kinesis-streams


def table_head(connector: str, stream_arn: Optional[str], stream: Optional[str], format: str,
               required: bool) -> dict[str, str]:
    """``connector``, the stream (``stream.arn`` or, ours only, ``stream``) and ``format`` of a table.

    Args:
        connector: ``"pyflink-kinesis"`` or ``"kinesis"``.
        stream_arn: The stream's ARN, if given (wins over ``stream``).
        stream: The stream's name, if given.
        format: The table format.
        required: Whether the table must name a stream (a source must; our sink may take it from each row).
    """
    if connector not in (CONNECTOR, OFFICIAL_CONNECTOR):
        raise ConfigError(f"expected '{CONNECTOR}' or '{OFFICIAL_CONNECTOR}', got {connector!r}", field="connector")
    options = {"connector": connector}
    if stream_arn:
        options["stream.arn"] = stream_arn
    elif stream and connector == CONNECTOR:
        if not STREAM_NAME.fullmatch(stream):
            raise ConfigError(f"expected a stream name (1 to 128 of a-z, A-Z, 0-9, '_', '.', '-'), got {stream!r}",
                              field="stream")
        options["stream"] = stream
    elif connector == OFFICIAL_CONNECTOR or required:
        what = "a stream ARN" if connector == OFFICIAL_CONNECTOR else "a stream name or ARN"
        raise ConfigError(f"the '{connector}' table needs {what}", field="stream_arn")
    options["format"] = format
    return options


Columns = Union[str, Sequence[tuple[str, str]]]
Spec = Union["KinesisIngressSpec", "KinesisEgressSpec"]
_LEADING_COLUMN = re.compile(r"\s*(`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_$]*)")


def quote_identifier(name: str) -> str:
    """A Flink SQL identifier in backticks (a backtick inside is doubled)."""
    return "`" + name.replace("`", "``") + "`"


def quote_literal(value: str) -> str:
    """A Flink SQL string literal (a quote inside is doubled)."""
    return "'" + value.replace("'", "''") + "'"


def watermark_clause(watermark: str) -> str:
    """``WATERMARK FOR col AS expr`` for an expression that starts with its time column, e.g.
    ``"arrived - INTERVAL '5' SECOND"`` (or ``"arrived"``: watermark = the latest arrival time)."""
    match = _LEADING_COLUMN.match(watermark or "")
    if match is None:
        raise ConfigError(f"expected an expression starting with the time column, got {watermark!r}", field="watermark")
    return f"WATERMARK FOR {match.group(1)} AS {watermark.strip()}"


def create_table_sql(
    spec: Spec,
    table: str,
    columns: Columns,
    stream_arn: Optional[str] = None,
    format: str = "raw",
    partitioned_by: Sequence[str] = (),
    mask_secrets: bool = False,
    *,
    stream: Optional[str] = None,
    watermark: Optional[str] = None,
    connector: str = CONNECTOR,
) -> str:
    """A ``CREATE TABLE`` statement for a Kinesis table configured by ``spec``.

    Args:
        spec: An ingress spec (a table to read) or an egress spec (a table to write).
        table: The table name (quoted as needed).
        columns: ``[("data", "BYTES"), ...]`` pairs of name and SQL type, or the column list as SQL text
            (metadata columns too: ``arrived TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'``).
        stream_arn: The stream's ARN; the official ``kinesis`` table needs it.
        format: The table format: ``"raw"`` (one BYTES column, byte for byte), ``"json"``, ``"csv"``, ...
        partitioned_by: Columns whose values, joined by ``sink.partitioner-field-delimiter``, become the
            partition key when writing.
        mask_secrets: Replace secret values with ``****``, for printing; never execute a masked statement.
        stream: The stream's name, instead of an ARN (``pyflink-kinesis`` only); an ingress reading one stream
            uses it by default, an egress may leave it out when rows name theirs (``METADATA FROM 'stream'``).
        watermark: A watermark expression starting with its time column (see :func:`watermark_clause`).
        connector: ``"pyflink-kinesis"`` (this package's jar) or ``"kinesis"`` (the official connector).
    """
    options = spec.sql_options(stream_arn, format, stream=stream, connector=connector)
    if mask_secrets:
        options = masked(options)
    if isinstance(columns, str):
        column_sql = columns.strip()
    else:
        column_sql = ",\n  ".join(f"{quote_identifier(name)} {sql_type}" for name, sql_type in columns)
    if watermark:
        column_sql += ",\n  " + watermark_clause(watermark)
    with_sql = ",\n  ".join(f"{quote_literal(k)} = {quote_literal(v)}" for k, v in options.items())
    partitions = ""
    if partitioned_by:
        partitions = f"\nPARTITIONED BY ({', '.join(quote_identifier(c) for c in partitioned_by)})"
    return f"CREATE TABLE {quote_identifier(table)} (\n  {column_sql}\n){partitions}\nWITH (\n  {with_sql}\n)"
