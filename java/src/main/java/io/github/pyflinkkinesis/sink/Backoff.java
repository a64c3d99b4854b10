package io.github.pyflinkkinesis.sink;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Exponential backoff with jitter over a writer's consecutive failed calls; a successful call resets
 * it. Thread-safe: responses arrive on the SDK's threads.
 */
final class Backoff {
    private final long initialMillis;
    private final long maxMillis;
    private final AtomicInteger failures = new AtomicInteger();

    Backoff(long initialMillis, long maxMillis) {
        this.initialMillis = initialMillis;
        this.maxMillis = maxMillis;
    }

    /** Counts a failure and returns how long to wait before retrying: half to all of the current step. */
    long nextDelayMillis() {
        int n = failures.incrementAndGet();
        long step = Math.min(maxMillis, initialMillis << Math.min(n - 1, 20));
        return step / 2 + ThreadLocalRandom.current().nextLong(step / 2 + 1);
    }

    void reset() {
        failures.set(0);
    }

    int failures() {
        return failures.get();
    }
}
