"""SQL DDL for Kinesis tables: the options that head a WITH clause (connector, stream, format) and whole
``CREATE TABLE`` statements. Text only: nothing here needs PyFlink."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Sequence, TypeVar, Union, cast

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
    if format.startswith("arn:"):  # the order of sql_options (stream_arn first) used where format comes first
        raise ConfigError(f"expected a table format such as 'raw' or 'json', got the stream ARN {format!r}: "
                          "pass an ARN as stream_arn=...", field="format")
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


_F = TypeVar("_F", bound=Callable[..., Any])
#: The names the table functions once gave some of their arguments, each accepted for the canonical one.
ALIASES = {"partitioned_by": "partition_by", "table": "name", "columns": "schema"}


def keyword_aliases(*names: str) -> Callable[[_F], _F]:
    """Accept the keyword ``names`` (keys of :data:`ALIASES`) for their canonical arguments; a TypeError when a
    call gives both."""

    def decorate(function: _F) -> _F:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            for alias in names:
                if alias in kwargs:
                    canonical = ALIASES[alias]
                    if canonical in kwargs:
                        raise TypeError(f"{function.__qualname__}() got both {canonical}= and {alias}=, which are "
                                        f"the same argument: pass {canonical}= only")
                    kwargs[canonical] = kwargs.pop(alias)
            return function(*args, **kwargs)

        return cast(_F, call)

    return decorate


@keyword_aliases("table", "columns", "partitioned_by")
def create_table_sql(
    spec: Spec,
    name: str,
    schema: Columns,
    format: str = "raw",
    *,
    stream: Optional[str] = None,
    stream_arn: Optional[str] = None,
    watermark: Optional[str] = None,
    partition_by: Optional[Iterable[str]] = None,
    connector: str = CONNECTOR,
    mask_secrets: bool = False,
) -> str:
    """A ``CREATE TABLE`` statement for a Kinesis table configured by ``spec``.

    The spec's :meth:`create_table_sql`, :func:`pyflink_kinesis.table.table_descriptor` and
    :func:`pyflink_kinesis.table.create_table` take the same arguments in this order (all after ``format`` by
    keyword). Older names are accepted too: ``table=`` for ``name``, ``columns=`` for ``schema``,
    ``partitioned_by=`` for ``partition_by``.

    Args:
        spec: An ingress spec (a table to read) or an egress spec (a table to write).
        name: The table's name (quoted as needed).
        schema: ``[("data", "BYTES"), ...]`` pairs of name and SQL type, or the column list as SQL text
            (metadata columns too: ``arrived TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'``).
        format: The table format: ``"raw"`` (one BYTES column, byte for byte), ``"json"``, ``"csv"``, ...
        stream: The stream's name (``pyflink-kinesis`` only); an ingress reading one stream uses it by default,
            an egress may leave it out when rows name theirs (``METADATA FROM 'stream'``).
        stream_arn: The stream's ARN, instead of its name; the official ``kinesis`` table needs it.
        watermark: A watermark expression starting with its time column (see :func:`watermark_clause`).
        partition_by: Columns whose values, joined by ``sink.partitioner-field-delimiter``, become the
            partition key when writing.
        connector: ``"pyflink-kinesis"`` (this package's jar) or ``"kinesis"`` (the official connector).
        mask_secrets: Replace secret values with ``****``, for printing; never execute a masked statement.
    """
    options = spec.sql_options(stream_arn, format, stream=stream, connector=connector)
    if mask_secrets:
        options = masked(options)
    if isinstance(schema, str):
        column_sql = schema.strip()
    else:
        column_sql = ",\n  ".join(f"{quote_identifier(column)} {sql_type}" for column, sql_type in schema)
    if watermark:
        column_sql += ",\n  " + watermark_clause(watermark)
    with_sql = ",\n  ".join(f"{quote_literal(k)} = {quote_literal(v)}" for k, v in options.items())
    partitions = partition_columns(partition_by)
    partitioned = f"\nPARTITIONED BY ({', '.join(map(quote_identifier, partitions))})" if partitions else ""
    return f"CREATE TABLE {quote_identifier(name)} (\n  {column_sql}\n){partitioned}\nWITH (\n  {with_sql}\n)"


def partition_columns(partition_by: Optional[Iterable[str]]) -> tuple[str, ...]:
    """``partition_by`` as a tuple of column names (a single string is a mistake: a ConfigError)."""
    if isinstance(partition_by, str):
        raise ConfigError(f"expected a list of column names, got the string {partition_by!r}", field="partition_by")
    return tuple(partition_by or ())
