"""Flink SQL and the Table API on Kinesis, from the same specs.

``create_table`` registers a ``'pyflink-kinesis'`` table (the connector jar this package ships) in a
TableEnvironment; ``create_table_sql`` writes its ``CREATE TABLE`` statement and ``table_descriptor`` a
PyFlink TableDescriptor. With ``connector="kinesis"`` they write the official connector's statements instead
(``flink-sql-connector-aws-kinesis-streams``, a jar this package does not ship).
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ..spec.errors import ConfigError
from ..spec.builders import KinesisEgressSpec
from ..spec.ddl import (
    CONNECTOR,
    Columns,
    Spec,
    create_table_sql,
    keyword_aliases,
    partition_columns,
    quote_identifier,
    quote_literal,
    watermark_clause,
)


@keyword_aliases("partitioned_by")
def table_descriptor(
    spec: Spec,
    schema: Any,
    format: str = "raw",
    *,
    stream: Optional[str] = None,
    stream_arn: Optional[str] = None,
    partition_by: Optional[Iterable[str]] = None,
    connector: str = CONNECTOR,
) -> Any:
    """A PyFlink ``TableDescriptor`` for a Kinesis table configured by ``spec``.

    The arguments are those of :func:`create_table_sql` (``partitioned_by=`` is accepted for ``partition_by``),
    with a ``pyflink.table.Schema`` as ``schema`` (its watermark included) and no table name.
    """
    from pyflink.table import TableDescriptor

    builder = TableDescriptor.for_connector(connector).schema(schema)
    for key, value in spec.sql_options(stream_arn, format, stream=stream, connector=connector).items():
        if key != "connector":
            builder = builder.option(key, value)
    partitions = partition_columns(partition_by)
    if partitions:
        builder = builder.partitioned_by(*partitions)
    return builder.build()


@keyword_aliases("partitioned_by")
def create_table(
    t_env: Any,
    name: str,
    spec: Spec,
    schema: Columns,
    *,
    format: str,
    stream: Optional[str] = None,
    stream_arn: Optional[str] = None,
    watermark: Optional[str] = None,
    partition_by: Optional[Iterable[str]] = None,
) -> Any:
    """Register a ``'pyflink-kinesis'`` table in ``t_env`` and return it (a ``pyflink.table.Table``).

    Adds the packaged connector jar to the table environment (``ADD JAR``: no ``pipeline.jars`` to set), runs
    the DDL, and checks the options now through the connector's factory, so a bad option is a
    :class:`ConfigError` here naming it rather than a stack trace at the first query.

    Args:
        t_env: A PyFlink ``TableEnvironment`` or ``StreamTableEnvironment``.
        name, spec, schema, format, stream, stream_arn, watermark, partition_by: As in :func:`create_table_sql`
            (``format`` is required here; ``partitioned_by=`` is accepted for ``partition_by``).
    """
    add_table_jar(t_env)
    ddl = create_table_sql(spec, name, schema, format, stream=stream, stream_arn=stream_arn, watermark=watermark,
                           partition_by=partition_by)
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
