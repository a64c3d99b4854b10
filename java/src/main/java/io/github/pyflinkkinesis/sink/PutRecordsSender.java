package io.github.pyflinkkinesis.sink;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.base.sink.writer.ResultHandler;
import org.apache.flink.connector.base.sink.writer.config.AsyncSinkWriterConfiguration;
import org.apache.flink.connector.base.sink.writer.strategy.AIMDScalingStrategy;
import org.apache.flink.connector.base.sink.writer.strategy.CongestionControlRateLimitingStrategy;
import org.apache.flink.metrics.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.aws.retry.ErrorKind;
import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import io.github.pyflinkkinesis.aws.retry.RetryRule;
import io.github.pyflinkkinesis.aws.retry.RetryTracker;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequest;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;

/**
 * What the writer of every Flink line shares: one PutRecords call per stream, of a partial failure only the
 * failed entries retried; throttling, 5xx and network errors retried after the connector's {@link RetryRule}
 * backoff (the call keeps its in-flight slot meanwhile, so a throttled endpoint is not hammered) until the
 * writer has made no progress for {@code sink.max-retry-time}; other errors fail the job naming the stream;
 * records buffered plus in flight kept within {@code sink.requests.max-buffered} (backpressure); oversized
 * records fail the job or are skipped and counted in {@code numOversizedRecordsSkipped}; with
 * {@code sink.aggregation.enabled} each call's records are packed per shard ({@link Aggregator}), a failed
 * aggregate's user records are retried, and those of an aggregate that landed on another shard than packed for
 * (a resharding) which that shard does not hold are written again; with {@code sink.fail-on-throttling} the
 * first throttled record or call fails the job, naming the stream and (for a record) the shard; with {@code sink.record-ttl} a record not
 * written within it since it entered the sink is dropped before its next call, counted in
 * {@code numExpiredRecordsDropped} with a warning naming the stream (with {@code sink.fail-on-error} the job fails
 * instead); with {@code sink.rate-limit} each call waits until the shards it writes to have room
 * ({@link ShardPacer}), keeping its in-flight slot meanwhile.
 */
final class PutRecordsSender {
    private static final Logger LOG = LoggerFactory.getLogger(PutRecordsSender.class);
    static final String OVERSIZED_METRIC = "numOversizedRecordsSkipped";
    static final String EXPIRED_METRIC = "numExpiredRecordsDropped";
    /** The error code of a record or call over its shard's limits: what {@code sink.fail-on-throttling} fails on. */
    private static final String THROTTLED = "ProvisionedThroughputExceededException";

    private final KinesisSinkConfig config;
    private final KinesisAsyncClient client;
    private final RetryTracker retries;
    private final MailboxExecutor mailbox;
    private final Counter oversizedSkipped;
    private final Counter expiredDropped;
    private final Counter sendErrors;
    /** The clock of records' ages ({@link KinesisSinkEntry#enteredAt()}), in milliseconds. */
    private final LongSupplier clock;
    /** Each stream's shards, when aggregating or pacing; {@code null} otherwise. */
    private final ShardMaps maps;
    /** Packs records per shard when {@code sink.aggregation.enabled}; {@code null} otherwise. */
    private final Aggregator aggregator;
    /** Paces calls per shard when {@code sink.rate-limit} is set; {@code null} otherwise. */
    private final ShardPacer pacer;
    /** Records in calls not yet answered; touched by the mailbox thread only. */
    private int inFlightRecords;

    /** A sender measuring records' ages on {@code clock} (milliseconds: the clock that stamped them). */
    PutRecordsSender(WriterInitContext context, KinesisSinkConfig config, KinesisAsyncClient client,
            RetryRule retryRule, LongSupplier clock) {
        this.config = config;
        this.client = client;
        this.retries = retryRule.tracker();
        this.mailbox = context.getMailboxExecutor();
        this.oversizedSkipped = context.metricGroup().counter(OVERSIZED_METRIC);
        this.expiredDropped = context.metricGroup().counter(EXPIRED_METRIC);
        this.sendErrors = context.metricGroup().getNumRecordsSendErrorsCounter();
        this.clock = clock;
        boolean paced = config.rateLimitPercent() != null;
        this.maps = config.aggregationEnabled() || paced ? new ShardMaps(client) : null;
        this.aggregator = config.aggregationEnabled()
                ? new Aggregator(maps, config.aggregationMaxCount(), config.aggregationMaxSize()) : null;
        this.pacer = paced ? new ShardPacer(config.rateLimitPercent(), () -> System.nanoTime() / 1_000_000, maps)
                : null;
    }

