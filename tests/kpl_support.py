"""Reading KPL aggregates back with aws-kinesis-agg's own de-aggregator (not this project's code), for the
tests of both writers' aggregation."""

from __future__ import annotations

import base64
from typing import Any, Dict, List, Tuple

from pyflink_kinesis.spec.shard_limits import hash_key_of


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


def held_users(client: Any, stream: str, records: List[Dict[str, Any]]) -> List[Tuple[str, bytes, str, str]]:
    """Of :func:`users_by_agg_library`, the user records in a shard whose hash key range (open or closed shards,
    from ListShards) holds their key: what a reader that checks the range, as the KCL does, gives back."""
    ranges = {s["ShardId"]: (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
              for s in client.list_shards(StreamName=stream)["Shards"]}
    return [u for u in users_by_agg_library(records) if ranges[u[2]][0] <= hash_key_of(u[0]) <= ranges[u[2]][1]]


def keys_of_one_shard(prefix: str, n: int, shards: int) -> List[str]:
    """``n`` partition keys ``<prefix><i>`` that hash to the shard of the first of ``shards`` evenly split shards
    (CreateStream's split): the user records of one aggregate as a shard-aware producer (the KPL) packs them. A
    reader drops an aggregate's user records outside its shard's range, as the KCL does."""
    def shard(key: str) -> int:
        return hash_key_of(key) * shards >> 128

    keys = (f"{prefix}{i}" for i in range(64 * n))
    first = next(keys)
    return [first, *[key for key in keys if shard(key) == shard(first)][:n - 1]]
