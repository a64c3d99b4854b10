package io.github.pyflinkkinesis.source.reader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import io.github.pyflinkkinesis.source.FakeKinesisClient;
import io.github.pyflinkkinesis.source.FakeSdkClient;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.consumer.ConsumerArns;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.ChildShard;
import software.amazon.awssdk.services.kinesis.model.HashKeyRange;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEvent;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEventStream;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardRequest;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardResponse;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardResponseHandler;

/**
 * The enhanced fan-out reader against a scripted async client: each SubscribeToShard call is a
 * {@link Call} whose events, end or error the test sends, as the SDK's threads would.
 */
class FanOutShardSplitReaderTest {
    private static final String SHARD = "shardId-000000000007";

    private final FakeKinesisClient kinesis = new FakeKinesisClient();
    private final ScriptedAsyncClient async = new ScriptedAsyncClient();
    private final ChildShardsOfFinished children = new ChildShardsOfFinished();
    private static final String CONSUMER_ARN = FakeKinesisClient.streamArn("orders") + "/consumer/app:1";
    private final ConsumerArns arns = ConsumerArns.fromEnumerator();
    private long now = 1_000_000;
    /** Keys added to the reader's configuration. */
    private final Map<String, String> keys = new HashMap<>();

    /** One SubscribeToShard call. */
    static final class Call {
        final SubscribeToShardRequest request;
        final SubscribeToShardResponseHandler handler;
        final CompletableFuture<Void> future = new CompletableFuture<>();
        Subscriber<? super SubscribeToShardEventStream> subscriber;
        long requested;
        boolean cancelled;

        Call(SubscribeToShardRequest request, SubscribeToShardResponseHandler handler) {
            this.request = request;
            this.handler = handler;
        }

        void emit(SubscribeToShardEvent event) {
            assertTrue(requested > 0, "the reader asked for the event");
            requested--;
            subscriber.onNext(event);
        }

        void end() {
            subscriber.onComplete();
            handler.complete();
            future.complete(null);
        }

        void fail(Throwable error) {
            subscriber.onError(error);
            handler.exceptionOccurred(error);
            future.completeExceptionally(error);
        }
    }

    /** Answers each SubscribeToShard with a {@link Call}, as the SDK does: a response, then an event stream. */
    static final class ScriptedAsyncClient extends FakeSdkClient implements KinesisAsyncClient {
        final List<Call> calls = new ArrayList<>();

        Call last() {
            return calls.get(calls.size() - 1);
        }

        @Override
        public CompletableFuture<Void> subscribeToShard(SubscribeToShardRequest request,
                                                        SubscribeToShardResponseHandler handler) {
            Call call = new Call(request, handler);
            calls.add(call);
            handler.responseReceived(SubscribeToShardResponse.builder().build());
            handler.onEventStream(SdkPublisher.adapt(subscriber -> {
                call.subscriber = subscriber;
                subscriber.onSubscribe(new Subscription() {
                    @Override
                    public void request(long n) {
                        call.requested += n;
                    }

                    @Override
                    public void cancel() {
                        call.cancelled = true;
                    }
                });
            }));
            return call.future;
        }
    }

    private FanOutShardSplitReader reader(KinesisShardSplit... splits) {
        arns.update(Map.of("orders", CONSUMER_ARN)); // as the enumerator hands it over
        return readerWithoutConsumer(splits);
    }

    private FanOutShardSplitReader readerWithoutConsumer(KinesisShardSplit... splits) {
        keys.putAll(Map.of("source.reader.type", "EFO", "source.efo.consumer.name", "app",
                "source.efo.subscription.timeout", "30 s"));
        KinesisSourceConfig config = KinesisSourceConfig.of(keys);
        FanOutShardSplitReader reader = new FanOutShardSplitReader(async, kinesis, arns, config,
                new UnregisteredMetricsGroup(), children, null, () -> now);
        reader.handleSplitsChanges(new SplitsAddition<>(List.of(splits)));
        return reader;
    }

