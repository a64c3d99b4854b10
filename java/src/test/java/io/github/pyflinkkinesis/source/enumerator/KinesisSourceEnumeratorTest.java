package io.github.pyflinkkinesis.source.enumerator;

import static io.github.pyflinkkinesis.source.FakeKinesisClient.shard;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.flink.connector.testutils.source.reader.TestingSplitEnumeratorContext;
import org.apache.flink.util.FlinkRuntimeException;
import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.source.FakeKinesisClient;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;
import software.amazon.awssdk.services.kinesis.model.ListShardsRequest;

class KinesisSourceEnumeratorTest {
    private static final String STREAM = "orders";
    private static final long NOW = 1_700_000_000_000L;

    private final FakeKinesisClient kinesis = new FakeKinesisClient();

    private KinesisSourceEnumerator enumerator(TestingSplitEnumeratorContext<KinesisShardSplit> context,
                                               KinesisSourceEnumState state, String position, List<String> streams) {
        return enumerator(context, state, streams, Map.of(
                "source.init.position", position, "source.init.timestamp", "1600000000.5"));
    }

    private KinesisSourceEnumerator enumerator(TestingSplitEnumeratorContext<KinesisShardSplit> context,
            KinesisSourceEnumState state, List<String> streams, Map<String, String> properties) {
        KinesisSourceConfig config = KinesisSourceConfig.of(properties);
        KinesisSourceEnumerator enumerator =
                new KinesisSourceEnumerator(context, streams, config, () -> kinesis, state, () -> NOW);
        enumerator.start();
        return enumerator;
    }

    private KinesisSourceEnumerator enumerator(TestingSplitEnumeratorContext<KinesisShardSplit> context) {
        return enumerator(context, KinesisSourceEnumState.empty(), "TRIM_HORIZON", List.of(STREAM));
    }

    /** An enumerator for {@code context} that has listed the stream's shards once. */
    private KinesisSourceEnumerator discovered(TestingSplitEnumeratorContext<KinesisShardSplit> context) throws Exception {
        KinesisSourceEnumerator enumerator = enumerator(context);
        discover(enumerator);
        return enumerator;
    }

