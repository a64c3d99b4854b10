"""The connector, stream and format options that head a Kinesis SQL table's WITH clause."""

from __future__ import annotations

from typing import Optional

from .errors import ConfigError
from .records import STREAM_NAME

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
