package io.github.pyflinkkinesis.source.reader;

import static io.github.pyflinkkinesis.source.reader.ReaderTestData.aggregate;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.apache.flink.metrics.Gauge;
import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.source.FakeKinesisClient;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

class KinesisShardSplitReaderTest {
    private static final String SHARD = "shardId-000000000007";

    private final FakeKinesisClient kinesis = new FakeKinesisClient();
    private long now = 1_000_000;
    private final RecordingMetricGroup metrics = new RecordingMetricGroup();

    /** What one fetch returned. */
    private static final class Batch {
        final Map<String, List<KinesisRecord>> records = new LinkedHashMap<>();
        final Set<String> finished = new LinkedHashSet<>();

        List<KinesisRecord> of(String splitId) {
            return records.getOrDefault(splitId, List.of());
        }

        List<String> data(String splitId) {
            return of(splitId).stream().map(r -> new String(r.data())).collect(Collectors.toList());
        }
    }

    private KinesisShardSplitReader reader(Map<String, String> properties, KinesisShardSplit... splits) {
        KinesisShardSplitReader reader =
                new KinesisShardSplitReader(kinesis, KinesisSourceConfig.of(properties), metrics, () -> now);
        reader.handleSplitsChanges(new SplitsAddition<>(List.of(splits)));
        return reader;
    }

    private KinesisShardSplitReader reader(KinesisShardSplit... splits) {
        return reader(Map.of("source.reader.empty-records-fetch-interval", "0 ms"), splits);
    }

    private static KinesisShardSplit split(String stream, StartingPosition position) {
        return new KinesisShardSplit(stream, SHARD, List.of(), position);
    }

    private static KinesisShardSplit split(StartingPosition position) {
        return split("orders", position);
    }

    /** One fetch without waiting (a wake-up first, as the fetcher does when it has work). */
    private static Batch fetch(KinesisShardSplitReader reader) throws IOException {
        reader.wakeUp();
        RecordsWithSplitIds<KinesisRecord> fetched = reader.fetch();
        Batch batch = new Batch();
        String splitId;
        while ((splitId = fetched.nextSplit()) != null) {
            KinesisRecord record;
            while ((record = fetched.nextRecordFromSplit()) != null) {
                batch.records.computeIfAbsent(splitId, k -> new ArrayList<>()).add(record);
            }
        }
        batch.finished.addAll(fetched.finishedSplits());
        return batch;
    }

    private String put(String data, long arrival) {
        return kinesis.put(SHARD, "key-" + data, data.getBytes(), arrival);
    }

    private GetShardIteratorRequest lastIteratorRequest() {
        return kinesis.iteratorRequests.get(kinesis.iteratorRequests.size() - 1);
    }

    @Test
    void readsFromTrimHorizonToTheShardEnd() throws IOException {
        put("a", 1);
        put("b", 2);
        put("c", 3);
        kinesis.closedShards.add(SHARD);
        KinesisShardSplit split = split(StartingPosition.trimHorizon());
        KinesisShardSplitReader reader = reader(Map.of("source.shard.get-records.max-record-count", "2"), split);

        Batch first = fetch(reader);
        assertEquals(ShardIteratorType.TRIM_HORIZON, lastIteratorRequest().shardIteratorType());
        assertEquals("orders", lastIteratorRequest().streamName());
        assertEquals(List.of("a", "b"), first.data(split.splitId()));
        assertEquals(Set.of(), first.finished);
        assertEquals(2, kinesis.getRecordsRequests.get(0).limit());

        now += 200;
        Batch second = fetch(reader);
        assertEquals(List.of("c"), second.data(split.splitId()));
        assertEquals(Set.of(split.splitId()), second.finished);
        KinesisRecord c = second.of(split.splitId()).get(0);
        assertEquals("key-c", c.partitionKey());
        assertEquals(3, c.arrivalTimeMillis());
        assertNull(c.subSequenceNumber());
        assertTrue(c.endOfRecord());
    }

    @Test
    void eachShardReportsHowFarBehindItIs() throws IOException {
        put("a", 1);
        put("b", 2);
        KinesisShardSplitReader reader = reader(Map.of("source.shard.get-records.max-record-count", "1"),
                split(StartingPosition.trimHorizon()));
        Gauge<?> behind = metrics.gauges.get("stream/orders/shard/" + SHARD + "/millisBehindLatest");
        assertEquals(-1L, behind.getValue());
        fetch(reader);
        assertEquals(1000L, behind.getValue());
        now += 200;
        fetch(reader);
        assertEquals(0L, behind.getValue());
    }

