package io.github.pyflinkkinesis.sink;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.base.sink.writer.AsyncSinkWriter;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.ResultHandler;
import org.apache.flink.types.Row;

import io.github.pyflinkkinesis.aws.retry.RetryRule;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;

/**
 * The Flink 1.20 writer. 1.20's {@link AsyncSinkWriter} has no pluggable buffer: its batches mix streams, so
 * a batch is sent as PutRecords calls per stream of at most {@code sink.flush-buffer.size} each, a larger record
 * alone (the base writer's batches may be larger: they must fit the largest record), by the
 * {@link PutRecordsSender} all lines share, and answered to the base writer once every call has answered. The
 * base writer does not expose its buffer's size either: this writer counts it for the buffered-plus-in-flight
 * bound. Records are checked against their stream's own size limit ({@link RecordSizeLimits}) as they come in
 * and stamped with the processing time (for {@code sink.record-ttl}).
 */
final class KinesisSinkWriter extends AsyncSinkWriter<Row, KinesisSinkEntry> {
    private final PutRecordsSender sender;
    private final MailboxExecutor mailbox;
    private final long maxCallBytes;
    /** Records in the base writer's buffer; touched by the mailbox thread only. */
    private int buffered;

    KinesisSinkWriter(WriterInitContext context, KinesisSinkConfig config, KinesisAsyncClient client,
            RetryRule retryRule, Collection<BufferedRequestState<KinesisSinkEntry>> states) {
        this(context, config, client, states, new PutRecordsSender(context, config, client, retryRule,
                context.getProcessingTimeService()::getCurrentProcessingTime));
    }

    private KinesisSinkWriter(WriterInitContext context, KinesisSinkConfig config, KinesisAsyncClient client,
            Collection<BufferedRequestState<KinesisSinkEntry>> states, PutRecordsSender sender) {
        super(sender.converter(new RecordSizeLimits(client, config.maxRecordSize())), context,
                PutRecordsSender.writerConfiguration(config), states);
        this.sender = sender;
        this.maxCallBytes = config.maxBatchSizeInBytes();
        this.mailbox = context.getMailboxExecutor();
        for (BufferedRequestState<KinesisSinkEntry> state : states) {
            buffered += state.getBufferedRequestEntries().size();
        }
    }

    @Override
    public void write(Row element, Context context) throws IOException, InterruptedException {
        sender.awaitRoom(buffered);
        try {
            buffered++; // before the base write, which may send the batch this record completes
            super.write(element, context);
        } catch (OversizedRecordException e) {
            buffered--;
            sender.onOversized(e);
        }
    }

    @Override
    protected void submitRequestEntries(List<KinesisSinkEntry> entries, ResultHandler<KinesisSinkEntry> handler) {
        buffered -= entries.size();
        Map<String, List<KinesisSinkEntry>> byStream = new LinkedHashMap<>();
        for (KinesisSinkEntry entry : entries) {
            byStream.computeIfAbsent(entry.stream(), s -> new ArrayList<>()).add(entry);
        }
        List<List<KinesisSinkEntry>> calls = new ArrayList<>();
        byStream.values().forEach(part -> calls.addAll(cut(part)));
        JoinedHandler joined = new JoinedHandler(handler, calls.size());
        calls.forEach(call -> sender.send(call.get(0).stream(), call, joined));
    }

    /** {@code entries} in calls of at most {@code sink.flush-buffer.size} bytes, a larger record alone. */
    private List<List<KinesisSinkEntry>> cut(List<KinesisSinkEntry> entries) {
        List<List<KinesisSinkEntry>> calls = new ArrayList<>();
        List<KinesisSinkEntry> call = new ArrayList<>();
        long bytes = 0;
        for (KinesisSinkEntry entry : entries) {
            if (!call.isEmpty() && bytes + entry.sizeInBytes() > maxCallBytes) {
                calls.add(call);
                call = new ArrayList<>();
                bytes = 0;
            }
            call.add(entry);
            bytes += entry.sizeInBytes();
        }
        calls.add(call);
        return calls;
    }

    /** Records buffered or in calls not yet answered. */
    @VisibleForTesting
    int outstandingRecords() {
        return buffered + sender.inFlightRecords();
    }

    @Override
    protected long getSizeInBytes(KinesisSinkEntry entry) {
        return entry.sizeInBytes();
    }

    @Override
    public void close() {
        sender.close();
    }

    /**
     * Answers the base writer once for the calls of one batch: the first fatal error, else the entries to
     * retry of every call, else success. Calls answer on the SDK's threads, hence the lock.
     */
    private final class JoinedHandler implements ResultHandler<KinesisSinkEntry> {
        private final ResultHandler<KinesisSinkEntry> delegate;
        private final List<KinesisSinkEntry> retries = new ArrayList<>();
        private int pending;
        private Exception error;

        JoinedHandler(ResultHandler<KinesisSinkEntry> delegate, int calls) {
            this.delegate = delegate;
            this.pending = calls;
        }

        @Override
        public void complete() {
            answered(null, null);
        }

        @Override
        public void completeExceptionally(Exception e) {
            answered(e, null);
        }

        @Override
        public void retryForEntries(List<KinesisSinkEntry> entries) {
            answered(null, entries);
        }

        private void answered(Exception e, List<KinesisSinkEntry> toRetry) {
            synchronized (this) {
                if (e != null && error == null) {
                    error = e;
                }
                if (toRetry != null) {
                    retries.addAll(toRetry);
                }
                if (--pending > 0) {
                    return;
                }
            }
            if (error != null) {
                delegate.completeExceptionally(error);
            } else if (retries.isEmpty()) {
                delegate.complete();
            } else {
                // Counted first: the base writer puts them back with a later mail, and may send them again
                // before a mail queued after its own runs.
                int count = retries.size();
                mailbox.execute(() -> buffered += count, "Kinesis sink: %d records back in the buffer", count);
                delegate.retryForEntries(retries);
            }
        }
    }
}
