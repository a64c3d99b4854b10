"""Flink SQL and Table API: ``kinesis`` tables from the same specs.

``create_table_sql`` writes a CREATE TABLE statement and ``table_descriptor`` a PyFlink
TableDescriptor, both with the options of :meth:`KinesisIngressSpec.sql_options` /
:meth:`KinesisEgressSpec.sql_options`. Running queries on such a table needs the connector jar
(``flink-sql-connector-aws-kinesis-streams``) on the classpath.
"""

from __future__ import annotations

from typing import Any, Sequence, Union

from ..spec.properties import masked
from ..spec.builders import KinesisEgressSpec, KinesisIngressSpec

Columns = Union[str, Sequence[tuple[str, str]]]
Spec = Union[KinesisIngressSpec, KinesisEgressSpec]


def quote_identifier(name: str) -> str:
    """A Flink SQL identifier in backticks (a backtick inside is doubled)."""
    return "`" + name.replace("`", "``") + "`"


def quote_literal(value: str) -> str:
    """A Flink SQL string literal (a quote inside is doubled)."""
    return "'" + value.replace("'", "''") + "'"


def create_table_sql(
    spec: Spec,
    table: str,
    columns: Columns,
    stream_arn: str,
    format: str = "raw",
    partitioned_by: Sequence[str] = (),
    mask_secrets: bool = False,
) -> str:
    """A ``CREATE TABLE`` statement for a ``kinesis`` table configured by ``spec``.

    Args:
        spec: An ingress spec (a table to read) or an egress spec (a table to write).
        table: The table name (quoted as needed).
        columns: ``[("data", "BYTES"), ...]`` pairs of name and SQL type, or the column list as SQL text.
        stream_arn: The stream's ARN (from DescribeStreamSummary).
        format: The table format: ``"raw"`` (one BYTES column, byte for byte), ``"json"``, ``"csv"``, ...
        partitioned_by: Columns whose values become the partition key when writing.
        mask_secrets: Replace secret values with ``****``, for printing; never execute a masked statement.
    """
    options = spec.sql_options(stream_arn, format)
    if mask_secrets:
        options = masked(options)
    if isinstance(columns, str):
        column_sql = columns.strip()
    else:
        column_sql = ",\n  ".join(f"{quote_identifier(name)} {sql_type}" for name, sql_type in columns)
    with_sql = ",\n  ".join(f"{quote_literal(k)} = {quote_literal(v)}" for k, v in options.items())
    partitions = ""
    if partitioned_by:
        partitions = f"\nPARTITIONED BY ({', '.join(quote_identifier(c) for c in partitioned_by)})"
    return f"CREATE TABLE {quote_identifier(table)} (\n  {column_sql}\n){partitions}\nWITH (\n  {with_sql}\n)"


def table_descriptor(
    spec: Spec, schema: Any, stream_arn: str, format: str = "raw", partitioned_by: Sequence[str] = ()
) -> Any:
    """A PyFlink ``TableDescriptor`` for a ``kinesis`` table configured by ``spec``.

    Args:
        spec: An ingress or egress spec.
        schema: A ``pyflink.table.Schema``.
        stream_arn: The stream's ARN.
        format: The table format.
        partitioned_by: Columns whose values become the partition key when writing.
    """
    from pyflink.table import TableDescriptor

    builder = TableDescriptor.for_connector("kinesis").schema(schema)
    for key, value in spec.sql_options(stream_arn, format).items():
        if key != "connector":
            builder = builder.option(key, value)
    if partitioned_by:
        builder = builder.partitioned_by(*partitioned_by)
    return builder.build()


__all__ = ["create_table_sql", "quote_identifier", "quote_literal", "table_descriptor"]