    /** The converter of a writer of this sender: stamps entries with its clock, checks {@code limits}. */
    RowEntryConverter converter(RecordSizeLimits limits) {
        return new RowEntryConverter(limits, clock);
    }

    /**
     * The base writer's rate limiter starts at one batch in flight and grows by 10 records per answered call; this
     * one starts at one batch too and grows by a full batch per answered call (so the calls in flight double with
     * every round trip, up to {@code max-inflight}), halving on failures. Starting with one call, not
     * {@code max-inflight}, gets the first records of a backlog out early: an endpoint that serves concurrent calls
     * side by side (kinesis-local) would answer all of a first wave at once, late.
     */
    static AsyncSinkWriterConfiguration writerConfiguration(KinesisSinkConfig config) {
        int batch = config.maxBatchSize();
        int inflight = config.maxInFlightRequests();
        int messages = (int) Math.min(Integer.MAX_VALUE, (long) batch * inflight);
        return AsyncSinkWriterConfiguration.builder()
                .setMaxBatchSize(batch)
                .setMaxBatchSizeInBytes(config.writerBatchBytes())
                .setMaxInFlightRequests(inflight)
                .setMaxBufferedRequests(config.maxBufferedRequests())
                .setMaxTimeInBufferMS(config.maxTimeInBufferMs())
                .setMaxRecordSizeInBytes(config.largestRecordBytes())
                .setRateLimitingStrategy(CongestionControlRateLimitingStrategy.builder()
                        .setMaxInFlightRequests(inflight)
                        .setInitialMaxInFlightMessages(batch)
                        .setScalingStrategy(AIMDScalingStrategy.builder(messages).setIncreaseRate(batch).build())
                        .build())
                .build();
    }

    /** Before a write: the base writer bounds its buffer only; bound buffer + in flight, waiting for answers. */
    void awaitRoom(int buffered) throws InterruptedException {
        while (inFlightRecords > 0 && buffered + inFlightRecords >= config.maxBufferedRequests()) {
            mailbox.yield();
        }
    }

    /** A record over its stream's limit: rethrown, or skipped and counted when {@code sink.skip-oversized-records}. */
    void onOversized(OversizedRecordException e) {
        if (!config.skipOversizedRecords()) {
            throw e;
        }
        oversizedSkipped.inc();
        LOG.warn("Kinesis sink: skipped a record of {} bytes for stream '{}' with partition key '{}': over"
                + " Kinesis' limit of {} bytes ({}; {}=true)", e.sizeInBytes(), e.stream(), e.partitionKey(),
                e.limit(), e.limitSource(), KinesisSinkConfig.SKIP_OVERSIZED);
    }

    /**
     * Sends {@code entries}, all of {@code stream}, in one PutRecords call (aggregated per shard when
     * {@code sink.aggregation.enabled}); answers {@code handler} once.
     */
    void send(String stream, List<KinesisSinkEntry> all, ResultHandler<KinesisSinkEntry> handler) {
        List<KinesisSinkEntry> entries = unexpired(stream, all, handler);
        if (entries == null) {
            return;
        }
        ResultHandler<KinesisSinkEntry> counted = new InFlightHandler(handler, entries.size());
        inFlightRecords += entries.size();
        CompletableFuture<List<Aggregator.Unit>> packed;
        try {
            packed = aggregator == null ? CompletableFuture.completedFuture(Aggregator.plain(entries))
                    : aggregator.pack(stream, entries);
            if (pacer != null) {
                packed = packed.thenCompose(units -> pacer.pace(stream, units));
            }
        } catch (RuntimeException e) {
            packed = CompletableFuture.failedFuture(e);
        }
        packed.whenComplete((units, packError) -> {
            if (packError != null) {
                answer(stream, entries, null, null, packError, counted);
                return;
            }
            long started = System.nanoTime();
            CompletableFuture<PutRecordsResponse> future;
            try {
                future = client.putRecords(request(stream, units));
            } catch (RuntimeException e) {
                future = CompletableFuture.failedFuture(e);
            }
            future.whenComplete((response, error) -> {
                if (pacer != null) {
                    pacer.observe((System.nanoTime() - started) / 1_000_000);
                }
                answer(stream, entries, units, response, error, counted);
            });
        });
    }

