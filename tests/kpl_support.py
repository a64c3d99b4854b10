"""Reading KPL aggregates back as the KCL does, and packing them as the KPL does, for the tests of both writers'
aggregation; aws-kinesis-agg's own de-aggregator is the test kit's :func:`users_by_agg_library`."""

from __future__ import annotations

from typing import Any, Dict, List

from pyflink_kinesis.spec.shard_limits import hash_key_of
from pyflink_kinesis.testing.streams import AggUser, users_by_agg_library


def held_users(client: Any, stream: str, records: List[Dict[str, Any]]) -> List[AggUser]:
    """Of :func:`users_by_agg_library`, the user records in a shard whose hash key range (open or closed shards,
    from ListShards) holds their key: what a reader that checks the range, as the KCL does, gives back."""
    ranges = {s["ShardId"]: (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
              for s in client.list_shards(StreamName=stream)["Shards"]}
    return [u for u in users_by_agg_library(records)
            if ranges[u.shard_id][0] <= hash_key_of(u.partition_key) <= ranges[u.shard_id][1]]


def keys_of_one_shard(prefix: str, n: int, shards: int) -> List[str]:
    """``n`` partition keys ``<prefix><i>`` that hash to the shard of the first of ``shards`` evenly split shards
    (CreateStream's split): the user records of one aggregate as a shard-aware producer (the KPL) packs them. A
    reader drops an aggregate's user records outside its shard's range, as the KCL does."""
    def shard(key: str) -> int:
        return hash_key_of(key) * shards >> 128

    keys = (f"{prefix}{i}" for i in range(64 * n))
    first = next(keys)
    return [first, *[key for key in keys if shard(key) == shard(first)][:n - 1]]
