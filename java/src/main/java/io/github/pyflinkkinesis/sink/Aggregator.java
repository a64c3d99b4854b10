package io.github.pyflinkkinesis.sink;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;

/**
 * Shard-aware aggregation ({@code sink.aggregation.enabled}), as the KPL does it: of one PutRecords batch, the
 * user records bound for one shard (by the stream's {@link ShardMap}) are packed into KPL aggregates
 * ({@link KplAggregate}) of at most {@code sink.aggregation.max-count} user records and
 * {@code sink.aggregation.max-size} bytes. An aggregate's explicit hash key is its first user record's hash key,
 * so it lands on that shard; each user record keeps its own keys inside. A user record larger than an aggregate
 * may be, and an aggregate of one user record, go as plain records. When an aggregate lands on another shard than
 * predicted (a resharding), the stream's shard map is listed again ({@link ShardMaps}), and its user records whose
 * hash key the shard it landed on does not hold are written again, to the shard they hash to now, as the KPL does
 * ({@link #strays}). Their first copies stay where the aggregate landed: readers that check a shard's hash key
 * range when they de-aggregate (the KCL, this project's readers) drop them, other readers see them twice. If the
 * map cannot be listed then, all the aggregate's user records are written again, as the KPL does for each such
 * aggregate: nothing is lost, and a range-checking reader sees the ones the shard holds twice.
 */
final class Aggregator {
    private static final Logger LOG = LoggerFactory.getLogger(Aggregator.class);

    /** One PutRecords entry and the user records it carries (one, unless aggregated). */
    static final class Unit {
        final PutRecordsRequestEntry entry;
        final List<KinesisSinkEntry> users;
        /** The shard an aggregate was packed for, or a paced record predicted for; else {@code null}. */
        final String predictedShardId;

        Unit(PutRecordsRequestEntry entry, List<KinesisSinkEntry> users, String predictedShardId) {
            this.entry = entry;
            this.users = users;
            this.predictedShardId = predictedShardId;
        }

        static Unit plain(KinesisSinkEntry user) {
            return new Unit(user.toRequestEntry(), Collections.singletonList(user), null);
        }

        /** This unit, predicted for {@code shardId} unless it already was. */
        Unit predictedFor(String shardId) {
            return predictedShardId != null ? this : new Unit(entry, users, shardId);
        }

        /** True for a KPL aggregate (two or more user records); false for a plain record. */
        boolean aggregated() {
            return users.size() > 1;
        }

        /** Bytes it counts against its shard's limit: data plus partition key. */
        long sizeInBytes() {
            return entry.data().asByteArrayUnsafe().length
                    + (long) entry.partitionKey().getBytes(StandardCharsets.UTF_8).length;
        }
    }

    private final ShardMaps maps;
    private final long maxCount;
    private final int maxSize;

    Aggregator(ShardMaps maps, long maxCount, int maxSize) {
        this.maps = maps;
        this.maxCount = maxCount;
        this.maxSize = maxSize;
    }

    /** Each entry as a plain record. */
    static List<Unit> plain(List<KinesisSinkEntry> entries) {
        List<Unit> units = new ArrayList<>(entries.size());
        for (KinesisSinkEntry entry : entries) {
            units.add(Unit.plain(entry));
        }
        return units;
    }

    /**
     * The leading {@code units} one PutRecords call takes: at most 500 records and 5 MiB (a larger record alone).
     * A batch of many small user records fits unless it spreads over hundreds of shards; the user records of the
     * units left out are written in a later call.
     */
    static List<Unit> fit(List<Unit> units) {
        long bytes = 0;
        int kept = 0;
        for (Unit unit : units) {
            bytes += unit.sizeInBytes();
            boolean full = kept == KinesisSinkConfig.MAX_BATCH_RECORDS;
            if (full || (kept > 0 && bytes > KinesisSinkConfig.MAX_BATCH_BYTES)) {
                break;
            }
            kept++;
        }
        return kept == units.size() ? units : new ArrayList<>(units.subList(0, kept));
    }

