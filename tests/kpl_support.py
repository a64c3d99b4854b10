"""Reading KPL aggregates back with aws-kinesis-agg's own de-aggregator (not this project's code), for the
tests of both writers' aggregation."""

from __future__ import annotations

import base64
from typing import Any, Dict, List, Tuple


def users_by_agg_library(records: List[Dict[str, Any]]) -> List[Tuple[str, bytes, str, str]]:
    """(partition key, data, shard, sequence number) of each user record, de-aggregated by aws-kinesis-agg."""
    from aws_kinesis_agg import deaggregator

    out = []
    for r in records:
        for user in deaggregator.iter_deaggregate_records(
                [{k: r[k] for k in ("SequenceNumber", "PartitionKey", "ApproximateArrivalTimestamp", "Data")}],
                data_format="Boto3"):
            k = user["kinesis"]
            data = base64.b64decode(k["data"]) if k.get("aggregated") else r["Data"]  # a plain record comes as it is
            out.append((k["partitionKey"], data, r["ShardId"], k["sequenceNumber"]))
    return out
