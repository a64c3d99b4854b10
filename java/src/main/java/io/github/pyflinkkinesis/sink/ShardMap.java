package io.github.pyflinkkinesis.sink;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.ListShardsRequest;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * A stream's open shards by hash key range, from ListShards: which shard a record is bound for (the shard
 * whose range holds its explicit hash key, or the MD5 of its partition key, as Kinesis routes it).
 */
final class ShardMap {
    /** An open shard: its id and hash key range (inclusive). */
    static final class Range {
        final String shardId;
        final BigInteger start;
        final BigInteger end;

        Range(String shardId, BigInteger start, BigInteger end) {
            this.shardId = shardId;
            this.start = start;
            this.end = end;
        }

        boolean holds(BigInteger hash) {
            return start.compareTo(hash) <= 0 && hash.compareTo(end) <= 0;
        }
    }

    private final String stream;
    private final TreeMap<BigInteger, Range> byStart = new TreeMap<>();

    ShardMap(String stream, List<Range> open) {
        this.stream = stream;
        for (Range range : open) {
            byStart.put(range.start, range);
        }
    }

    /** The 128-bit hash key Kinesis routes {@code entry} by. */
    static BigInteger hashKey(KinesisSinkEntry entry) {
        if (entry.explicitHashKey() != null) {
            return new BigInteger(entry.explicitHashKey());
        }
        return new BigInteger(1, KplAggregate.md5(entry.partitionKey().getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * The open shard whose range holds {@code hash}.
     *
     * @throws KinesisSinkException if no open shard does (the map is then out of date)
     */
    Range shardOf(BigInteger hash) {
        Map.Entry<BigInteger, Range> floor = byStart.floorEntry(hash);
        if (floor == null || !floor.getValue().holds(hash)) {
            throw new KinesisSinkException("Kinesis sink: no open shard of stream '" + stream
                    + "' holds hash key " + hash + " (ListShards listed " + byStart.size() + " open shards)", null);
        }
        return floor.getValue();
    }

    /** The stream's open shards, listed by ListShards (all pages) through {@code client}. */
    static CompletableFuture<ShardMap> list(KinesisAsyncClient client, String stream) {
        return page(client, stream, null, new ArrayList<>()).thenApply(open -> new ShardMap(stream, open));
    }

    private static CompletableFuture<List<Range>> page(KinesisAsyncClient client, String stream, String token,
            List<Range> open) {
        ListShardsRequest.Builder request = ListShardsRequest.builder();
        if (token != null) {
            request.nextToken(token);
        } else if (stream.startsWith("arn:")) {
            request.streamARN(stream);
        } else {
            request.streamName(stream);
        }
        return client.listShards(request.build()).thenCompose(response -> {
            for (Shard shard : response.shards()) {
                if (shard.sequenceNumberRange() == null || shard.sequenceNumberRange().endingSequenceNumber() == null) {
                    open.add(new Range(shard.shardId(), new BigInteger(shard.hashKeyRange().startingHashKey()),
                            new BigInteger(shard.hashKeyRange().endingHashKey())));
                }
            }
            String next = response.nextToken();
            return next == null ? CompletableFuture.completedFuture(open) : page(client, stream, next, open);
        });
    }
}
