package io.github.pyflinkkinesis.sink;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;

/**
 * Each stream's {@link ShardMap}, listed once and shared by aggregation and pacing: listed again after a failed
 * listing, or when a record landed on another shard than its map predicted (a resharding: {@link #forget}).
 */
final class ShardMaps {
    private final KinesisAsyncClient client;
    private final Map<String, CompletableFuture<ShardMap>> maps = new ConcurrentHashMap<>();

    ShardMaps(KinesisAsyncClient client) {
        this.client = client;
    }

    /** The shard map of {@code stream}: listed by ListShards if not known; a failed listing is not kept. */
    CompletableFuture<ShardMap> get(String stream) {
        CompletableFuture<ShardMap> map = maps.computeIfAbsent(stream, s -> ShardMap.list(client, s));
        return map.handle((shards, error) -> {
            if (error != null) {
                maps.remove(stream, map); // listed again on the retry; the error is classified as a call's
                throw error instanceof CompletionException ? (CompletionException) error
                        : new CompletionException(error);
            }
            return shards;
        });
    }

    /** The map of {@code stream} is out of date: listed again when next asked for. */
    void forget(String stream) {
        maps.remove(stream);
    }
}
