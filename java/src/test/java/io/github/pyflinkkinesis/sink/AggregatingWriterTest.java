package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.deagg.KplDeaggregator;
import io.github.pyflinkkinesis.deagg.UserRecord;

/** {@code sink.aggregation.enabled}: the writer packs each shard's records into KPL aggregates bound for it. */
class AggregatingWriterTest extends WriterTestBase {
    private static final BigInteger TOP = BigInteger.ONE.shiftLeft(128);

    private void writer(String... keyValues) {
        List<String> properties = new ArrayList<>(List.of(KinesisSinkConfig.AGGREGATION_ENABLED, "true"));
        properties.addAll(List.of(keyValues));
        writer(5, 50, properties.toArray(new String[0]));
    }

    /** {@code n} shards splitting the hash key space evenly, named from {@code firstId}. */
    private static List<ShardMap.Range> shards(int n, int firstId) {
        List<ShardMap.Range> out = new ArrayList<>();
        BigInteger width = TOP.divide(BigInteger.valueOf(n));
        for (int i = 0; i < n; i++) {
            BigInteger end = i == n - 1 ? TOP.subtract(BigInteger.ONE) : width.multiply(BigInteger.valueOf(i + 1))
                    .subtract(BigInteger.ONE);
            out.add(new ShardMap.Range(String.format("shardId-%012d", firstId + i), width.multiply(BigInteger.valueOf(i)),
                    end));
        }
        return out;
    }

    private void write(String key, String hashKey, byte[] data) throws Exception {
        Row row = Row.of("orders", key, hashKey, data);
        written.add(row);
        writer.write(row, TestWriterContext.NO_CONTEXT);
    }

    private void writeRandom(Random random, int records, int bytes) throws Exception {
        for (int i = 0; i < records; i++) {
            byte[] data = new byte[bytes];
            random.nextBytes(data);
            write("key-" + random.nextInt(1_000_000), i % 5 == 0 ? new BigInteger(127, random).toString() : null, data);
        }
    }

    private static String userKey(String key, String hashKey, byte[] data) {
        return key + "|" + hashKey + "|" + Base64.getEncoder().encodeToString(data);
    }

    /** The user records in the stream (aggregates de-aggregated), each with the shard it sits in. */
    private Map<String, List<String>> usersByShard() {
        Map<String, List<String>> out = new ConcurrentHashMap<>();
        synchronized (kinesis.delivered) {
            for (FakeKinesis.Delivered d : kinesis.delivered) {
                byte[] data = d.record.data().asByteArray();
                List<UserRecord> users = KplDeaggregator.deaggregate(data);
                List<String> keys = out.computeIfAbsent(d.shardId, s -> new ArrayList<>());
                if (users == null) {
                    keys.add(userKey(d.record.partitionKey(), d.record.explicitHashKey(), data));
                } else {
                    users.forEach(u -> keys.add(userKey(u.partitionKey(), u.explicitHashKey(), u.data())));
                }
            }
        }
        return out;
    }