    @Test
    void eachShardIsCalledAtMostFiveTimesASecond() throws IOException {
        KinesisShardSplitReader reader = reader(split(StartingPosition.trimHorizon()));
        long start = now;
        while (now < start + 1000) {
            fetch(reader);
            now += 10;
        }
        assertEquals(5, kinesis.getRecordsRequests.size());
    }

    @Test
    void throttledCallsCountTowardsTheRateAndBackOff() throws IOException {
        for (int i = 0; i < 6; i++) {
            kinesis.getRecordsErrors.add(FakeKinesisClient.throttled());
        }
        put("a", 1);
        KinesisShardSplitReader reader = reader(split(StartingPosition.trimHorizon()));
        List<Long> callTimes = new ArrayList<>();
        Batch batch = new Batch();
        long deadline = now + 60_000;
        while (batch.of(KinesisShardSplit.splitId("orders", SHARD)).isEmpty() && now < deadline) {
            int before = kinesis.getRecordsRequests.size();
            batch = fetch(reader);
            if (kinesis.getRecordsRequests.size() > before) {
                callTimes.add(now);
            }
            now += 10;
        }
        assertEquals(7, callTimes.size(), "six throttled attempts, then the records");
        for (int i = 1; i < callTimes.size(); i++) {
            assertTrue(callTimes.get(i) - callTimes.get(i - 1) >= 200, "attempts " + callTimes);
        }
        // backoff doubles from 100 ms with equal jitter: the sixth wait is at least 1.6 s
        assertTrue(callTimes.get(6) - callTimes.get(5) >= 1600, "attempts " + callTimes);
    }

    private KinesisShardSplitReader readerWaitingOneSecondWhenEmpty() {
        return reader(Map.of("source.reader.empty-records-fetch-interval", "1 s"), split(StartingPosition.trimHorizon()));
    }

    @Test
    void emptyAnswersWaitTheEmptyFetchInterval() throws IOException {
        KinesisShardSplitReader reader = readerWaitingOneSecondWhenEmpty();
        fetch(reader);
        now += 999;
        fetch(reader);
        assertEquals(1, kinesis.getRecordsRequests.size());
        now += 1;
        fetch(reader);
        assertEquals(2, kinesis.getRecordsRequests.size());
    }

    @Test
    void emptyAnswersBehindTheTipAreFollowedUpQuickly() throws IOException {
        kinesis.millisBehindAtTip = 5000;
        KinesisShardSplitReader reader = readerWaitingOneSecondWhenEmpty();
        fetch(reader);
        now += 200;
        fetch(reader);
        assertEquals(2, kinesis.getRecordsRequests.size());
    }

    @Test
    void transientErrorsAreRetriedUntilTheTotalRetryTimeThenFailNamingTheCall() throws IOException {
        kinesis.getRecordsErrors.add(SdkClientException.builder().message("Unable to execute HTTP request")
                .cause(new java.net.ConnectException("Connection refused")).build());
        for (int i = 1; i < 1000; i++) {
            kinesis.getRecordsErrors.add(FakeKinesisClient.internalFailure());
        }
        KinesisShardSplitReader reader = reader(Map.of("source.max-retry-time", "3 s"),
                split(StartingPosition.trimHorizon()));
        long start = now;
        IOException error = null;
        for (int i = 0; i < 10_000 && error == null; i++) {
            try {
                fetch(reader);
            } catch (IOException e) {
                error = e;
            }
            now += 100;
        }
        assertTrue(now - start > 3000, "retried for the total retry time: " + (now - start) + " ms");
        assertTrue(kinesis.getRecordsRequests.size() > 3, "attempts: " + kinesis.getRecordsRequests.size());
        assertTrue(error.getMessage().startsWith("Kinesis GetRecords for stream 'orders' shard " + SHARD + " failed for")
                && error.getMessage().contains("longer than source.max-retry-time (3 s); last error: InternalFailure"),
                error.getMessage());
    }

