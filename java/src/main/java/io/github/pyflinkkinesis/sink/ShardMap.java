package io.github.pyflinkkinesis.sink;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.ListShardsRequest;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * A stream's open shards by hash key range, from ListShards: which shard a record is bound for (the shard
 * whose range holds its explicit hash key, or the MD5 of its partition key, as Kinesis routes it); and the hash
 * key range of each shard listed, closed ones too.
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
    private final Map<String, Range> byId = new HashMap<>();

    ShardMap(String stream, List<Range> open, List<Range> closed) {
        this.stream = stream;
        for (Range range : open) {
            byStart.put(range.start, range);
            byId.put(range.shardId, range);
        }
        for (Range range : closed) {
            byId.put(range.shardId, range);
        }
    }

    /** The listed shard {@code shardId}, open or closed, or {@code null} if the listing did not hold it. */
    Range shard(String shardId) {
        return byId.get(shardId);
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

    /** The stream's shards, listed by ListShards (all pages) through {@code client}. */
    static CompletableFuture<ShardMap> list(KinesisAsyncClient client, String stream) {
        List<Range> open = new ArrayList<>();
        List<Range> closed = new ArrayList<>();
        return page(client, stream, null, open, closed).thenApply(done -> new ShardMap(stream, open, closed));
    }

    private static CompletableFuture<Void> page(KinesisAsyncClient client, String stream, String token,
            List<Range> open, List<Range> closed) {
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
                Range range = new Range(shard.shardId(), new BigInteger(shard.hashKeyRange().startingHashKey()),
                        new BigInteger(shard.hashKeyRange().endingHashKey()));
                boolean isOpen = shard.sequenceNumberRange() == null
                        || shard.sequenceNumberRange().endingSequenceNumber() == null;
                (isOpen ? open : closed).add(range);
            }
            String next = response.nextToken();
            return next == null ? CompletableFuture.completedFuture(null) : page(client, stream, next, open, closed);
        });
    }
}
