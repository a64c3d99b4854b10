package io.github.pyflinkkinesis.source.reader;

import static io.github.pyflinkkinesis.source.reader.ReaderTestData.aggregate;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.connector.testutils.source.reader.TestingReaderContext;
import org.apache.flink.connector.testutils.source.reader.TestingSplitEnumeratorContext;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.types.Row;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.source.FakeKinesisClient;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.consumer.ConsumerArns;
import io.github.pyflinkkinesis.source.enumerator.KinesisSourceEnumState;
import io.github.pyflinkkinesis.source.enumerator.KinesisSourceEnumerator;
import io.github.pyflinkkinesis.source.enumerator.ShardsFinishedAck;
import io.github.pyflinkkinesis.source.enumerator.ShardsFinishedEvent;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;

/** The reader on Flink's SourceReaderBase, its fetcher thread and the in-memory Kinesis. */
class KinesisSourceReaderTest {
    private static final String SHARD = "shardId-000000000000";
    private static final KinesisSourceConfig CONFIG =
            KinesisSourceConfig.of(Map.of("source.reader.empty-records-fetch-interval", "0 ms"));

    private final FakeKinesisClient kinesis = new FakeKinesisClient();
    private final TestingReaderContext context = new TestingReaderContext();
    private final SplitRecordingOutput output = new SplitRecordingOutput();
    private KinesisSourceReader<Row> reader;

    private KinesisSourceReader newReader() throws Exception {
        if (reader != null) {
            reader.close();
        }
        reader = new KinesisSourceReader<>(() -> new KinesisShardSplitReader(kinesis, CONFIG, context.metricGroup()),
                new KinesisRecordEmitter<>(new RowRecordDeserializer()), context, Set.of("orders"));
        reader.start();
        return reader;
    }

    @AfterEach
    void close() throws Exception {
        if (reader != null) {
            reader.close();
        }
    }

