package io.github.pyflinkkinesis.source.reader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.source.FakeKinesisClient;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.consumer.ConsumerArns;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;

/**
 * A shard the stream no longer lists (expired after the retention period) ends its split, with a counter; a
 * stream that is gone fails naming it. Polling (GetShardIterator, GetRecords) and enhanced fan-out (SubscribeToShard).
 */
class ExpiredShardsTest {
    private static final String PARENT = "shardId-000000000000";
    private static final String CHILD = "shardId-000000000001";
    private static final String COUNTER_PATH = "stream/orders/shard/" + PARENT + "/expiredShards";

    private final FakeKinesisClient kinesis = new FakeKinesisClient();
    private final RecordingMetricGroup metrics = new RecordingMetricGroup();
    private final KinesisShardSplit parent =
            new KinesisShardSplit("orders", PARENT, List.of(), StartingPosition.afterRecord("00000000000000000041"));

    ExpiredShardsTest() {
        // The parent expired: only its child is listed, naming it as its parent.
        kinesis.shards.add(FakeKinesisClient.shard(CHILD, PARENT, null));
    }

    private KinesisShardSplitReader polling(KinesisShardSplit split) {
        KinesisShardSplitReader reader = new KinesisShardSplitReader(kinesis,
                KinesisSourceConfig.of(Map.of("source.reader.empty-records-fetch-interval", "0 ms")), metrics);
        reader.handleSplitsChanges(new SplitsAddition<>(List.of(split)));
        return reader;
    }

    /** Fetches until a fetch reports a finished split (at most 5 fetches); the records are none. */
    private static List<String> finishedSplits(SplitReader<KinesisRecord, KinesisShardSplit> reader) throws IOException {
        for (int i = 0; i < 5; i++) {
            reader.wakeUp();
            RecordsWithSplitIds<KinesisRecord> fetched = reader.fetch();
            while (fetched.nextSplit() != null) {
                assertEquals(null, fetched.nextRecordFromSplit(), "no records from an expired shard");
            }
            if (!fetched.finishedSplits().isEmpty()) {
                return new ArrayList<>(fetched.finishedSplits());
            }
        }
        return List.of();
    }

    @Test
    void aShardIteratorRefusedForAnUnlistedShardEndsTheSplitAndCountsIt() throws Exception {
        kinesis.iteratorErrors.add(FakeKinesisClient.notFound());
        assertEquals(List.of(parent.splitId()), finishedSplits(polling(parent)));
        assertEquals(1, metrics.count(COUNTER_PATH));
        assertEquals(1, kinesis.listShardsRequests.size(), "listed once to tell");
        assertEquals("orders", kinesis.listShardsRequests.get(0).streamName());
    }

    @Test
    void getRecordsRefusedForAnUnlistedShardEndsTheSplitToo() throws Exception {
        kinesis.getRecordsErrors.add(FakeKinesisClient.notFound());
        KinesisShardSplit fromStart = parent.withStartingPosition(StartingPosition.trimHorizon());
        assertEquals(List.of(parent.splitId()), finishedSplits(polling(fromStart)));
        assertEquals(1, metrics.count(COUNTER_PATH));
    }

    @Test
    void aStreamThatIsGoneFailsNamingIt() {
        kinesis.iteratorErrors.add(FakeKinesisClient.notFound());
        kinesis.listShardsErrors.add(FakeKinesisClient.notFound());
        KinesisShardSplitReader reader = polling(parent);
        IOException error = assertThrows(IOException.class, () -> finishedSplits(reader));
        assertTrue(error.getMessage().startsWith("Kinesis stream 'orders' does not exist: ListShards answered "
                + "ResourceNotFoundException"), error.getMessage());
        assertTrue(error.getMessage().contains("GetShardIterator for shard " + PARENT), error.getMessage());
        assertEquals(-1, metrics.count(COUNTER_PATH), "not counted as an expired shard");
    }

    @Test
    void aSubscriptionRefusedForAnUnlistedShardEndsTheSplitWithoutSubscribingAgain() throws Exception {
        FanOutShardSplitReaderTest.ScriptedAsyncClient async = new FanOutShardSplitReaderTest.ScriptedAsyncClient();
        KinesisSourceConfig config = KinesisSourceConfig.of(Map.of("source.reader.type", "EFO",
                "source.efo.consumer.name", "app"));
        long[] now = {1_000_000};
        ConsumerArns arns = ConsumerArns.fixed(Map.of("orders", FakeKinesisClient.streamArn("orders") + "/consumer/app:1"));
        FanOutShardSplitReader reader = new FanOutShardSplitReader(async, kinesis, arns, config, metrics,
                new ChildShardsOfFinished(), null, () -> now[0]);
        reader.handleSplitsChanges(new SplitsAddition<>(List.of(parent)));
        reader.fetch(); // subscribes
        assertEquals(1, async.calls.size());
        async.last().fail(FakeKinesisClient.notFound());
        now[0] += 10_000;
        assertEquals(List.of(parent.splitId()), finishedSplits(reader));
        assertEquals(1, metrics.count(COUNTER_PATH));
        assertEquals(1, async.calls.size(), "an expired shard is not subscribed to again");
    }
}