    /** Each written row's user record (keys and data), with how often it was written. */
    private Map<String, Long> writtenUsers() {
        return written.stream()
                .map(r -> userKey((String) r.getField(1), (String) r.getField(2), (byte[]) r.getField(3)))
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    /** Every written row is in the stream exactly once, byte for byte with its keys, on the shard it hashes to. */
    private void assertEachUserRecordOnceOnItsShard() {
        Map<String, List<String>> byShard = usersByShard();
        Map<String, Long> found = byShard.values().stream().flatMap(List::stream)
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        Map<String, Long> expected = writtenUsers();
        assertEquals(expected, found);
        for (Row row : written) {
            String shard = kinesis.route(KinesisSinkEntry.of("orders", (String) row.getField(1),
                    (String) row.getField(2), (byte[]) row.getField(3)).toRequestEntry());
            String key = userKey((String) row.getField(1), (String) row.getField(2), (byte[]) row.getField(3));
            assertTrue(byShard.getOrDefault(shard, List.of()).contains(key), key + " is not on " + shard);
        }
    }

    private List<byte[]> aggregates() {
        synchronized (kinesis.delivered) {
            return kinesis.delivered.stream().map(d -> d.record.data().asByteArray())
                    .filter(d -> KplDeaggregator.deaggregate(d) != null).collect(Collectors.toList());
        }
    }

    @Test
    void eachShardsRecordsArePackedIntoAggregatesThatLandOnIt() throws Exception {
        kinesis.shards = shards(4, 0);
        writer();
        writeRandom(new Random(1), 2000, 100);
        writer.flush(true);

        assertEachUserRecordOnceOnItsShard();
        assertTrue(kinesis.delivered.size() * 10 <= written.size(),
                kinesis.delivered.size() + " Kinesis records for " + written.size() + " user records");
        assertEquals(1, kinesis.listShardsCalls.get(), "the shard map is listed once");
        aggregates().forEach(a -> assertTrue(a.length <= 51200, "an aggregate of " + a.length + " bytes"));
    }

    @Test
    void noAggregateExceedsMaxSizeOrMaxCountAndALargerRecordGoesAlone() throws Exception {
        kinesis.shards = shards(2, 0);
        writer(KinesisSinkConfig.AGGREGATION_MAX_SIZE, "1000", KinesisSinkConfig.AGGREGATION_MAX_COUNT, "4");
        Random random = new Random(2);
        writeRandom(random, 200, 150);
        byte[] big = new byte[1200];
        random.nextBytes(big);
        write("big", null, big);
        writer.flush(true);

        assertEachUserRecordOnceOnItsShard();
        for (byte[] aggregate : aggregates()) {
            assertTrue(aggregate.length <= 1000, "an aggregate of " + aggregate.length + " bytes");
            assertTrue(KplDeaggregator.deaggregate(aggregate).size() <= 4, "more than max-count user records");
        }
        assertTrue(kinesis.delivered.stream().anyMatch(d -> d.record.partitionKey().equals("big")
                && Base64.getEncoder().encodeToString(d.record.data().asByteArray())
                        .equals(Base64.getEncoder().encodeToString(big))), "the larger record went alone, plain");
        assertTrue(aggregates().size() >= 200 / 4 - 2, "records are aggregated: " + aggregates().size());
    }

    /**
     * The user records in the stream as a reader that checks hash key ranges reads them (the KCL, our readers):
     * of each shard, those whose hash key its range ({@code ranges}, by shard id) holds; or all, without ranges.
     */
    private Map<String, Long> readUsers(Map<String, ShardMap.Range> ranges) {
        List<String> keys = new ArrayList<>();
        synchronized (kinesis.delivered) {
            for (FakeKinesis.Delivered d : kinesis.delivered) {
                byte[] data = d.record.data().asByteArray();
                List<UserRecord> users = KplDeaggregator.deaggregate(data);
                if (users == null) {
                    keys.add(userKey(d.record.partitionKey(), d.record.explicitHashKey(), data));
                    continue;
                }
                for (UserRecord u : users) {
                    BigInteger hash = ShardMap.hashKey(KinesisSinkEntry.of("orders", u.partitionKey(),
                            u.explicitHashKey(), u.data()));
                    if (ranges == null || ranges.get(d.shardId).holds(hash)) {
                        keys.add(userKey(u.partitionKey(), u.explicitHashKey(), u.data()));
                    }
                }
            }
        }
        return keys.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    /** A stream of one shard (shards(1, 0)) and a writer whose map knows it, after {@code records} written. */
    private Random writeToOneShard(long seed, int records) throws Exception {
        kinesis.shards = shards(1, 0);
        writer();
        Random random = new Random(seed);
        writeRandom(random, records, 100);
        writer.flush(true);
        return random;
    }

    @Test
    void anAggregateLandingElsewhereIsWrittenAgainForTheUserRecordsItsShardDoesNotHold() throws Exception {
        List<ShardMap.Range> parent = shards(1, 0);
        List<ShardMap.Range> children = shards(2, 1);
        Random random = writeToOneShard(3, 100);
        kinesis.shards = children; // split: the writer's map is out of date
        writeRandom(random, 100, 100);
        writer.flush(true);
        assertEquals(2, kinesis.listShardsCalls.get(), "an answer from another shard makes the map listed again");
        writeRandom(random, 100, 100);
        writer.flush(true);
        assertEquals(2, kinesis.listShardsCalls.get(), "listed once per resharding");

        Map<String, ShardMap.Range> ranges = new HashMap<>();
        parent.forEach(r -> ranges.put(r.shardId, r));
        children.forEach(r -> ranges.put(r.shardId, r));
        Map<String, Long> expected = writtenUsers();
        assertEquals(expected, readUsers(ranges), "each user record once in a shard whose hash key range holds it");
        long copies = readUsers(null).values().stream().mapToLong(Long::longValue).sum();
        assertTrue(copies > 300, "the aggregates that landed on one child held user records of the other: "
                + copies + " copies of 300 user records");
        Set<String> lastShards = kinesis.delivered.subList(kinesis.delivered.size() - 2, kinesis.delivered.size())
                .stream().map(d -> d.shardId).collect(Collectors.toSet());
        assertEquals(Set.of("shardId-000000000001", "shardId-000000000002"), lastShards,
                "after listing again, one aggregate per new shard");
    }

    @Test
    void ifTheShardsCannotBeListedAgainEveryUserRecordOfAnAggregateLandingElsewhereIsWrittenAgain() throws Exception {
        List<ShardMap.Range> children = shards(2, 1);
        Random random = writeToOneShard(5, 50);
        written.clear();
        kinesis.delivered.clear();
        kinesis.shards = children; // split: the writer's map is out of date, and listing it again fails once
        kinesis.failingListings.set(1);
        try (LogCapture log = new LogCapture(Aggregator.class)) {
            writeRandom(random, 100, 100);
            writer.flush(true);
            assertEquals(1, log.lines().size(), log.lines().toString());
            assertTrue(log.lines().get(0).startsWith("WARN Kinesis sink: listing the shards of stream 'orders'"
                    + " failed (LimitExceededException"), log.lines().get(0));
        }

        Map<String, ShardMap.Range> ranges = new HashMap<>();
        children.forEach(r -> ranges.put(r.shardId, r));
        Map<String, Long> held = readUsers(ranges);
        Map<String, Long> expected = writtenUsers();
        assertEquals(expected.keySet(), held.keySet(), "every user record in a shard whose range holds it");
        assertTrue(held.values().stream().allMatch(n -> n <= 2) && held.containsValue(2L),
                "those the shard it landed on holds are there twice, as with the KPL: " + held.values());
        assertEquals(0, writer.outstandingRecords());
    }

    @Test
    void aBatchOfMoreUserRecordsThanACallTakesGoesInSeveralCalls() throws Exception {
        kinesis.shards = shards(600, 0);
        writer(KinesisSinkConfig.BATCH_MAX_SIZE, "2000", KinesisSinkConfig.MAX_BUFFERED, "4000");
        writeRandom(new Random(6), 2000, 100);
        writer.flush(true);

        assertEachUserRecordOnceOnItsShard();
        synchronized (kinesis.calls) {
            assertTrue(kinesis.calls.size() >= 2, kinesis.calls.size() + " calls");
            for (FakeKinesis.Call call : kinesis.calls) {
                assertTrue(call.records.size() <= KinesisSinkConfig.MAX_BATCH_RECORDS,
                        "a call of " + call.records.size() + " records");
            }
        }
    }

    @Test
    void aThrottledAggregateIsRetriedWithAllItsUserRecords() throws Exception {
        kinesis.shards = shards(2, 0);
        Set<String> throttledOnce = ConcurrentHashMap.newKeySet();
        kinesis.failRecord = r -> KplDeaggregator.hasMagic(r.data().asByteArrayUnsafe())
                && throttledOnce.add(r.explicitHashKey()) ? "ProvisionedThroughputExceededException" : null;
        writer();
        writeRandom(new Random(4), 400, 100);
        writer.flush(true);

        assertTrue(!throttledOnce.isEmpty());
        assertEachUserRecordOnceOnItsShard();
    }

    @Test
    void invalidAggregationKeysAreNamed() {
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> KinesisSinkConfig.of(
                Map.of(KinesisSinkConfig.AGGREGATION_MAX_SIZE, "10")));
        assertTrue(size.getMessage().startsWith("sink.aggregation.max-size: expected a size from 64 to 1048576"),
                size.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class, () -> KinesisSinkConfig.of(
                Map.of(KinesisSinkConfig.AGGREGATION_MAX_COUNT, "0")));
        assertTrue(count.getMessage().startsWith("sink.aggregation.max-count: expected a whole number from 1 to"),
                count.getMessage());
        assertEquals(4294967295L, KinesisSinkConfig.of(Map.of()).aggregationMaxCount());
    }

    @Test
    void aCallOfAggregatesStaysWithinFiveMebibytes() throws Exception {
        kinesis.shards = shards(4, 0);
        writer();
        Random random = new Random(5);
        for (int i = 0; i < 1000; i++) {
            byte[] data = new byte[10_470]; // 500 of them with keys: just under 5 MiB of user records per call
            random.nextBytes(data);
            write(String.format("k%03d", i), null, data);
        }
        writer.flush(true);

        assertEachUserRecordOnceOnItsShard();
        synchronized (kinesis.calls) {
            for (FakeKinesis.Call call : kinesis.calls) {
                assertTrue(call.bytes() <= KinesisSinkConfig.MAX_BATCH_BYTES, "a call of " + call.bytes() + " bytes");
            }
        }
    }
}