    /** Polls (one record per poll) until {@code done}, for at most 10 s. */
    private void pollUntil(BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("condition not reached in 10 s; emitted " + output.emitted.size());
            }
            if (reader.pollNext(output) == InputStatus.NOTHING_AVAILABLE) {
                try {
                    reader.isAvailable().get(100, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    // poll again
                }
            }
        }
    }

    private List<String> emittedData() {
        return output.emitted.stream().map(e -> new String((byte[]) e.row.getField(0))).collect(Collectors.toList());
    }

    private List<ShardsFinishedEvent> finishedEvents() {
        return context.getSentEvents().stream().filter(e -> e instanceof ShardsFinishedEvent)
                .map(e -> (ShardsFinishedEvent) e).collect(Collectors.toList());
    }

    @Test
    void aCheckpointResumesRightAfterTheLastEmittedRecord() throws Exception {
        kinesis.put(SHARD, "pk-a", "a".getBytes(), 10);
        String agg = kinesis.put(SHARD, "agg", aggregate("x0", "x1", "x2"), 20);
        String b = kinesis.put(SHARD, "pk-b", "b".getBytes(), 30);
        KinesisShardSplit split = new KinesisShardSplit("orders", SHARD, List.of(), StartingPosition.trimHorizon());
        newReader().addSplits(List.of(split));
        pollUntil(() -> output.emitted.size() == 3);
        List<KinesisShardSplit> checkpoint = reader.snapshotState(1);
        assertEquals(List.of(split.withStartingPosition(StartingPosition.afterSubRecord(agg, 1L))), checkpoint);

        output.emitted.clear();
        newReader().addSplits(checkpoint);
        pollUntil(() -> output.emitted.size() == 2);
        assertEquals(List.of("x2", "b"), emittedData());
        assertEquals(List.of(split.withStartingPosition(StartingPosition.afterRecord(b))), reader.snapshotState(2));
    }

    @Test
    void rowsCarryTheMetadataAndGoThroughTheirSplitsOutput() throws Exception {
        byte[] binary = {0, (byte) 0xFF, (byte) 0xC3, 0x28};
        String sequence = kinesis.put(SHARD, "key", binary, 1_700_000_000_123L);
        kinesis.put("shardId-000000000001", "other", "o".getBytes(), 5);
        KinesisShardSplit first = new KinesisShardSplit("arn:aws:kinesis:us-east-1:000000000000:stream/orders", SHARD,
                List.of(), StartingPosition.trimHorizon());
        KinesisShardSplit second = new KinesisShardSplit("orders", "shardId-000000000001", List.of(),
                StartingPosition.trimHorizon());
        newReader().addSplits(List.of(first, second));
        pollUntil(() -> output.emitted.size() == 2);

        RecordingSourceOutput.Emitted row = output.emitted.stream()
                .filter(e -> SHARD.equals(e.row.getField(2))).findFirst().orElseThrow();
        assertEquals(first.splitId(), row.splitId, "collected through the split's own output");
        assertEquals(1_700_000_000_123L, row.timestamp);
        assertArrayEquals(binary, (byte[]) row.row.getField(0));
        assertEquals("orders", row.row.getField(1));
        assertEquals("key", row.row.getField(3));
        assertEquals(sequence, row.row.getField(4));
        assertNull(row.row.getField(5));
        assertEquals(1_700_000_000_123L, row.row.getField(6));
        RecordingSourceOutput.Emitted other = output.emitted.stream()
                .filter(e -> !SHARD.equals(e.row.getField(2))).findFirst().orElseThrow();
        assertEquals(second.splitId(), other.splitId);
    }

    /** Before any checkpoint (or in a job without them) an end is reported at once. */
    @Test
    void finishedShardsStayInCheckpointsUntilTheEnumeratorAcknowledgesThem() throws Exception {
        kinesis.put(SHARD, "pk-a", "a".getBytes(), 10);
        kinesis.closedShards.add(SHARD);
        KinesisShardSplit split = new KinesisShardSplit("orders", SHARD, List.of(), StartingPosition.trimHorizon());
        newReader().addSplits(List.of(split));
        pollUntil(() -> !finishedEvents().isEmpty());
        assertEquals(List.of("a"), emittedData());
        assertEquals(List.of(split.splitId()), finishedEvents().get(0).splitIds());

        KinesisShardSplit finished = split.withStartingPosition(StartingPosition.shardEnd());
        assertEquals(List.of(finished), reader.snapshotState(5));
        reader.notifyCheckpointComplete(5);
        assertEquals(List.of(finished), reader.snapshotState(6), "not acknowledged yet");
        assertEquals(2, finishedEvents().size(), "reported again");
        reader.handleSourceEvents(new ShardsFinishedAck(List.of(split.splitId())));
        assertEquals(List.of(), reader.snapshotState(7));
        reader.notifyCheckpointComplete(7);
        assertEquals(2, finishedEvents().size());
    }

    /** Once the reader checkpoints, an end is reported only after a checkpoint holding it completed. */
    @Test
    void anEndIsReportedOnceACheckpointHoldingItCompletes() throws Exception {
        kinesis.put(SHARD, "pk-a", "a".getBytes(), 10);
        KinesisShardSplit split = new KinesisShardSplit("orders", SHARD, List.of(), StartingPosition.trimHorizon());
        newReader().addSplits(List.of(split));
        pollUntil(() -> output.emitted.size() == 1);
        reader.snapshotState(1);
        reader.notifyCheckpointComplete(1);
        kinesis.put(SHARD, "pk-b", "b".getBytes(), 20);
        kinesis.closedShards.add(SHARD);
        pollUntil(() -> reader.getNumberOfCurrentlyAssignedSplits() == 0);
        assertEquals(List.of("a", "b"), emittedData());
        assertEquals(List.of(), finishedEvents(), "not before a checkpoint holds the end");

        KinesisShardSplit finished = split.withStartingPosition(StartingPosition.shardEnd());
        assertEquals(List.of(finished), reader.snapshotState(2));
        reader.notifyCheckpointComplete(1);
        assertEquals(List.of(), finishedEvents(), "checkpoint 1 did not hold the end");
        reader.notifyCheckpointComplete(2);
        assertEquals(1, finishedEvents().size());
        assertEquals(List.of(split.splitId()), finishedEvents().get(0).splitIds());
        reader.handleSourceEvents(new ShardsFinishedAck(List.of(split.splitId())));
        assertEquals(List.of(), reader.snapshotState(3), "acknowledged: out of the checkpoints");
        reader.notifyCheckpointComplete(3);
        assertEquals(1, finishedEvents().size(), "acknowledged: not reported again");
    }

    /** A reader restored from a checkpoint (splits added before start) holds ends back from the first one. */
    @Test
    void aRestoredReaderHoldsAnEndBackUntilACheckpointHoldsIt() throws Exception {
        kinesis.put(SHARD, "pk-a", "a".getBytes(), 10);
        kinesis.closedShards.add(SHARD);
        reader = new KinesisSourceReader<>(() -> new KinesisShardSplitReader(kinesis, CONFIG, context.metricGroup()),
                new KinesisRecordEmitter<>(new RowRecordDeserializer()), context, Set.of("orders"));
        KinesisShardSplit split = new KinesisShardSplit("orders", SHARD, List.of(), StartingPosition.trimHorizon());
        reader.addSplits(List.of(split));
        reader.start();
        pollUntil(() -> reader.getNumberOfCurrentlyAssignedSplits() == 0);
        assertEquals(List.of(), finishedEvents());
        reader.snapshotState(7);
        reader.notifyCheckpointComplete(7);
        assertEquals(List.of(split.splitId()), finishedEvents().get(0).splitIds());
    }

    /**
     * START_OVER: a restored split of a stream created again since the checkpoint is dropped, one of the same stream
     * kept; splits the enumerator hands out after the start are not looked up again.
     */
    @Test
    void restoredShardsOfARecreatedStreamAreDroppedWithStartOver() throws Exception {
        long now = kinesis.streamCreated.toEpochMilli();
        reader = new KinesisSourceReader<>(() -> new KinesisShardSplitReader(kinesis, CONFIG, context.metricGroup()),
                new KinesisRecordEmitter<>(new RowRecordDeserializer()), context, Set.of("orders"),
                new ChildShardsOfFinished(), null, new RecreatedStreams(stream -> {
                    kinesis.streamSummaryCalls++;
                    return now;
                }, KinesisSourceConfig.StreamRecreated.START_OVER));
        KinesisShardSplit old = new KinesisShardSplit("orders", SHARD, List.of(), StartingPosition.afterRecord("7"),
                now - 1000);
        KinesisShardSplit same = new KinesisShardSplit("orders", "shardId-000000000001", List.of(),
                StartingPosition.afterRecord("7"), now);
        reader.addSplits(List.of(old, same));
        reader.start();
        KinesisShardSplit handedOut = new KinesisShardSplit("orders", SHARD, List.of(), StartingPosition.trimHorizon(),
                now);
        reader.addSplits(List.of(handedOut));
        assertEquals(Set.of(same, handedOut), Set.copyOf(reader.snapshotState(1)));
        assertEquals(1, kinesis.streamSummaryCalls, "one lookup, for the restored splits' stream");
    }

    @Test
    void restoredShardsOfRemovedStreamsAreDropped() throws Exception {
        KinesisShardSplit removed = new KinesisShardSplit("payments", SHARD, List.of(), StartingPosition.trimHorizon());
        newReader().addSplits(List.of(removed));
        assertEquals(List.of(), reader.snapshotState(1));
        assertEquals(0, reader.getNumberOfCurrentlyAssignedSplits());
    }

    @Test
    void aRestoredFinishedShardIsReportedAgainWithoutReading() throws Exception {
        KinesisShardSplit finished = new KinesisShardSplit("orders", SHARD, List.of(), StartingPosition.shardEnd());
        newReader().addSplits(List.of(finished));
        List<SourceEvent> events = context.getSentEvents();
        assertEquals(1, events.size());
        assertEquals(List.of(finished.splitId()), ((ShardsFinishedEvent) events.get(0)).splitIds());
        assertEquals(List.of(finished), reader.snapshotState(1));
        assertEquals(0, kinesis.getRecordsRequests.size());
    }

    @Test
    void childrenNamedByAShardsLastEventGoToTheEnumeratorWithItsEnd() throws Exception {
        kinesis.put(SHARD, "pk-a", "a".getBytes(), 10);
        kinesis.closedShards.add(SHARD);
        KinesisShardSplit split = new KinesisShardSplit("orders", SHARD, List.of(), StartingPosition.trimHorizon());
        KinesisShardSplit child = new KinesisShardSplit("orders", "shardId-000000000002", List.of(SHARD),
                StartingPosition.trimHorizon());
        ChildShardsOfFinished children = new ChildShardsOfFinished();
        children.put(split.splitId(), List.of(child)); // as the enhanced fan-out reader does at the shard's end
        reader = new KinesisSourceReader<>(() -> new KinesisShardSplitReader(kinesis, CONFIG, context.metricGroup()),
                new KinesisRecordEmitter<>(new RowRecordDeserializer()), context, Set.of("orders"), children,
                ConsumerArns.fromEnumerator(), null);
        reader.start();
        reader.addSplits(List.of(split));
        pollUntil(() -> !finishedEvents().isEmpty()); // before the first checkpoint: at once (FinishedShards)
        // Flink sends source events serialized: the children must survive it.
        ShardsFinishedEvent event = InstantiationUtil.clone(finishedEvents().get(0));
        assertEquals(List.of(split.splitId()), event.splitIds());
        assertEquals(List.of(child), event.children());
        assertEquals(List.of(child), children.named(split.splitId()), "kept for a report sent again");
        reader.handleSourceEvents(new ShardsFinishedAck(List.of(split.splitId())));
        assertEquals(List.of(), children.named(split.splitId()), "until acknowledged");
    }
    /**
     * The race of the finished-shard handshake: the report of an end is in flight when the enumerator takes its
     * checkpoint, and is lost. The reader keeps the end in its checkpoints and reports it again at the next
     * completed checkpoint, so the children start anyway; the acknowledgement ends the reports.
     */
    @Test
    void aLostEndReportIsSentAgainAndTheChildrenStartAnyway() throws Exception {
        String childShard = "shardId-000000000001";
        kinesis.shards.add(FakeKinesisClient.shard(SHARD, null, null));
        kinesis.shards.add(FakeKinesisClient.shard(childShard, SHARD, null));
        kinesis.put(SHARD, "pk-a", "a".getBytes(), 10);
        kinesis.closedShards.add(SHARD);
        TestingSplitEnumeratorContext<KinesisShardSplit> enumeratorContext = new TestingSplitEnumeratorContext<>(1);
        enumeratorContext.registerReader(0, "localhost");
        KinesisSourceEnumerator enumerator = new KinesisSourceEnumerator(enumeratorContext, List.of("orders"),
                KinesisSourceConfig.of(Map.of("source.init.position", "TRIM_HORIZON")), () -> kinesis,
                KinesisSourceEnumState.empty());
        enumerator.start();
        enumeratorContext.triggerAllActions(); // the first discovery
        List<KinesisShardSplit> handedOut = enumeratorContext.getSplitAssignments().get(0).getAssignedSplits();
        assertEquals(List.of(SHARD), handedOut.stream().map(KinesisShardSplit::shardId).collect(Collectors.toList()));

        newReader();
        reader.snapshotState(1);
        reader.notifyCheckpointComplete(1); // the job checkpoints: ends wait for a checkpoint
        reader.addSplits(handedOut);
        pollUntil(() -> reader.getNumberOfCurrentlyAssignedSplits() == 0);
        reader.snapshotState(2);
        reader.notifyCheckpointComplete(2);
        assertEquals(1, finishedEvents().size(), "reported once checkpoint 2 holds the end");
        // In flight: the enumerator's checkpoint 3 is taken without it, the reader's with it; then it is lost.
        assertEquals(Set.of(), enumerator.snapshotState(3).finished());
        assertEquals(List.of(SHARD), reader.snapshotState(3).stream().map(KinesisShardSplit::shardId)
                .collect(Collectors.toList()), "the reader's checkpoint keeps the unacknowledged end");
        reader.notifyCheckpointComplete(3);
        assertEquals(2, finishedEvents().size(), "reported again");

        enumerator.handleSourceEvent(0, finishedEvents().get(1));
        List<KinesisShardSplit> assigned = enumeratorContext.getSplitAssignments().get(0).getAssignedSplits();
        assertEquals(List.of(SHARD, childShard), assigned.stream().map(KinesisShardSplit::shardId)
                .collect(Collectors.toList()), "the child starts");
        List<SourceEvent> toReader = enumeratorContext.getSentEvents().get(0);
        assertEquals(1, toReader.size());
        reader.handleSourceEvents(toReader.get(0));
        assertEquals(List.of(), reader.snapshotState(4), "acknowledged");
        reader.notifyCheckpointComplete(4);
        assertEquals(2, finishedEvents().size(), "no report after the acknowledgement");
    }
}
