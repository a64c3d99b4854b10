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
 * a batch is sent as one PutRecords call per stream (by the {@link PutRecordsSender} all lines share) and
 * answered to the base writer once every call has answered. The base writer does not expose its buffer's
 * size either: this writer counts it for the buffered-plus-in-flight bound.
 */
final class KinesisSinkWriter extends AsyncSinkWriter<Row, KinesisSinkEntry> {
    private final PutRecordsSender sender;
    private final MailboxExecutor mailbox;
    /** Records in the base writer's buffer; touched by the mailbox thread only. */
    private int buffered;

    KinesisSinkWriter(WriterInitContext context, KinesisSinkConfig config, KinesisAsyncClient client,
            RetryRule retryRule, Collection<BufferedRequestState<KinesisSinkEntry>> states) {
        super(new RowEntryConverter(), context, PutRecordsSender.writerConfiguration(config), states);
        this.sender = new PutRecordsSender(context, config, client, retryRule);
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
        JoinedHandler joined = new JoinedHandler(handler, byStream.size());
        byStream.forEach((stream, part) -> sender.send(stream, part, joined));
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
                int count = retries.size();
                delegate.retryForEntries(retries);
                mailbox.execute(() -> buffered += count, "Kinesis sink: %d records back in the buffer", count);
            }
        }
    }
}