    /**
     * {@code entries} less those older than {@code sink.record-ttl}, which are dropped, counted and logged; or
     * {@code null} when nothing is left to send ({@code handler} answered: done, or the job fails with
     * {@code sink.fail-on-error}).
     */
    private List<KinesisSinkEntry> unexpired(String stream, List<KinesisSinkEntry> entries,
            ResultHandler<KinesisSinkEntry> handler) {
        Long ttl = config.recordTtlMs();
        if (ttl == null) {
            return entries;
        }
        long now = clock.getAsLong();
        List<KinesisSinkEntry> live = new ArrayList<>(entries.size());
        for (KinesisSinkEntry entry : entries) {
            if (now - entry.enteredAt() < ttl) {
                live.add(entry);
            }
        }
        int expired = entries.size() - live.size();
        if (expired == 0) {
            return entries;
        }
        String why = expired + " record(s) for stream " + KinesisSinkEntry.quote(stream) + " not written within "
                + KinesisSinkConfig.RECORD_TTL + " (" + ttl + " ms)";
        if (config.failOnError()) {
            handler.completeExceptionally(new KinesisSinkException("Kinesis sink: " + why + " and "
                    + KinesisSinkConfig.FAIL_ON_ERROR + " is true", null));
            return null;
        }
        expiredDropped.inc(expired);
        LOG.warn("Kinesis sink: dropped {}", why);
        if (live.isEmpty()) {
            handler.complete();
            return null;
        }
        return live;
    }

    private static PutRecordsRequest request(String stream, List<Aggregator.Unit> units) {
        List<PutRecordsRequestEntry> records = new ArrayList<>(units.size());
        for (Aggregator.Unit unit : units) {
            records.add(unit.entry);
        }
        PutRecordsRequest.Builder request = PutRecordsRequest.builder().records(records);
        if (stream.startsWith("arn:")) {
            request.streamARN(stream);
        } else {
            request.streamName(stream);
        }
        return request.build();
    }

    private void answer(String stream, List<KinesisSinkEntry> entries, List<Aggregator.Unit> units,
            PutRecordsResponse response, Throwable error, ResultHandler<KinesisSinkEntry> handler) {
        try {
            onAnswer(stream, entries, units, response, error, handler);
        } catch (RuntimeException e) {
            handler.completeExceptionally(new KinesisSinkException(
                    "Kinesis sink: handling the answer of PutRecords to stream '" + stream + "' failed", e));
        }
    }

    private void onAnswer(String stream, List<KinesisSinkEntry> entries, List<Aggregator.Unit> units,
            PutRecordsResponse response, Throwable error, ResultHandler<KinesisSinkEntry> handler) {
        if (error != null) {
            if (config.failOnThrottling()
                    && KinesisErrors.unwrap(error) instanceof ProvisionedThroughputExceededException) {
                handler.completeExceptionally(new KinesisSinkException("Kinesis sink: PutRecords to stream '"
                        + stream + "' was throttled and " + KinesisSinkConfig.FAIL_ON_THROTTLING + " is true: "
                        + KinesisErrors.describe(error), error));
                return;
            }
            if (config.failOnError() || !KinesisErrors.classify(error).retryable()) {
                handler.completeExceptionally(PutRecordsErrors.fatal(stream, error));
                return;
            }
            countSendErrors(entries.size());
            LOG.warn("Kinesis sink: PutRecords of {} records to stream '{}' failed, retrying: {}", entries.size(),
                    stream, KinesisErrors.describe(error));
            retryLater(stream, error, entries, handler);
            return;
        }
        List<PutRecordsResultEntry> results = response.records();
        if (results.size() != units.size()) {
            handler.completeExceptionally(new KinesisSinkException("Kinesis sink: PutRecords to stream '" + stream
                    + "' answered " + results.size() + " results for " + units.size() + " records", null));
            return;
        }
        List<KinesisSinkEntry> failed = new ArrayList<>();
        Map<Aggregator.Unit, String> elsewhere = new LinkedHashMap<>();
        for (int i = 0; i < results.size(); i++) {
            Aggregator.Unit unit = units.get(i);
            String code = results.get(i).errorCode();
            if (code == null) {
                String actual = results.get(i).shardId();
                if (unit.predictedShardId != null && actual != null && !actual.equals(unit.predictedShardId)) {
                    maps.forget(stream); // a resharding its map did not know: listed again before the next call
                    if (unit.aggregated()) {
                        elsewhere.put(unit, actual);
                    }
                }
                continue;
            }
            ErrorKind kind = KinesisErrors.classifyEntry(code);
            if (config.failOnThrottling() && THROTTLED.equals(code)) {
                handler.completeExceptionally(PutRecordsErrors.throttled(stream, unit.entry.partitionKey(),
                        unit.predictedShardId, code, results.get(i).errorMessage()));
                return;
            }
            if (config.failOnError() || !kind.retryable()) {
                handler.completeExceptionally(new KinesisSinkException("Kinesis sink: cannot write a record with"
                        + " partition key '" + unit.entry.partitionKey() + "' to stream '" + stream + "': " + code
                        + ": " + results.get(i).errorMessage()
                        + (config.failOnError() ? " (" + KinesisSinkConfig.FAIL_ON_ERROR + " is true)" : ""), null));
                return;
            }
            failed.addAll(unit.users);
        }
        List<KinesisSinkEntry> unsent = Aggregator.unsent(entries, units);
        if (elsewhere.isEmpty()) {
            settle(stream, entries, failed, unsent, results, handler);
            return;
        }
        aggregator.strays(stream, elsewhere).thenAccept(strays -> {
            LOG.info("Kinesis sink: {} aggregate(s) landed on other shards of stream '{}' than packed for (a"
                    + " resharding); writing {} of their user records again to the shards they hash to now",
                    elsewhere.size(), stream, strays.size());
            unsent.addAll(strays);
            settle(stream, entries, failed, unsent, results, handler);
        }).exceptionally(e -> {
            handler.completeExceptionally(new KinesisSinkException(
                    "Kinesis sink: handling the answer of PutRecords to stream '" + stream + "' failed", e));
            return null;
        });
    }

