package io.github.pyflinkkinesis.sink;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamSummaryRequest;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamSummaryResponse;
import software.amazon.awssdk.services.kinesis.model.HashKeyRange;
import software.amazon.awssdk.services.kinesis.model.LimitExceededException;
import software.amazon.awssdk.services.kinesis.model.ListShardsRequest;
import software.amazon.awssdk.services.kinesis.model.ListShardsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequest;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.SequenceNumberRange;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.StreamDescriptionSummary;

/**
 * A scripted KinesisAsyncClient (PutRecords, ListShards, DescribeStreamSummary) that answers on its own thread,
 * as the SDK does.
 * Per call, {@link #failCall} may fail the whole call; per record, {@link #failRecord} may return an
 * error code. Accepted records are kept in {@link #delivered}, with the shard of {@link #shards} their hash key
 * routes them to (one shard over every hash key unless a test sets others).
 */
final class FakeKinesis implements KinesisAsyncClient {
    /** One PutRecords call as received. */
    static final class Call {
        final String stream;
        final List<PutRecordsRequestEntry> records;
        final long nanos = System.nanoTime();
        /** Calls unanswered when this one came, itself included. */
        int open;

        Call(String stream, List<PutRecordsRequestEntry> records) {
            this.stream = stream;
            this.records = records;
        }

        long bytes() {
            return records.stream()
                    .mapToLong(r -> r.data().asByteArrayUnsafe().length + r.partitionKey().getBytes(StandardCharsets.UTF_8).length)
                    .sum();
        }
    }

    /** A record Kinesis accepted. */
    static final class Delivered {
        final String stream;
        final PutRecordsRequestEntry record;
        final String shardId;

        Delivered(String stream, PutRecordsRequestEntry record, String shardId) {
            this.stream = stream;
            this.record = record;
            this.shardId = shardId;
        }

        String key() {
            return stream + "|" + record.partitionKey() + "|" + record.explicitHashKey() + "|"
                    + Base64.getEncoder().encodeToString(record.data().asByteArrayUnsafe());
        }
    }

    final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
    final List<Delivered> delivered = Collections.synchronizedList(new ArrayList<>());
    volatile Function<Call, Throwable> failCall = call -> null;
    volatile Function<PutRecordsRequestEntry, String> failRecord = record -> null;
    /** The ErrorMessage of a record {@link #failRecord} fails. */
    volatile String recordErrorMessage = "injected";
    volatile long answerDelayMillis;
    /** The open shards ListShards lists and PutRecords routes by. */
    volatile List<ShardMap.Range> shards = List.of(new ShardMap.Range("shardId-000000000000", BigInteger.ZERO,
            BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE)));
    final AtomicInteger listShardsCalls = new AtomicInteger();
    /** How many of the next ListShards calls fail (with a LimitExceededException). */
    final AtomicInteger failingListings = new AtomicInteger();
    /** The {@code MaxRecordSizeInKiB} DescribeStreamSummary reports ({@code null}: none, as before October 2025). */
    volatile Integer maxRecordSizeInKiB;
    final AtomicInteger describeCalls = new AtomicInteger();
    /** The most calls unanswered at once. */
    final AtomicInteger mostOpenCalls = new AtomicInteger();
    private final AtomicInteger openCalls = new AtomicInteger();
    private final AtomicLong sequence = new AtomicLong();
    private final ScheduledExecutorService answers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fake-kinesis");
        t.setDaemon(true);
        return t;
    });

    @Override
    public CompletableFuture<PutRecordsResponse> putRecords(PutRecordsRequest request) {
        Call call = new Call(request.streamName() != null ? request.streamName() : request.streamARN(),
                request.records());
        call.open = openCalls.incrementAndGet();
        calls.add(call);
        mostOpenCalls.accumulateAndGet(call.open, Math::max);
        CompletableFuture<PutRecordsResponse> answer = new CompletableFuture<>();
        answers.schedule(() -> {
            openCalls.decrementAndGet(); // before answering: the writer may send its next call at once
            try {
                Throwable error = failCall.apply(call);
                if (error != null) {
                    answer.completeExceptionally(error);
                    return;
                }
                List<PutRecordsResultEntry> results = new ArrayList<>();
                int failed = 0;
                for (PutRecordsRequestEntry record : call.records) {
                    String code = failRecord.apply(record);
                    if (code == null) {
                        String shardId = route(record);
                        delivered.add(new Delivered(call.stream, record, shardId));
                        results.add(PutRecordsResultEntry.builder().shardId(shardId)
                                .sequenceNumber(Long.toString(sequence.incrementAndGet())).build());
                    } else {
                        failed++;
                        results.add(PutRecordsResultEntry.builder().errorCode(code).errorMessage(recordErrorMessage).build());
                    }
                }
                answer.complete(PutRecordsResponse.builder().failedRecordCount(failed).records(results).build());
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            }
        }, answerDelayMillis, TimeUnit.MILLISECONDS);
        return answer;
    }

    /** The shard Kinesis would put {@code record} on. */
    String route(PutRecordsRequestEntry record) {
        BigInteger hash = record.explicitHashKey() != null ? new BigInteger(record.explicitHashKey())
                : new BigInteger(1, KplAggregate.md5(record.partitionKey().getBytes(StandardCharsets.UTF_8)));
        return shards.stream().filter(s -> s.holds(hash)).findFirst().orElseThrow().shardId;
    }

    @Override
    public CompletableFuture<ListShardsResponse> listShards(ListShardsRequest request) {
        listShardsCalls.incrementAndGet();
        if (failingListings.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return CompletableFuture.failedFuture(LimitExceededException.builder().message("injected")
                    .statusCode(400).build());
        }
        List<Shard> listed = new ArrayList<>();
        for (ShardMap.Range range : shards) {
            listed.add(Shard.builder().shardId(range.shardId)
                    .hashKeyRange(HashKeyRange.builder().startingHashKey(range.start.toString())
                            .endingHashKey(range.end.toString()).build())
                    .sequenceNumberRange(SequenceNumberRange.builder().startingSequenceNumber("0").build())
                    .build());
        }
        return CompletableFuture.supplyAsync(() -> ListShardsResponse.builder().shards(listed).build(), answers);
    }

    @Override
    public CompletableFuture<DescribeStreamSummaryResponse> describeStreamSummary(DescribeStreamSummaryRequest request) {
        describeCalls.incrementAndGet();
        StreamDescriptionSummary summary = StreamDescriptionSummary.builder().streamName(request.streamName())
                .maxRecordSizeInKiB(maxRecordSizeInKiB).build();
        return CompletableFuture.supplyAsync(
                () -> DescribeStreamSummaryResponse.builder().streamDescriptionSummary(summary).build(), answers);
    }

    int sentRecords() {
        synchronized (calls) {
            return calls.stream().mapToInt(c -> c.records.size()).sum();
        }
    }

    @Override
    public String serviceName() {
        return "kinesis";
    }

    @Override
    public void close() {
        answers.shutdownNow();
    }
}