    /** An enumerator for {@code context} that has listed shardId-0, shardId-1 and shardId-2, their merge. */
    private KinesisSourceEnumerator mergeOfZeroAndOneDiscovered(TestingSplitEnumeratorContext<KinesisShardSplit> context)
            throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        kinesis.shards.add(shard("shardId-1", null, null));
        kinesis.shards.add(shard("shardId-2", "shardId-0", "shardId-1"));
        return discovered(context);
    }

    private static TestingSplitEnumeratorContext<KinesisShardSplit> context(int parallelism, int... registered) {
        TestingSplitEnumeratorContext<KinesisShardSplit> context = new TestingSplitEnumeratorContext<>(parallelism);
        for (int reader : registered) {
            context.registerReader(reader, "localhost");
        }
        return context;
    }

    private static void discover(KinesisSourceEnumerator enumerator) throws Exception {
        enumerator.onDiscovered(enumerator.discover(), null);
    }

    /** Shard ids assigned to {@code reader} so far, in order. */
    private static List<String> assigned(TestingSplitEnumeratorContext<KinesisShardSplit> context, int reader) {
        var state = context.getSplitAssignments().get(reader);
        return state == null ? List.of()
                : state.getAssignedSplits().stream().map(KinesisShardSplit::shardId).collect(Collectors.toList());
    }

    private static void finish(KinesisSourceEnumerator enumerator, int reader, String... shardIds) {
        List<String> ids = new ArrayList<>();
        for (String shardId : shardIds) {
            ids.add(KinesisShardSplit.splitId(STREAM, shardId));
        }
        enumerator.handleSourceEvent(reader, new ShardsFinishedEvent(ids));
    }

    @Test
    void splitChildrenWaitUntilTheirParentIsReadToTheEnd() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        kinesis.shards.add(shard("shardId-1", "shardId-0", null));
        kinesis.shards.add(shard("shardId-2", "shardId-0", null));
        var context = context(2, 0, 1);
        KinesisSourceEnumerator enumerator = discovered(context);
        assertEquals(List.of("shardId-0"), assigned(context, 0));
        assertEquals(List.of(), assigned(context, 1));

        finish(enumerator, 0, "shardId-0");
        assertEquals(List.of("shardId-0", "shardId-1"), assigned(context, 0));
        assertEquals(List.of("shardId-2"), assigned(context, 1));
    }

    @Test
    void mergedChildWaitsForBothParents() throws Exception {
        var context = context(2, 0, 1);
        KinesisSourceEnumerator enumerator = mergeOfZeroAndOneDiscovered(context);
        assertEquals(List.of("shardId-0"), assigned(context, 0));
        assertEquals(List.of("shardId-1"), assigned(context, 1));

        finish(enumerator, 0, "shardId-0");
        assertEquals(List.of("shardId-0"), assigned(context, 0));
        assertEquals(List.of("shardId-1"), assigned(context, 1));

        finish(enumerator, 1, "shardId-1");
        assertEquals(List.of("shardId-0", "shardId-2"), assigned(context, 0));
    }

    @Test
    void childrenDiscoveredLaterWaitForTheirParentToo() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        var context = context(1, 0);
        KinesisSourceEnumerator enumerator = discovered(context);
        kinesis.shards.add(shard("shardId-1", "shardId-0", null));
        discover(enumerator);
        assertEquals(List.of("shardId-0"), assigned(context, 0));
        finish(enumerator, 0, "shardId-0");
        assertEquals(List.of("shardId-0", "shardId-1"), assigned(context, 0));
    }

    @Test
    void shardsAreSpreadEvenlyOverReaders() throws Exception {
        for (int i = 0; i < 6; i++) {
            kinesis.shards.add(shard("shardId-" + i, null, null));
        }
        var context = context(3, 0, 1, 2);
        discover(enumerator(context));
        assertEquals(List.of("shardId-0", "shardId-3"), assigned(context, 0));
        assertEquals(List.of("shardId-1", "shardId-4"), assigned(context, 1));
        assertEquals(List.of("shardId-2", "shardId-5"), assigned(context, 2));
    }

    @Test
    void readersThatRegisterLateGetTheirShare() throws Exception {
        for (int i = 0; i < 4; i++) {
            kinesis.shards.add(shard("shardId-" + i, null, null));
        }
        var context = context(2, 0);
        KinesisSourceEnumerator enumerator = discovered(context);
        assertEquals(List.of("shardId-0", "shardId-2"), assigned(context, 0));
        assertEquals(List.of(), assigned(context, 1));

        context.registerReader(1, "localhost");
        enumerator.addReader(1);
        assertEquals(List.of("shardId-1", "shardId-3"), assigned(context, 1));
        assertEquals(List.of("shardId-0", "shardId-2"), assigned(context, 0));
    }

    @Test
    void splitsAddedBackAreHandedOutAgainWithTheirPositions() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        kinesis.shards.add(shard("shardId-1", null, null));
        var context = context(2, 0, 1);
        KinesisSourceEnumerator enumerator = discovered(context);
        KinesisShardSplit back = context.getSplitAssignments().get(1).getAssignedSplits().get(0)
                .withStartingPosition(StartingPosition.afterSubRecord("17", 2L));

        enumerator.addSplitsBack(List.of(back), 1);
        List<KinesisShardSplit> reader1 = context.getSplitAssignments().get(1).getAssignedSplits();
        assertEquals(2, reader1.size());
        assertEquals(back, reader1.get(1));
        assertEquals(List.of("shardId-0"), assigned(context, 0));
    }

    @Test
    void aShardGivenBackAfterItsReaderReportedItFinishedIsReadAgainBeforeItsChildren() throws Exception {
        var context = context(2, 0, 1);
        KinesisSourceEnumerator enumerator = mergeOfZeroAndOneDiscovered(context);
        KinesisShardSplit zero = context.getSplitAssignments().get(0).getAssignedSplits().get(0);
        finish(enumerator, 0, "shardId-0");
        enumerator.addSplitsBack(List.of(zero), 0);
        assertEquals(List.of("shardId-0", "shardId-0"), assigned(context, 0), "read again from its position");
        finish(enumerator, 1, "shardId-1");
        assertEquals(List.of("shardId-1"), assigned(context, 1), "the child waits for the re-read");
        assertEquals(List.of("shardId-0", "shardId-0"), assigned(context, 0));
        finish(enumerator, 0, "shardId-0");
        assertEquals(List.of("shardId-0", "shardId-0", "shardId-2"), assigned(context, 0));
    }

    /**
     * Region failover of the reader of a merge parent after the merged child went to the other reader:
     * Flink gives back the failed reader's splits assigned after its last checkpoint; the parent it
     * reported finished is not read again, the shard it was still reading is.
     */
    @Test
    void aFinishedParentWhoseChildWasHandedOutIsNotReadAgainWhenItsReaderFails() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        kinesis.shards.add(shard("shardId-1", null, null));
        kinesis.shards.add(shard("shardId-2", null, null));
        var context = context(2, 0, 1);
        KinesisSourceEnumerator enumerator = discovered(context);
        assertEquals(List.of("shardId-0", "shardId-2"), assigned(context, 0));
        List<KinesisShardSplit> givenBack = List.copyOf(context.getSplitAssignments().get(0).getAssignedSplits());
        kinesis.shards.add(shard("shardId-3", "shardId-1", "shardId-2"));
        discover(enumerator);
        finish(enumerator, 1, "shardId-1");
        finish(enumerator, 0, "shardId-2");
        assertEquals(List.of("shardId-1", "shardId-3"), assigned(context, 1), "the child went to the other reader");

        enumerator.addSplitsBack(givenBack, 0);
        assertEquals(List.of("shardId-0", "shardId-2", "shardId-0"), assigned(context, 0),
                "the open shard is read again, the finished parent is not");
        finish(enumerator, 0, "shardId-2");
        assertEquals(List.of("shardId-0", "shardId-2", "shardId-0"), assigned(context, 0),
                "a late report of the parent changes nothing");
        assertEquals(List.of(), enumerator.snapshotState(3).unassigned());
        assertEquals(List.of("shardId-1", "shardId-3"), assigned(context, 1));
    }

    @Test
    void finishedParentsAreKeptInTheCheckpoint() throws Exception {
        var context = context(1, 0);
        KinesisSourceEnumerator enumerator = mergeOfZeroAndOneDiscovered(context);
        finish(enumerator, 0, "shardId-0");
        KinesisSourceEnumStateSerializer serializer = new KinesisSourceEnumStateSerializer();
        byte[] checkpoint = serializer.serialize(enumerator.snapshotState(1));

        var restoredContext = context(1, 0);
        KinesisSourceEnumerator restored = enumerator(restoredContext,
                serializer.deserialize(serializer.getVersion(), checkpoint), "TRIM_HORIZON", List.of(STREAM));
        restored.addReader(0);
        assertEquals(List.of(), assigned(restoredContext, 0), "the merge child still waits for shardId-1");
        finish(restored, 0, "shardId-1");
        assertEquals(List.of("shardId-2"), assigned(restoredContext, 0));
    }

    @Test
    void childOfATrimmedParentIsNotHeldBack() throws Exception {
        kinesis.shards.add(shard("shardId-5", "shardId-1", null));
        var context = context(1, 0);
        discover(enumerator(context));
        assertEquals(List.of("shardId-5"), assigned(context, 0));
    }

    @Test
    void freshLatestIsPinnedToTheFirstDiscoveryAndLaterShardsStartAtTrimHorizon() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        var context = context(1, 0);
        KinesisSourceEnumerator enumerator = enumerator(context, KinesisSourceEnumState.empty(), "LATEST", List.of(STREAM));
        discover(enumerator);
        kinesis.shards.add(shard("shardId-1", null, null));
        discover(enumerator);

        List<KinesisShardSplit> splits = context.getSplitAssignments().get(0).getAssignedSplits();
        assertEquals(StartingPosition.atTimestamp(NOW), splits.get(0).startingPosition());
        assertEquals(StartingPosition.trimHorizon(), splits.get(1).startingPosition());
        ListShardsRequest second = kinesis.listShardsRequests.get(1);
        assertEquals("shardId-0", second.exclusiveStartShardId(), "discovery lists after the last seen shard");
        assertNull(kinesis.listShardsRequests.get(0).exclusiveStartShardId());
    }

    @Test
    void atTimestampStartsAtTheConfiguredTime() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        var context = context(1, 0);
        discover(enumerator(context, KinesisSourceEnumState.empty(), "AT_TIMESTAMP", List.of(STREAM)));
        assertEquals(StartingPosition.atTimestamp(1_600_000_000_500L),
                context.getSplitAssignments().get(0).getAssignedSplits().get(0).startingPosition());
    }

    @Test
    void initialPositionAppliesToAFreshStartOnly() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        kinesis.shards.add(shard("shardId-1", null, null));
        KinesisSourceEnumState restoredState = new KinesisSourceEnumState(Map.of(STREAM, "shardId-0"), List.of(),
                Map.of(KinesisShardSplit.splitId(STREAM, "shardId-0"), 0), Set.of());
        var context = context(1, 0);
        discover(enumerator(context, restoredState, "LATEST", List.of(STREAM)));
        List<KinesisShardSplit> splits = context.getSplitAssignments().get(0).getAssignedSplits();
        assertEquals(1, splits.size(), "shardId-0 is being read by a restored reader");
        assertEquals("shardId-1", splits.get(0).shardId());
        assertEquals(StartingPosition.trimHorizon(), splits.get(0).startingPosition());
    }

    @Test
    void streamsRemovedFromTheSourceAreForgottenAndRenamingToAnArnKeepsTheState() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        kinesis.shards.add(shard("shardId-1", null, null));
        KinesisSourceEnumState restoredState = new KinesisSourceEnumState(
                Map.of(STREAM, "shardId-0", "payments", "shardId-3"),
                List.of(new KinesisShardSplit("payments", "shardId-3", List.of(), StartingPosition.trimHorizon())),
                Map.of(KinesisShardSplit.splitId(STREAM, "shardId-0"), 0, "payments/shardId-2", 0), Set.of());
        var context = context(1, 0);
        KinesisSourceEnumerator enumerator = enumerator(context, restoredState, "LATEST",
                List.of("arn:aws:kinesis:us-east-1:000000000000:stream/" + STREAM));
        discover(enumerator);
        assertEquals("shardId-0", kinesis.listShardsRequests.get(0).exclusiveStartShardId());
        List<KinesisShardSplit> splits = context.getSplitAssignments().get(0).getAssignedSplits();
        assertEquals(List.of("orders/shardId-1"), splits.stream().map(KinesisShardSplit::splitId).collect(Collectors.toList()));
        assertEquals(StartingPosition.trimHorizon(), splits.get(0).startingPosition());
        KinesisSourceEnumState state = enumerator.snapshotState(2);
        assertEquals(Set.of(STREAM), state.lastSeenShardIds().keySet());
        assertEquals(Set.of("orders/shardId-0", "orders/shardId-1"), state.assigned().keySet());
    }

    @Test
    void everyListShardsPageIsRead() throws Exception {
        for (int i = 0; i < 5; i++) {
            kinesis.shards.add(shard("shardId-" + i, null, null));
        }
        kinesis.pageSize = 2;
        var context = context(1, 0);
        discover(enumerator(context));
        assertEquals(5, assigned(context, 0).size());
        assertEquals(3, kinesis.listShardsRequests.size());
        ListShardsRequest next = kinesis.listShardsRequests.get(1);
        assertTrue(next.nextToken() != null && next.streamName() == null && next.exclusiveStartShardId() == null);
    }

    @Test
    void severalStreamsAreRead() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        var context = context(2, 0, 1);
        discover(enumerator(context, KinesisSourceEnumState.empty(), "TRIM_HORIZON",
                List.of(STREAM, "arn:aws:kinesis:us-east-1:000000000000:stream/payments")));
        List<String> ids = new ArrayList<>();
        context.getSplitAssignments().values().forEach(s -> s.getAssignedSplits().forEach(split -> ids.add(split.splitId())));
        ids.sort(null);
        assertEquals(List.of("orders/shardId-0", "payments/shardId-0"), ids);
    }

    @Test
    void throttledListShardsIsRetried() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        kinesis.listShardsErrors.add(FakeKinesisClient.throttled());
        kinesis.listShardsErrors.add(FakeKinesisClient.internalFailure());
        var context = context(1, 0);
        discover(enumerator(context));
        assertEquals(List.of("shardId-0"), assigned(context, 0));
        assertEquals(3, kinesis.listShardsRequests.size());
    }

    @Test
    void listShardsFailingLongerThanTheTotalRetryTimeFailsNamingTheCallAndLastError() {
        for (int i = 0; i < 1000; i++) {
            kinesis.listShardsErrors.add(FakeKinesisClient.internalFailure());
        }
        KinesisSourceEnumerator enumerator = enumerator(context(1, 0), KinesisSourceEnumState.empty(), List.of(STREAM),
                Map.of("source.init.position", "TRIM_HORIZON", "source.max-retry-time", "400 ms"));
        long start = System.nanoTime();
        FlinkRuntimeException error = assertThrows(FlinkRuntimeException.class, enumerator::discover);
        assertTrue((System.nanoTime() - start) / 1_000_000 >= 400, "retried for the total retry time");
        assertTrue(kinesis.listShardsRequests.size() > 2, "attempts: " + kinesis.listShardsRequests.size());
        assertTrue(error.getMessage().startsWith("Kinesis ListShards for stream 'orders' failed for ")
                && error.getMessage().contains("longer than source.max-retry-time (0.4 s); last error: InternalFailure"),
                error.getMessage());
    }

    @Test
    void missingStreamFailsNamingIt() throws Exception {
        kinesis.listShardsErrors.add(FakeKinesisClient.notFound());
        KinesisSourceEnumerator enumerator = enumerator(context(1, 0));
        FlinkRuntimeException error = assertThrows(FlinkRuntimeException.class, enumerator::discover);
        assertTrue(error.getMessage().contains("'orders'") && error.getMessage().contains("ResourceNotFoundException"),
                error.getMessage());
    }

    @Test
    void closeClosesTheClient() throws Exception {
        enumerator(context(1, 0)).close();
        assertTrue(kinesis.closed);
    }

    // --- enhanced fan-out ---------------------------------------------------------------------------

    private KinesisSourceEnumerator efoEnumerator(TestingSplitEnumeratorContext<KinesisShardSplit> context,
                                                  String lifecycle) {
        KinesisSourceConfig config = KinesisSourceConfig.of(Map.of("source.init.position", "TRIM_HORIZON",
                "source.reader.type", "EFO", "source.efo.consumer.name", "app", "source.efo.lifecycle", lifecycle));
        KinesisSourceEnumerator enumerator = new KinesisSourceEnumerator(context, List.of(STREAM), config,
                () -> kinesis, KinesisSourceEnumState.empty(), () -> NOW);
        enumerator.start();
        return enumerator;
    }

    @Test
    void jobManagedConsumerIsActiveBeforeShardsAreHandedOutAndDeregisteredOnClose() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        var context = context(1, 0);
        KinesisSourceEnumerator enumerator = efoEnumerator(context, "JOB_MANAGED");
        assertTrue(kinesis.consumers.isEmpty());
        discover(enumerator);
        assertEquals(List.of("shardId-0"), assigned(context, 0));
        int registered = kinesis.consumerCalls.indexOf("Register app");
        assertTrue(registered >= 0 && kinesis.listShardsRequests.size() == 1, kinesis.consumerCalls.toString());
        assertEquals("ACTIVE", kinesis.consumers.values().iterator().next().consumerStatusAsString());
        enumerator.close();
        assertTrue(kinesis.consumers.isEmpty(), "deregistered when the job ended");
        assertTrue(kinesis.closed);
    }

    @Test
    void selfManagedConsumerMissingFailsDiscoveryAndNothingIsHandedOut() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        var context = context(1, 0);
        KinesisSourceEnumerator enumerator = efoEnumerator(context, "SELF_MANAGED");
        FlinkRuntimeException error = assertThrows(FlinkRuntimeException.class, enumerator::discover);
        assertTrue(error.getMessage().contains("consumer 'app' of stream 'orders' is not registered"), error.getMessage());
        assertEquals(List.of(), assigned(context, 0));
        assertTrue(kinesis.listShardsRequests.isEmpty());
    }

    @Test
    void childrenNamedByAShardEndAreHandedOutAfterTheParentAndNotAgainWhenListed() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        var context = context(2, 0, 1);
        KinesisSourceEnumerator enumerator = discovered(context);
        List<KinesisShardSplit> children = List.of(
                new KinesisShardSplit(STREAM, "shardId-1", List.of("shardId-0"), StartingPosition.trimHorizon()),
                new KinesisShardSplit(STREAM, "shardId-2", List.of("shardId-0"), StartingPosition.trimHorizon()));
        enumerator.handleSourceEvent(0, new ShardsFinishedEvent(List.of(KinesisShardSplit.splitId(STREAM, "shardId-0")),
                children));
        assertEquals(List.of("shardId-0", "shardId-1"), assigned(context, 0));
        assertEquals(List.of("shardId-2"), assigned(context, 1));

        finish(enumerator, 0, "shardId-1"); // read to its end before discovery listed it
        kinesis.shards.add(shard("shardId-1", "shardId-0", null));
        kinesis.shards.add(shard("shardId-2", "shardId-0", null));
        discover(enumerator);
        assertEquals(List.of("shardId-0", "shardId-1"), assigned(context, 0), "a finished child is not read again");
        assertEquals(List.of("shardId-2"), assigned(context, 1));
        assertEquals("shardId-2", enumerator.snapshotState(1).lastSeenShardIds().get(STREAM));
    }
    @Test
    void theConsumersArnGoesToTheReadersBeforeTheirShardsAndAgainAfterALookupTheyAskedFor() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        var context = context(1, 0);
        KinesisSourceEnumerator enumerator = efoEnumerator(context, "JOB_MANAGED");
        discover(enumerator);
        String arn = FakeKinesisClient.streamArn(STREAM) + "/consumer/app:1";
        assertEquals(List.of(ConsumerArnsEvent.arns(Map.of(STREAM, arn)).toString()), sentTo(context, 0));
        enumerator.addReader(0); // a reader that registers (again) gets what is known
        assertEquals(2, sentTo(context, 0).size());

        kinesis.consumers.clear(); // deregistered behind the job's back: a reader's subscription finds it missing
        enumerator.handleSourceEvent(0, ConsumerArnsEvent.lookups(List.of(STREAM)));
        context.triggerAllActions(); // the discovery it started
        assertEquals(3, sentTo(context, 0).size(), "looked up (registered again), sent again");
        assertEquals(2, kinesis.consumerCalls.stream().filter(c -> c.equals("Register app")).count());
    }

    @Test
    void aConfiguredConsumerArnIsNeitherLookedUpNorRegistered() throws Exception {
        kinesis.shards.add(shard("shardId-0", null, null));
        var context = context(1, 0);
        KinesisSourceConfig config = KinesisSourceConfig.of(Map.of("source.init.position", "TRIM_HORIZON",
                "source.reader.type", "EFO", "source.efo.consumer.arn", FakeKinesisClient.streamArn(STREAM) + "/consumer/app:7"));
        KinesisSourceEnumerator enumerator = new KinesisSourceEnumerator(context, List.of(STREAM), config,
                () -> kinesis, KinesisSourceEnumState.empty(), () -> NOW);
        enumerator.start();
        discover(enumerator);
        assertEquals(List.of("shardId-0"), assigned(context, 0));
        assertEquals(List.of("DescribeStreamSummary " + STREAM), kinesis.consumerCalls,
                "only the stream's creation time is looked up");
        assertEquals(List.of(), sentTo(context, 0), "the readers have it from the configuration");
        enumerator.close();
    }

    private static List<String> sentTo(TestingSplitEnumeratorContext<KinesisShardSplit> context, int reader) {
        return context.getSentEvents().getOrDefault(reader, List.of()).stream()
                .filter(e -> e instanceof ConsumerArnsEvent).map(Object::toString).collect(Collectors.toList());
    }

    /** A restored state of stream orders created at {@code created}: shardId-0 finished, shardId-1 at reader 0. */
    private static KinesisSourceEnumState restoredState(long created) {
        return new KinesisSourceEnumState(Map.of(STREAM, "shardId-1"), List.of(), Map.of(STREAM + "/shardId-1", 0),
                Set.of(STREAM + "/shardId-0"), Map.of(STREAM, created));
    }

    private KinesisSourceEnumerator restored(TestingSplitEnumeratorContext<KinesisShardSplit> context, long created,
                                             String policy) {
        kinesis.shards.add(shard("shardId-0", null, null));
        kinesis.shards.add(shard("shardId-1", "shardId-0", null));
        return enumerator(context, restoredState(created), List.of(STREAM), Map.of(
                "source.init.position", "AT_TIMESTAMP", "source.init.timestamp", "1600000000.5",
                "source.stream-recreated", policy));
    }

    @Test
    void aRestoreOfTheSameStreamGoesOn() throws Exception {
        var context = context(1, 0);
        KinesisSourceEnumerator enumerator = restored(context, kinesis.streamCreated.toEpochMilli(), "FAIL");
        discover(enumerator);
        discover(enumerator);
        assertEquals(List.of(), assigned(context, 0));
        assertEquals("shardId-1", kinesis.listShardsRequests.get(0).exclusiveStartShardId());
        assertEquals(1, kinesis.streamSummaryCalls, "the creation time is looked up once per start");
        KinesisSourceEnumState state = enumerator.snapshotState(1);
        assertEquals(Map.of(STREAM + "/shardId-1", 0), state.assigned());
        assertEquals(Map.of(STREAM, "shardId-1"), state.lastSeenShardIds());
    }

    @Test
    void aRecreatedStreamFailsWithOneLine() {
        var context = context(1, 0);
        KinesisSourceEnumerator enumerator = restored(context, 1_500_000_000_000L, "FAIL");
        FlinkRuntimeException error = assertThrows(FlinkRuntimeException.class, () -> discover(enumerator));
        String message = error.getMessage();
        assertTrue(message.startsWith("Kinesis stream 'orders' was deleted and created again")
                && message.contains("2017-07-14T02:40:00Z") && message.contains("2020-09-13T12:26:40Z"), message);
        assertTrue(!message.contains("\n"), message);
        assertEquals(List.of(), assigned(context, 0));
    }

    @Test
    void startOverDropsTheOldShardsAndReadsTheNewStreamFromTheInitialPosition() throws Exception {
        var context = context(1, 0);
        KinesisSourceEnumerator enumerator = restored(context, 1_500_000_000_000L, "START_OVER");
        discover(enumerator);
        assertNull(kinesis.listShardsRequests.get(0).exclusiveStartShardId(), "the new stream is listed from its start");
        List<KinesisShardSplit> splits = context.getSplitAssignments().get(0).getAssignedSplits();
        assertEquals(List.of("shardId-0"), assigned(context, 0));
        assertEquals(StartingPosition.atTimestamp(1_600_000_000_500L), splits.get(0).startingPosition());
        assertEquals(kinesis.streamCreated.toEpochMilli(), splits.get(0).streamCreationMillis());
        KinesisSourceEnumState state = enumerator.snapshotState(1);
        assertEquals(Map.of(STREAM + "/shardId-0", 0), state.assigned());
        assertEquals(Set.of(), state.finished());
        assertEquals(Map.of(STREAM, kinesis.streamCreated.toEpochMilli()), state.streamCreationMillis());
    }
}
