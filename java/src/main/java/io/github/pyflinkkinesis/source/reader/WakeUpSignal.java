package io.github.pyflinkkinesis.source.reader;

/** Lets a fetcher wait a little for work, and another thread end the wait early. */
final class WakeUpSignal {
    private boolean signalled;

    /** Ends the current or the next wait. */
    synchronized void signal() {
        signalled = true;
        notifyAll();
    }

    /** Waits up to {@code millis} unless signalled since the last wait; clears the signal. */
    synchronized void await(long millis) {
        if (!signalled && millis > 0) {
            try {
                wait(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        signalled = false;
    }
}
