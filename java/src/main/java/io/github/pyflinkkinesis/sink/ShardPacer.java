package io.github.pyflinkkinesis.sink;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * {@code sink.rate-limit}: holds each shard to a percent of its 1,000 records/s and 1 MiB/s from this writer, in
 * sliding one-second windows, as the Beam writer's pacer (and the KPL's {@code RateLimit}) does: a PutRecords
 * call may go once every shard it writes to has room for its records. A call reaches the service up to its
 * latency after it was counted here, so each window also spans the slowest of the recent calls. Aggregates count
 * as one record each, as the service counts them. Thread safe.
 */
final class ShardPacer {
    /** The calls whose latency widens the windows. */
    static final int RECENT_CALLS = 20;
    static final long PERIOD_MS = 1000;

    private final double records;
    private final double bytes;
    private final LongSupplier clock;
    private final ShardMaps maps;
    private final Map<String, SlidingWindow> windows = new HashMap<>();
    private final Deque<Long> latencies = new ArrayDeque<>();

    /**
     * Paces at {@code percent} of each shard's write limits, on {@code clock} (milliseconds, monotonic), the shard of
     * each record from {@code maps}.
     */
    ShardPacer(int percent, LongSupplier clock, ShardMaps maps) {
        this.records = ShardLimits.SHARD_WRITE_RECORDS * percent / 100.0;
        this.bytes = ShardLimits.SHARD_WRITE_BYTES * percent / 100.0;
        this.clock = clock;
        this.maps = maps;
    }

    /** {@code units} of {@code stream}, each predicted for its shard, once every shard they go to has room. */
    CompletableFuture<List<Aggregator.Unit>> pace(String stream, List<Aggregator.Unit> units) {
        return maps.get(stream).thenCompose(shards -> {
            List<Aggregator.Unit> predicted = new ArrayList<>(units.size());
            for (Aggregator.Unit unit : units) {
                predicted.add(unit.predictedShardId != null ? unit : unit.predictedFor(predict(stream, shards, unit)));
            }
            CompletableFuture<List<Aggregator.Unit>> ready = new CompletableFuture<>();
            awaitRoom(stream, predicted, ready);
            return ready;
        });
    }

    /** The shard {@code unit} (a plain record) goes to; {@code null}, and the map listed again, if it is out of date. */
    private String predict(String stream, ShardMap shards, Aggregator.Unit unit) {
        try {
            return shards.shardOf(ShardMap.hashKey(unit.users.get(0))).shardId;
        } catch (KinesisSinkException e) {
            maps.forget(stream);
            return null;
        }
    }

    private void awaitRoom(String stream, List<Aggregator.Unit> units, CompletableFuture<List<Aggregator.Unit>> ready) {
        long wait = tryAcquire(stream, units);
        if (wait == 0) {
            ready.complete(units);
        } else {
            CompletableFuture.delayedExecutor(wait, TimeUnit.MILLISECONDS, Runnable::run)
                    .execute(() -> awaitRoom(stream, units, ready));
        }
    }

    /**
     * Counts {@code units} (each predicted for its shard) against their shards if every one has room now, and
     * answers 0; else counts nothing and answers the milliseconds to wait before asking again.
     */
    synchronized long tryAcquire(String stream, List<Aggregator.Unit> units) {
        Map<String, long[]> perShard = new LinkedHashMap<>(); // shard -> {records, bytes}
        for (Aggregator.Unit unit : units) {
            long[] use = perShard.computeIfAbsent(unit.predictedShardId, s -> new long[2]);
            use[0]++;
            use[1] += unit.sizeInBytes();
        }
        long now = clock.getAsLong();
        long period = PERIOD_MS + latencies.stream().mapToLong(Long::longValue).max().orElse(0);
        long wait = 0;
        for (Map.Entry<String, long[]> shard : perShard.entrySet()) {
            long[] use = shard.getValue();
            wait = Math.max(wait, window(stream, shard.getKey()).wait(now, period, use[0], use[1]));
        }
        if (wait > 0) {
            return wait;
        }
        perShard.forEach((shard, use) -> window(stream, shard).add(now, use[0], use[1]));
        return 0;
    }

    /** How long a PutRecords call took, its answer included. */
    synchronized void observe(long latencyMs) {
        latencies.addLast(latencyMs);
        if (latencies.size() > RECENT_CALLS) {
            latencies.removeFirst();
        }
    }

    private SlidingWindow window(String stream, String shard) {
        return windows.computeIfAbsent(stream + "|" + shard, k -> new SlidingWindow(records, bytes));
    }
}
