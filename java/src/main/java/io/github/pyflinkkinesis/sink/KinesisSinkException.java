package io.github.pyflinkkinesis.sink;

/** A failure the sink cannot retry; it fails the job, and its message names the stream. */
public final class KinesisSinkException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public KinesisSinkException(String message, Throwable cause) {
        super(message, cause);
    }
}