    /** The user records of {@code entries} that no unit of the call carried ({@link Aggregator#fit}). */
    static List<KinesisSinkEntry> unsent(List<KinesisSinkEntry> entries, List<Aggregator.Unit> units) {
        Set<KinesisSinkEntry> sent = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Aggregator.Unit unit : units) {
            sent.addAll(unit.users);
        }
        List<KinesisSinkEntry> out = new ArrayList<>();
        for (KinesisSinkEntry entry : entries) {
            if (!sent.contains(entry)) {
                out.add(entry);
            }
        }
        return out;
    }

    /** {@code entries}, all of {@code stream}, packed per shard (the shard map listed first if not known). */
    CompletableFuture<List<Unit>> pack(String stream, List<KinesisSinkEntry> entries) {
        return maps.get(stream).thenApply(shards -> fit(pack(shards, entries)));
    }

    /**
     * Of aggregates of {@code stream} that landed elsewhere than packed for (each with the shard it landed on),
     * the user records the shard each landed on does not hold (by the stream's shard map, listed again): to be
     * written again. If the listing fails, or does not hold the shard landed on, all of that aggregate's.
     */
    CompletableFuture<List<KinesisSinkEntry>> strays(String stream, Map<Unit, String> landed) {
        maps.forget(stream);
        return maps.get(stream).handle((shards, error) -> {
            if (error != null) {
                LOG.warn("Kinesis sink: listing the shards of stream {} failed ({}); writing every user record of"
                        + " the {} aggregate(s) that landed on other shards than packed for again",
                        KinesisSinkEntry.quote(stream), KinesisErrors.describe(error), landed.size());
            }
            List<KinesisSinkEntry> again = new ArrayList<>();
            for (Map.Entry<Unit, String> one : landed.entrySet()) {
                ShardMap.Range actual = shards == null ? null : shards.shard(one.getValue());
                for (KinesisSinkEntry user : one.getKey().users) {
                    if (actual == null || !actual.holds(ShardMap.hashKey(user))) {
                        again.add(user);
                    }
                }
            }
            return again;
        });
    }

    private List<Unit> pack(ShardMap shards, List<KinesisSinkEntry> entries) {
        List<Unit> units = new ArrayList<>();
        Map<String, Open> open = new LinkedHashMap<>();
        for (KinesisSinkEntry entry : entries) {
            if (KplAggregate.sizeAlone(entry) > limitFor(entry)) {
                units.add(Unit.plain(entry)); // larger than an aggregate: alone
                continue;
            }
            String shardId = shards.shardOf(ShardMap.hashKey(entry)).shardId;
            Open current = open.get(shardId);
            if (current != null && current.aggregate.sizeWith(entry) > limitFor(current.users.get(0))) {
                units.add(open.remove(shardId).seal());
                current = null;
            }
            if (current == null) {
                current = new Open(shardId);
                open.put(shardId, current);
            }
            current.add(entry);
            if (current.aggregate.count() >= maxCount) {
                units.add(open.remove(shardId).seal());
            }
        }
        for (Open current : open.values()) {
            units.add(current.seal());
        }
        return units;
    }

    /** Bytes of an aggregate whose first user record is {@code first}: its partition key also counts. */
    private int limitFor(KinesisSinkEntry first) {
        int keyBytes = first.partitionKey().getBytes(StandardCharsets.UTF_8).length;
        return Math.min(maxSize, KinesisSinkEntry.MAX_RECORD_BYTES - keyBytes);
    }

    /** An aggregate being filled for one shard. */
    private static final class Open {
        final String shardId;
        final KplAggregate aggregate = new KplAggregate();
        final List<KinesisSinkEntry> users = new ArrayList<>();

        Open(String shardId) {
            this.shardId = shardId;
        }

        void add(KinesisSinkEntry entry) {
            aggregate.add(entry);
            users.add(entry);
        }

        Unit seal() {
            if (users.size() == 1) {
                return Unit.plain(users.get(0)); // one user record: plain, with its own keys
            }
            KinesisSinkEntry first = users.get(0);
            PutRecordsRequestEntry entry = PutRecordsRequestEntry.builder()
                    .partitionKey(first.partitionKey())
                    .explicitHashKey(ShardMap.hashKey(first).toString())
                    .data(SdkBytes.fromByteArrayUnsafe(aggregate.encode()))
                    .build();
            return new Unit(entry, users, shardId);
        }
    }
}
