package io.github.pyflinkkinesis.source.enumerator;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.util.FlinkRuntimeException;

import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import io.github.pyflinkkinesis.aws.retry.RetryRule;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.HashKeyRange;
import software.amazon.awssdk.services.kinesis.model.ListShardsRequest;
import software.amazon.awssdk.services.kinesis.model.ListShardsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * Lists a stream's shards with ListShards, page by page; throttling and transient errors (an expired
 * NextToken too: the listing starts again) are retried by the connector's {@link RetryRule}. A stream that
 * does not exist (ListShards answers ResourceNotFoundException) is a {@link StreamNotFoundException}.
 */
public final class ShardLister {
    /** ListShards answered ResourceNotFoundException: the stream does not exist (it was deleted). */
    public static final class StreamNotFoundException extends FlinkRuntimeException {
        private static final long serialVersionUID = 1L;

        StreamNotFoundException(String stream, SdkException cause) {
            super("Kinesis stream '" + KinesisShardSplit.streamName(stream) + "' does not exist: ListShards answered "
                    + KinesisErrors.describe(cause), cause);
        }
    }

    private final KinesisClient client;
    private final RetryRule rule;

    public ShardLister(KinesisClient client, RetryRule rule) {
        this.client = client;
        this.rule = rule;
    }

    /**
     * The shards of {@code stream} (name or ARN) whose ids follow {@code exclusiveStartShardId}, or all
     * of them when it is null.
     *
     * @throws StreamNotFoundException when the stream does not exist
     * @throws FlinkRuntimeException naming the stream, at the first fatal error or once the total retry time is over
     */
    public List<Shard> list(String stream, String exclusiveStartShardId) throws InterruptedException {
        String call = "ListShards for stream '" + KinesisShardSplit.streamName(stream) + "'";
        try {
            return rule.call(call, () -> listOnce(stream, exclusiveStartShardId));
        } catch (SdkException e) {
            if (KinesisErrors.isNotFound(e)) {
                throw new StreamNotFoundException(stream, e);
            }
            throw new FlinkRuntimeException("Kinesis " + call + " failed: " + KinesisErrors.describe(e), e);
        }
    }

    private List<Shard> listOnce(String stream, String exclusiveStartShardId) {
        List<Shard> shards = new ArrayList<>();
        ListShardsRequest.Builder first = ListShardsRequest.builder();
        if (stream.startsWith("arn:")) {
            first.streamARN(stream);
        } else {
            first.streamName(stream);
        }
        if (exclusiveStartShardId != null) {
            first.exclusiveStartShardId(exclusiveStartShardId);
        }
        ListShardsResponse page = client.listShards(first.build());
        shards.addAll(page.shards());
        while (page.nextToken() != null) {
            // With a NextToken the request names neither the stream nor the start: the token does.
            page = client.listShards(ListShardsRequest.builder().nextToken(page.nextToken()).build());
            shards.addAll(page.shards());
        }
        return shards;
    }

    /** The first hash key of a listed shard's {@code range}, or {@code null} when the listing gave none. */
    public static BigInteger startingHashKey(HashKeyRange range) {
        return range == null || range.startingHashKey() == null ? null : new BigInteger(range.startingHashKey());
    }

    /** The last hash key of a listed shard's {@code range}, or {@code null} when the listing gave none. */
    public static BigInteger endingHashKey(HashKeyRange range) {
        return range == null || range.endingHashKey() == null ? null : new BigInteger(range.endingHashKey());
    }

    /** The shard's parents: the parent and, after a merge, the adjacent parent. */
    static List<String> parentsOf(Shard shard) {
        List<String> parents = new ArrayList<>(2);
        if (shard.parentShardId() != null) {
            parents.add(shard.parentShardId());
        }
        if (shard.adjacentParentShardId() != null) {
            parents.add(shard.adjacentParentShardId());
        }
        return parents;
    }
}