    @Test
    void aTransientErrorThenSuccessResetsTheCount() throws IOException {
        put("a", 1);
        kinesis.getRecordsErrors.add(FakeKinesisClient.internalFailure());
        KinesisShardSplit split = split(StartingPosition.trimHorizon());
        KinesisShardSplitReader reader = reader(split);
        assertEquals(List.of(), fetch(reader).data(split.splitId()));
        now += 200;
        assertEquals(List.of("a"), fetch(reader).data(split.splitId()));
    }

    @Test
    void fatalErrorsFailNamingStreamAndShard() {
        kinesis.shards.add(FakeKinesisClient.shard(SHARD, null, null)); // listed: not an expired shard
        kinesis.getRecordsErrors.add(FakeKinesisClient.notFound());
        KinesisShardSplitReader reader = reader(split(StartingPosition.trimHorizon()));
        IOException error = assertThrows(IOException.class, () -> fetch(reader));
        assertTrue(error.getMessage().contains("stream 'orders' shard " + SHARD)
                && error.getMessage().contains("ResourceNotFoundException"), error.getMessage());
    }

    @Test
    void anExpiredIteratorIsRebuiltAfterTheLastFetchedRecord() throws IOException {
        put("a", 1);
        String b = put("b", 2);
        KinesisShardSplit split = split(StartingPosition.trimHorizon());
        KinesisShardSplitReader reader = reader(split);
        assertEquals(List.of("a", "b"), fetch(reader).data(split.splitId()));
        put("c", 3);
        kinesis.getRecordsErrors.add(FakeKinesisClient.expired());
        now += 200;
        assertEquals(List.of(), fetch(reader).data(split.splitId()));
        now += 200;
        assertEquals(List.of("c"), fetch(reader).data(split.splitId()));
        assertEquals(ShardIteratorType.AFTER_SEQUENCE_NUMBER, lastIteratorRequest().shardIteratorType());
        assertEquals(b, lastIteratorRequest().startingSequenceNumber());
    }

    @Test
    void resumesAfterTheLastEmittedRecord() throws IOException {
        String a = put("a", 1);
        put("b", 2);
        KinesisShardSplit split = split(StartingPosition.afterRecord(a));
        assertEquals(List.of("b"), fetch(reader(split)).data(split.splitId()));
        assertEquals(ShardIteratorType.AFTER_SEQUENCE_NUMBER, lastIteratorRequest().shardIteratorType());
        assertEquals(a, lastIteratorRequest().startingSequenceNumber());
    }

    @Test
    void resumesInsideAPartlyEmittedAggregate() throws Exception {
        put("a", 1);
        String agg = kinesis.put(SHARD, "agg", aggregate("x0", "x1", "x2"), 2);
        put("b", 3);
        KinesisShardSplit split = split(StartingPosition.afterSubRecord(agg, 0L));
        List<KinesisRecord> records = fetch(reader(split)).of(split.splitId());
        assertEquals(ShardIteratorType.AT_SEQUENCE_NUMBER, lastIteratorRequest().shardIteratorType());
        assertEquals(agg, lastIteratorRequest().startingSequenceNumber());
        assertEquals(List.of("x1", "x2", "b"), records.stream().map(r -> new String(r.data())).collect(Collectors.toList()));
        assertEquals(1L, records.get(0).subSequenceNumber());
        assertEquals("pk-x1", records.get(0).partitionKey());
        assertEquals(agg, records.get(0).sequenceNumber());
        assertEquals(List.of(false, true, true),
                records.stream().map(KinesisRecord::endOfRecord).collect(Collectors.toList()));
    }

    @Test
    void userRecordsOfAnAggregateOutsideTheShardsHashKeyRangeAreDroppedAsTheKclDropsThem() throws Exception {
        String agg = kinesis.put(SHARD, "agg", aggregate("x0", "x1", "x2"), 1);
        put("plain", 2);
        BigInteger x1 = new BigInteger(1, MessageDigest.getInstance("MD5").digest("pk-x1".getBytes(StandardCharsets.UTF_8)));
        KinesisShardSplit split = new KinesisShardSplit("orders", SHARD, List.of(), StartingPosition.trimHorizon(), 0L,
                x1, x1);
        List<KinesisRecord> records = fetch(reader(split)).of(split.splitId());
        assertEquals(List.of("x1", "plain"), records.stream().map(r -> new String(r.data())).collect(Collectors.toList()),
                "a plain record is kept, whatever its key: Kinesis routed it");
        assertEquals(agg, records.get(0).sequenceNumber());
        assertEquals(1L, records.get(0).subSequenceNumber());
        assertTrue(records.get(0).endOfRecord(), "the last user record the shard holds ends the aggregate");
    }

