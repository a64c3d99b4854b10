"""Flink SQL and the Table API on Kinesis, from the same specs.

``create_table`` registers a ``'pyflink-kinesis'`` table (the connector jar this package ships) in a
TableEnvironment; ``create_table_sql`` writes its ``CREATE TABLE`` statement and ``table_descriptor`` a
PyFlink TableDescriptor. With ``connector="kinesis"`` they write the official connector's statements instead
(``flink-sql-connector-aws-kinesis-streams``, a jar this package does not ship).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from ..spec.errors import ConfigError
from ..spec.builders import KinesisEgressSpec
from ..spec.ddl import (
    CONNECTOR,
    Columns,
    Spec,
    create_table_sql,
    quote_identifier,
    quote_literal,
    watermark_clause,
)

def table_descriptor(
    spec: Spec,
    schema: Any,
    stream_arn: Optional[str] = None,
    format: str = "raw",
    partitioned_by: Sequence[str] = (),
    *,
    stream: Optional[str] = None,
    connector: str = CONNECTOR,
) -> Any:
    """A PyFlink ``TableDescriptor`` for a Kinesis table configured by ``spec``.

    Args:
        spec: An ingress or egress spec.
        schema: A ``pyflink.table.Schema``.
        stream_arn: The stream's ARN (or ``stream``: its name).
        format: The table format.
        partitioned_by: Columns whose values become the partition key when writing.
        stream: The stream's name (``pyflink-kinesis`` only).
        connector: ``"pyflink-kinesis"`` or ``"kinesis"``.
    """
    from pyflink.table import TableDescriptor

    builder = TableDescriptor.for_connector(connector).schema(schema)
    for key, value in spec.sql_options(stream_arn, format, stream=stream, connector=connector).items():
        if key != "connector":
            builder = builder.option(key, value)
    if partitioned_by:
        builder = builder.partitioned_by(*partitioned_by)
    return builder.build()


def create_table(
    t_env: Any,
    name: str,
    spec: Spec,
    schema: Columns,
    *,
    format: str,
    watermark: Optional[str] = None,
    stream: Optional[str] = None,
    stream_arn: Optional[str] = None,
    partition_by: Optional[Sequence[str]] = None,
) -> Any:
    """Register a ``'pyflink-kinesis'`` table in ``t_env`` and return it (a ``pyflink.table.Table``).

    Adds the packaged connector jar to the table environment (``ADD JAR``: no ``pipeline.jars`` to set), runs
    the DDL, and checks the options now through the connector's factory, so a bad option is a
    :class:`ConfigError` here naming it rather than a stack trace at the first query.

    Args:
        t_env: A PyFlink ``TableEnvironment`` or ``StreamTableEnvironment``.
        name: The table's name.
        spec: An ingress spec (a table to read) or an egress spec (a table to write).
        schema: The columns, as SQL text or ``(name, type)`` pairs (metadata columns included).
        format: ``"json"``, ``"csv"``, ``"raw"`` or any Flink format on the classpath.
        watermark: A watermark expression starting with its time column, e.g.
            ``"arrived - INTERVAL '5' SECOND"``.
        stream: The stream's name (default: an ingress's only stream).
        stream_arn: The stream's ARN, instead of a name.
        partition_by: Columns whose values become the partition key of written rows.
    """
    add_table_jar(t_env)
    ddl = create_table_sql(spec, name, schema, stream_arn, format, tuple(partition_by or ()),
                           stream=stream, watermark=watermark)
    t_env.execute_sql(ddl)
    check_table(t_env, name, sink=isinstance(spec, KinesisEgressSpec))
    return t_env.from_path(quote_identifier(name))


def add_table_jar(t_env: Any) -> None:
    """Put the packaged connector jar into ``t_env`` (for planning and for the jobs it submits), once.

    A StreamTableEnvironment's own StreamExecutionEnvironment gets it in ``pipeline.jars`` too: INSERTs attached
    to it (``StatementSet.attach_as_datastream``) run as its jobs.
    """
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.util.java_utils import add_jars_to_context_class_loader

    from .jar import add_connector_jar, connector_jar

    jar = connector_jar()
    if hasattr(t_env, "_j_tenv") and t_env._j_tenv.getClass().getName().endswith("StreamTableEnvironmentImpl"):
        add_connector_jar(StreamExecutionEnvironment(t_env._j_tenv.execEnv()))
    with t_env.execute_sql("SHOW JARS").collect() as rows:
        if any(row[0] == str(jar) for row in rows):
            return
    t_env.execute_sql(f"ADD JAR {quote_literal(str(jar))}")
    add_jars_to_context_class_loader([jar.as_uri()])


def check_table(t_env: Any, name: str, sink: bool) -> None:
    """Create the table's source (or sink) through Flink's factory discovery, as a query would, and turn a
    validation error into a one-line :class:`ConfigError`."""
    from py4j.protocol import Py4JJavaError
    from pyflink.java_gateway import get_gateway

    jvm = get_gateway().jvm
    j_env = t_env._j_tenv
    catalogs = j_env.getCatalogManager()
    identifier = catalogs.qualifyIdentifier(j_env.getParser().parseIdentifier(quote_identifier(name)))
    table = catalogs.getTableOrError(identifier).getResolvedTable()
    factories = jvm.org.apache.flink.table.factories.FactoryUtil
    create = factories.createDynamicTableSink if sink else factories.createDynamicTableSource
    try:
        create(None, identifier, table, jvm.java.util.HashMap(), j_env.getConfig(),
               jvm.java.lang.Thread.currentThread().getContextClassLoader(), False)
    except Py4JJavaError as e:
        cause = e.java_exception
        while cause.getCause() is not None:
            cause = cause.getCause()
        raise ConfigError(str(cause.getMessage()).strip().splitlines()[0], field=f"table {name}") from None


__all__ = ["add_table_jar", "check_table", "create_table", "create_table_sql", "quote_identifier", "quote_literal", "table_descriptor", "watermark_clause"]