    /** An HTTP 400 answer with this error code. */
    private static AwsServiceException serviceError(String code, String message) {
        return AwsServiceException.builder().statusCode(400)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(message).build()).build();
    }

    private static KinesisShardSplit split(StartingPosition position) {
        return new KinesisShardSplit("orders", SHARD, List.of(), position);
    }

    /** What one fetch returned. */
    private static final class Batch {
        final List<KinesisRecord> records = new ArrayList<>();
        final Set<String> finished = new LinkedHashSet<>();

        List<String> data() {
            List<String> data = new ArrayList<>();
            records.forEach(r -> data.add(new String(r.data())));
            return data;
        }
    }

    private static Batch fetch(FanOutShardSplitReader reader) throws IOException {
        reader.wakeUp();
        RecordsWithSplitIds<KinesisRecord> fetched = reader.fetch();
        Batch batch = new Batch();
        while (fetched.nextSplit() != null) {
            KinesisRecord record;
            while ((record = fetched.nextRecordFromSplit()) != null) {
                batch.records.add(record);
            }
        }
        batch.finished.addAll(fetched.finishedSplits());
        return batch;
    }

    private static Record record(String sequence, byte[] data) {
        return Record.builder().sequenceNumber(sequence).partitionKey("pk").data(SdkBytes.fromByteArray(data))
                .approximateArrivalTimestamp(Instant.ofEpochMilli(5_000)).build();
    }

    private static SubscribeToShardEvent event(String continuation, Record... records) {
        return SubscribeToShardEvent.builder().records(records).continuationSequenceNumber(continuation)
                .millisBehindLatest(0L).build();
    }

    /** A reader of one split from TRIM_HORIZON that has fetched once: its subscription is open. */
    private FanOutShardSplitReader subscribedFromTrimHorizon() throws Exception {
        FanOutShardSplitReader reader = reader(split(StartingPosition.trimHorizon()));
        fetch(reader);
        return reader;
    }

    @Test
    void subscribesWithTheConsumerFromTheSplitsPositionAndEmitsEachEventsRecords() throws Exception {
        FanOutShardSplitReader reader = subscribedFromTrimHorizon();
        Call call = async.last();
        assertEquals("arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/app:1", call.request.consumerARN());
        assertEquals(SHARD, call.request.shardId());
        assertEquals(ShardIteratorType.TRIM_HORIZON, call.request.startingPosition().type());

        call.emit(event("2", record("1", "a".getBytes()), record("2", "b".getBytes())));
        Batch batch = fetch(reader);
        assertEquals(List.of("a", "b"), batch.data());
        assertEquals(List.of("1", "2"), List.of(batch.records.get(0).sequenceNumber(), batch.records.get(1).sequenceNumber()));
        assertTrue(call.requested >= 1, "one more event requested after one was taken");
    }

    @Test
    void aSubscriptionThatEndsIsRenewedAtOnceAfterTheLastRecordFetched() throws Exception {
        FanOutShardSplitReader reader = subscribedFromTrimHorizon();
        async.last().emit(event("3", record("3", "c".getBytes())));
        fetch(reader);
        async.last().end(); // the service ends every subscription after 5 minutes
        fetch(reader);
        fetch(reader);
        assertEquals(2, async.calls.size());
        assertEquals(ShardIteratorType.AFTER_SEQUENCE_NUMBER, async.last().request.startingPosition().type());
        assertEquals("3", async.last().request.startingPosition().sequenceNumber());
    }

    @Test
    void aShardWithEventsDoesNotHoldBackAnothersRenewal() throws Exception {
        KinesisShardSplit busy = new KinesisShardSplit("orders", "shardId-000000000001", List.of(),
                StartingPosition.trimHorizon());
        FanOutShardSplitReader reader = reader(split(StartingPosition.trimHorizon()), busy);
        fetch(reader);
        assertEquals(2, async.calls.size());
        Call ended = async.calls.get(0).request.shardId().equals(SHARD) ? async.calls.get(0) : async.calls.get(1);
        Call busyCall = ended == async.calls.get(0) ? async.calls.get(1) : async.calls.get(0);
        ended.end();
        busyCall.emit(event("1", record("1", "b1".getBytes())));
        assertEquals(List.of("b1"), fetch(reader).data());
        assertEquals(3, async.calls.size(), "the ended subscription was renewed in the same fetch");
        assertEquals(SHARD, async.last().request.shardId());
    }

    @Test
    void aBrokenSubscriptionIsRenewedFromItsPositionAfterABackoff() throws Exception {
        FanOutShardSplitReader reader = reader(split(StartingPosition.afterRecord("4")));
        fetch(reader);
        assertEquals(ShardIteratorType.AFTER_SEQUENCE_NUMBER, async.last().request.startingPosition().type());
        async.last().emit(event("5", record("5", "e".getBytes())));
        fetch(reader);
        async.last().fail(new IOException("connection reset"));
        fetch(reader);
        fetch(reader);
        assertEquals(1, async.calls.size(), "not before the backoff");
        now += 10_000;
        fetch(reader);
        assertEquals(2, async.calls.size());
        assertEquals("5", async.last().request.startingPosition().sequenceNumber());
    }

    @Test
    void aPartlyEmittedAggregateResumesAtItsRecordAndSkipsWhatWasEmitted() throws Exception {
        FanOutShardSplitReader reader = reader(split(StartingPosition.afterSubRecord("9", 1L)));
        fetch(reader);
        assertEquals(ShardIteratorType.AT_SEQUENCE_NUMBER, async.last().request.startingPosition().type());
        assertEquals("9", async.last().request.startingPosition().sequenceNumber());
        async.last().emit(event("9", record("9", ReaderTestData.aggregate("x0", "x1", "x2", "x3"))));
        Batch batch = fetch(reader);
        assertEquals(List.of("x2", "x3"), batch.data());
        assertEquals(2L, batch.records.get(0).subSequenceNumber());
        assertTrue(batch.records.get(1).endOfRecord());
    }

    @Test
    void theShardsLastEventFinishesTheSplitAndNamesItsChildren() throws Exception {
        KinesisShardSplit split = split(StartingPosition.trimHorizon());
        FanOutShardSplitReader reader = reader(split);
        fetch(reader);
        ChildShard child = ChildShard.builder().shardId("shardId-000000000009").parentShards(SHARD)
                .hashKeyRange(HashKeyRange.builder().startingHashKey("0").endingHashKey("1").build()).build();
        async.last().emit(SubscribeToShardEvent.builder().records(record("7", "z".getBytes()))
                .continuationSequenceNumber(null).childShards(child).millisBehindLatest(0L).build());
        Batch batch = fetch(reader);
        assertEquals(List.of("z"), batch.data());
        assertEquals(Set.of(split.splitId()), batch.finished);
        assertTrue(async.last().cancelled, "the subscription was closed");
        List<KinesisShardSplit> named = children.named(split.splitId());
        assertEquals(1, named.size());
        assertEquals("shardId-000000000009", named.get(0).shardId());
        assertEquals(List.of(SHARD), named.get(0).parentShardIds());
        assertEquals(StartingPosition.trimHorizon(), named.get(0).startingPosition());
        fetch(reader);
        assertEquals(1, async.calls.size(), "a finished shard is not subscribed again");
    }

    @Test
    void aSubscriptionWithoutAnEventWithinTheTimeoutIsRenewed() throws Exception {
        FanOutShardSplitReader reader = subscribedFromTrimHorizon();
        now += 30_001;
        fetch(reader);
        assertTrue(async.calls.get(0).cancelled);
        now += 10_000;
        fetch(reader);
        assertEquals(2, async.calls.size());
    }

    @Test
    void aFatalErrorFailsNamingStreamShardAndConsumer() throws Exception {
        FanOutShardSplitReader reader = subscribedFromTrimHorizon();
        async.last().fail(serviceError("AccessDeniedException", "no"));
        IOException error = assertThrows(IOException.class, () -> fetch(reader));
        assertEquals("Kinesis SubscribeToShard for stream 'orders' shard " + SHARD + " (enhanced fan-out consumer "
                + "'app') failed: AccessDeniedException (HTTP 400): no", error.getMessage());
    }

    @Test
    void brokenSubscriptionsFailTheReaderOnceTheyWentOnLongerThanTheTotalRetryTime() throws Exception {
        keys.put("source.max-retry-time", "1 min");
        FanOutShardSplitReader reader = subscribedFromTrimHorizon();
        IOException error = null;
        for (int attempt = 0; attempt < 10 && error == null; attempt++) {
            async.last().fail(new IOException("connection reset"));
            try {
                fetch(reader);
                now += 20_000; // past any backoff (at most 5 s)
                fetch(reader);
            } catch (IOException e) {
                error = e;
            }
        }
        assertNotNull(error, "the reader gave up");
        assertEquals("Kinesis SubscribeToShard for stream 'orders' shard " + SHARD + " (enhanced fan-out consumer "
                + "'app') failed for 80 s (5 attempts), longer than source.max-retry-time (60 s); last error: "
                + "IOException: connection reset", error.getMessage());
    }

    @Test
    void anAtTimestampPastTheServiceClockIsSubscribedAtLatestThenTriedAgain() throws Exception {
        FanOutShardSplitReader reader = reader(split(StartingPosition.atTimestamp(now + 3_600_000)));
        fetch(reader);
        assertEquals(ShardIteratorType.AT_TIMESTAMP, async.last().request.startingPosition().type());
        async.last().fail(serviceError("InvalidArgumentException", "any words"));
        fetch(reader);
        assertEquals(2, async.calls.size(), "at once, without a backoff");
        assertEquals(ShardIteratorType.LATEST, async.last().request.startingPosition().type());
        async.last().end(); // nothing read yet: the date is tried again (records may exist after it by then)
        fetch(reader);
        assertEquals(ShardIteratorType.AT_TIMESTAMP, async.last().request.startingPosition().type());
    }

    @Test
    void anInvalidArgumentForAnotherPositionFailsTheReader() throws Exception {
        FanOutShardSplitReader reader = subscribedFromTrimHorizon();
        async.last().fail(serviceError("InvalidArgumentException", "bad"));
        IOException error = assertThrows(IOException.class, () -> fetch(reader));
        assertTrue(error.getMessage().endsWith("failed: InvalidArgumentException (HTTP 400): bad"), error.getMessage());
    }

    @Test
    void subscribesOnceTheEnumeratorHandedOverTheConsumersArn() throws Exception {
        FanOutShardSplitReader reader = readerWithoutConsumer(split(StartingPosition.trimHorizon()));
        fetch(reader);
        assertTrue(async.calls.isEmpty());
        arns.update(Map.of("orders", CONSUMER_ARN));
        now += FanOutShardSplitReader.CONSUMER_POLL_MS;
        fetch(reader);
        assertEquals(1, async.calls.size());
        assertEquals(CONSUMER_ARN, async.last().request.consumerARN());
        assertEquals(List.of(), kinesis.consumerCalls, "the reader never looks the consumer up");
    }

    /**
     * Issue 23: DescribeStreamConsumer is down, and a subscription finds its consumer missing (registered again).
     * The fetcher asks for a new lookup and goes on: records of the shard already subscribed keep arriving; the
     * other shard subscribes again with the ARN the enumerator hands over.
     */
    @Test
    void recordsOfSubscribedShardsKeepArrivingWhileDescribeStreamConsumerIsDown() throws Exception {
        for (int i = 0; i < 1000; i++) {
            kinesis.describeConsumerErrors.add(FakeKinesisClient.internalFailure());
        }
        String otherShard = "shardId-000000000008";
        kinesis.shards.add(FakeKinesisClient.shard(SHARD, null, null));
        kinesis.shards.add(FakeKinesisClient.shard(otherShard, null, null));
        FanOutShardSplitReader reader = reader(split(StartingPosition.trimHorizon()),
                new KinesisShardSplit("orders", otherShard, List.of(), StartingPosition.trimHorizon()));
        fetch(reader);
        Call reading = async.calls.get(0);
        Call missing = async.calls.get(1);
        assertEquals(otherShard, missing.request.shardId());

        missing.fail(serviceError("ResourceNotFoundException", "consumer not found"));
        reading.emit(event("1", record("1", "a".getBytes())));
        assertEquals(List.of("a"), fetch(reader).data());
        assertEquals(List.of("orders"), arns.takeLookups(), "the enumerator is asked to look the consumer up");
        now += 10_000; // past the backoff: the other shard waits for the new ARN
        reading.emit(event("2", record("2", "b".getBytes())));
        assertEquals(List.of("b"), fetch(reader).data());
        assertEquals(2, async.calls.size());

        arns.update(Map.of("orders", CONSUMER_ARN + "2"));
        now += FanOutShardSplitReader.CONSUMER_POLL_MS;
        fetch(reader);
        assertEquals(3, async.calls.size());
        assertEquals(CONSUMER_ARN + "2", async.last().request.consumerARN());
        assertEquals(List.of(), kinesis.consumerCalls, "no DescribeStreamConsumer on the fetcher thread");
    }

    @Test
    void closeClosesSubscriptionsAndClients() throws Exception {
        FanOutShardSplitReader reader = subscribedFromTrimHorizon();
        reader.close();
        assertTrue(async.last().cancelled && async.closed && kinesis.closed);
    }
}
