"""Listing shards in the Beam transforms: an expired ListShards NextToken starts the listing again.

kinesis-local never lets a NextToken expire, so the expired token is a FAULT INJECTED with botocore's Stubber
(exact requests, no network).
"""

from __future__ import annotations

import boto3
import pytest

from beam_transforms.retry import RetryPolicy
from beam_transforms.shards import list_shards

pytestmark = pytest.mark.beam


def shard(shard_id: str) -> dict:
    return {"ShardId": shard_id, "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "1"},
            "SequenceNumberRange": {"StartingSequenceNumber": "1"}}


def test_an_expired_next_token_starts_the_listing_again() -> None:
    from botocore.stub import Stubber

    client = boto3.client("kinesis", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    first = {"Shards": [shard("shardId-000000000000")], "NextToken": "t1"}
    with Stubber(client) as stub:
        stub.add_response("list_shards", first, {"StreamName": "s"})
        stub.add_client_error("list_shards", "ExpiredNextTokenException", "expired", 400,
                              expected_params={"NextToken": "t1"})
        stub.add_response("list_shards", first, {"StreamName": "s"})
        stub.add_response("list_shards", {"Shards": [shard("shardId-000000000001")]}, {"NextToken": "t1"})
        found = list_shards(client, "s", RetryPolicy(initial_backoff=0.001, max_backoff=0.001))
        stub.assert_no_pending_responses()
    assert [s.shard_id for s in found] == ["shardId-000000000000", "shardId-000000000001"]