    /**
     * Answers a call whose records were written but {@code failed} (retried after a backoff) and {@code again}
     * (to be written in a later call at once: left out of the call, or strays of an aggregate after a resharding).
     */
    private void settle(String stream, List<KinesisSinkEntry> entries, List<KinesisSinkEntry> failed,
            List<KinesisSinkEntry> again, List<PutRecordsResultEntry> results, ResultHandler<KinesisSinkEntry> handler) {
        if (failed.isEmpty()) {
            retries.reset();
            if (again.isEmpty()) {
                handler.complete();
            } else {
                handler.retryForEntries(again);
            }
            return;
        }
        if (failed.size() < entries.size()) {
            retries.progressed(System.currentTimeMillis());
        }
        countSendErrors(failed.size());
        LOG.debug("Kinesis sink: {} of {} records to stream '{}' failed, retrying them", failed.size(),
                entries.size(), stream);
        failed.addAll(again);
        retryLater(stream, failedEntryError(failed.size() - again.size(), results), failed, handler);
    }

    /** What a partial failure's last error was, for the message when the writer gives up. */
    private static KinesisSinkException failedEntryError(int failed, List<PutRecordsResultEntry> results) {
        for (PutRecordsResultEntry result : results) {
            if (result.errorCode() != null) {
                return new KinesisSinkException(failed + " records failed, e.g. " + result.errorCode() + ": "
                        + result.errorMessage(), null);
            }
        }
        return new KinesisSinkException(failed + " records failed", null);
    }

    /** Counted on the mailbox thread: Flink's counters are not thread-safe. */
    private void countSendErrors(int records) {
        mailbox.execute(() -> sendErrors.inc(records), "Kinesis sink: count %d failed records", records);
    }

    /**
     * Requeues {@code entries} after a backoff (the call stays in flight until then), or fails the job once the
     * writer has made no progress for longer than the total retry time.
     */
    private void retryLater(String stream, Throwable error, List<KinesisSinkEntry> entries,
            ResultHandler<KinesisSinkEntry> handler) {
        long now = System.currentTimeMillis();
        long delay = retries.onFailure(now);
        if (delay < 0) {
            String call = "PutRecords to stream " + KinesisSinkEntry.quote(stream);
            handler.completeExceptionally(new KinesisSinkException(retries.givingUp(call, error, now), error));
            return;
        }
        CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS, Runnable::run)
                .execute(() -> handler.retryForEntries(entries));
    }

    /** Records in calls not yet answered. */
    int inFlightRecords() {
        return inFlightRecords;
    }

    void close() {
        client.close();
    }

    /**
     * Releases the call's records from the in-flight count (a mail), then passes the answer on. In this order:
     * the base writer's completion is a later mail, so a {@code flush(true)} that sees the call answered also
     * sees the count down.
     */
    private final class InFlightHandler implements ResultHandler<KinesisSinkEntry> {
        private final ResultHandler<KinesisSinkEntry> delegate;
        private final int records;

        InFlightHandler(ResultHandler<KinesisSinkEntry> delegate, int records) {
            this.delegate = delegate;
            this.records = records;
        }

        @Override
        public void complete() {
            release();
            delegate.complete();
        }

        @Override
        public void completeExceptionally(Exception e) {
            release();
            delegate.completeExceptionally(e);
        }

        @Override
        public void retryForEntries(List<KinesisSinkEntry> entries) {
            release();
            delegate.retryForEntries(entries);
        }

        private void release() {
            mailbox.execute(() -> inFlightRecords -= records, "Kinesis sink: %d records answered", records);
        }
    }
}
