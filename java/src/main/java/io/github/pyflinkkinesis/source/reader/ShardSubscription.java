package io.github.pyflinkkinesis.source.reader;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongSupplier;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEvent;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEventStream;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardRequest;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardResponse;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardResponseHandler;

/**
 * One SubscribeToShard call: its events are queued here by the SDK's threads and taken by the
 * fetcher thread. Flow control keeps at most {@link #EVENTS_REQUESTED} events queued: one more is
 * requested each time the fetcher takes one. The subscription ends after 5 minutes (the service's
 * limit), at the shard's end, on an error, or when closed; {@link #isDone()} tells, {@link #error()}
 * says why.
 */
final class ShardSubscription implements SubscribeToShardResponseHandler {
    /** Events requested ahead of the fetcher. */
    static final int EVENTS_REQUESTED = 2;

    private final Runnable onSignal;
    private final LongSupplier clock;
    private final long startedAtMillis;
    private final ConcurrentLinkedQueue<SubscribeToShardEvent> events = new ConcurrentLinkedQueue<>();
    private volatile Subscription upstream;
    private volatile boolean closed;
    private volatile boolean done;
    private volatile Throwable error;
    private volatile long lastEventAtMillis = -1;

    /**
     * @param onSignal called (on an SDK thread) when an event arrives or the subscription ends
     * @param clock epoch ms, for the subscription timeout
     */
    ShardSubscription(Runnable onSignal, LongSupplier clock) {
        this.onSignal = onSignal;
        this.clock = clock;
        this.startedAtMillis = clock.getAsLong();
    }

    /** Makes the call; the events and the end arrive on the SDK's threads. */
    void start(KinesisAsyncClient client, SubscribeToShardRequest request) {
        CompletableFuture<Void> call;
        try {
            call = client.subscribeToShard(request, this);
        } catch (RuntimeException e) {
            end(e);
            return;
        }
        call.whenComplete((ignored, failure) -> end(failure));
    }

    /** The next queued event, or null; takes it off the queue and asks for one more. */
    SubscribeToShardEvent poll() {
        SubscribeToShardEvent event = events.poll();
        Subscription current = upstream;
        if (event != null && current != null && !closed) {
            current.request(1);
        }
        return event;
    }

    boolean hasEvent() {
        return !events.isEmpty();
    }

    /** True once the subscription ended; events may still be queued ({@link #hasEvent()}). */
    boolean isDone() {
        return done;
    }

    /** Why it ended: null for a normal end (expired or shard end), else the error. */
    Throwable error() {
        return error;
    }

    /** When the last event arrived (epoch ms), or when the call was made if none did. */
    long lastActivityMillis() {
        return lastEventAtMillis < 0 ? startedAtMillis : lastEventAtMillis;
    }

    boolean receivedEvents() {
        return lastEventAtMillis >= 0;
    }

    /** Ends the subscription: cancelling the event stream resets its HTTP/2 stream, releasing the shard's lease. */
    void close() {
        closed = true;
        Subscription current = upstream;
        if (current != null) {
            current.cancel();
        }
        events.clear();
        done = true;
    }

    @Override
    public void responseReceived(SubscribeToShardResponse response) {
        // Nothing to do: events follow.
    }

    @Override
    public void onEventStream(SdkPublisher<SubscribeToShardEventStream> publisher) {
        publisher.subscribe(new Subscriber<SubscribeToShardEventStream>() {
            @Override
            public void onSubscribe(Subscription subscription) {
                upstream = subscription;
                if (closed) {
                    subscription.cancel();
                } else {
                    subscription.request(EVENTS_REQUESTED);
                }
            }

            @Override
            public void onNext(SubscribeToShardEventStream item) {
                if (item instanceof SubscribeToShardEvent && !closed) {
                    lastEventAtMillis = clock.getAsLong();
                    events.add((SubscribeToShardEvent) item);
                    onSignal.run();
                } else if (!closed && upstream != null) {
                    upstream.request(1); // not an event of records: ask for the next
                }
            }

            @Override
            public void onError(Throwable t) {
                end(t);
            }

            @Override
            public void onComplete() {
                end(null);
            }
        });
    }

    @Override
    public void exceptionOccurred(Throwable throwable) {
        end(throwable);
    }

    @Override
    public void complete() {
        end(null);
    }

    private void end(Throwable failure) {
        if (done) {
            return;
        }
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (error == null && !closed) {
            error = cause;
        }
        done = true;
        onSignal.run();
    }
}