    @Test
    void atTimestampNeverEmitsRecordsThatArrivedBefore() throws IOException {
        put("old", 1000);
        put("edge", 2000);
        put("new", 3000);
        KinesisShardSplit split = split(StartingPosition.atTimestamp(2000));
        assertEquals(List.of("edge", "new"), fetch(reader(split)).data(split.splitId()));
        assertEquals(ShardIteratorType.AT_TIMESTAMP, lastIteratorRequest().shardIteratorType());
        assertEquals(Instant.ofEpochMilli(2000), lastIteratorRequest().timestamp());
    }

    @Test
    void anAtTimestampIteratorRefusedAsPastTheServiceClockReadsFromLatestWithoutOlderRecords() throws IOException {
        put("before-start", 1000);
        kinesis.iteratorErrors.add(FakeKinesisClient.timestampInTheFuture());
        KinesisShardSplit split = split(StartingPosition.atTimestamp(5000));
        KinesisShardSplitReader reader = reader(split);
        assertEquals(List.of(), fetch(reader).data(split.splitId()));
        assertEquals(List.of(ShardIteratorType.AT_TIMESTAMP, ShardIteratorType.LATEST), kinesis.iteratorRequests.stream()
                .map(GetShardIteratorRequest::shardIteratorType).collect(Collectors.toList()));
        put("still-too-early", 4999);
        put("at-start", 5000);
        now += 200;
        assertEquals(List.of("at-start"), fetch(reader).data(split.splitId()));
        assertEquals(2, kinesis.iteratorRequests.size(), "no other iterator was asked for");
    }

    @Test
    void otherInvalidArgumentsFail() {
        kinesis.iteratorErrors.add(FakeKinesisClient.timestampInTheFuture());
        IOException error = assertThrows(IOException.class, () -> fetch(reader(split(StartingPosition.trimHorizon()))));
        assertTrue(error.getMessage().contains("InvalidArgumentException"), error.getMessage());
    }

    @Test
    void anAggregateWithABadDigestIsAPlainRecord() throws Exception {
        byte[] broken = aggregate("x0");
        broken[broken.length - 1] ^= 1;
        kinesis.put(SHARD, "agg", broken, 1);
        KinesisShardSplit split = split(StartingPosition.trimHorizon());
        List<KinesisRecord> records = fetch(reader(split)).of(split.splitId());
        assertEquals(1, records.size());
        assertArrayEquals(broken, records.get(0).data());
        assertEquals("agg", records.get(0).partitionKey());
        assertNull(records.get(0).subSequenceNumber());
    }

    @Test
    void aFinishedSplitIsReportedWithoutReading() throws IOException {
        KinesisShardSplit split = split(StartingPosition.shardEnd());
        assertEquals(Set.of(split.splitId()), fetch(reader(split)).finished);
        assertEquals(0, kinesis.getRecordsRequests.size());
    }

    @Test
    void pausedShardsAreNotPolled() throws IOException {
        KinesisShardSplit split = split(StartingPosition.trimHorizon());
        KinesisShardSplitReader reader = reader(split);
        reader.pauseOrResumeSplits(List.of(split), List.of());
        fetch(reader);
        assertEquals(0, kinesis.getRecordsRequests.size());
        reader.pauseOrResumeSplits(List.of(), List.of(split));
        fetch(reader);
        assertEquals(1, kinesis.getRecordsRequests.size());
    }

    @Test
    void streamsGivenByArnAreAddressedByArn() throws IOException {
        String arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
        fetch(reader(split(arn, StartingPosition.trimHorizon())));
        assertEquals(arn, lastIteratorRequest().streamARN());
        assertNull(lastIteratorRequest().streamName());
        assertEquals(arn, kinesis.getRecordsRequests.get(0).streamARN());
    }

    @Test
    void closeClosesTheClient() {
        reader().close();
        assertTrue(kinesis.closed);
    }
}
