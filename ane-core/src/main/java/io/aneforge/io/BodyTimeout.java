package io.aneforge.io;

import java.time.Duration;

/**
 * How long an HTTP response body may take once its headers arrived, enforced by
 * {@link IdleTimeoutInputStream}. Two rules, both always on:
 *
 * <ul>
 *   <li><b>idle</b>: no byte for {@code idle} fails the body (a server or proxy that stalled);
 *   <li><b>budget</b>: the body fails once the time since its headers exceeds {@code deadline} plus one
 *       second for every {@code minBytesPerSecond} bytes received so far. With {@code minBytesPerSecond}
 *       0 that is a plain deadline for the whole body; with a rate it is a minimum throughput: after the
 *       first {@code deadline} the body must have averaged at least that rate since it began, so a body of
 *       N bytes takes at most {@code deadline + N / minBytesPerSecond}, whatever its size and whether or not
 *       it was announced. Without it, a server that sends one byte just inside every idle period is never
 *       cut off.
 * </ul>
 *
 * A {@code null} deadline turns the budget off ({@link #idleOnly}: what the {@code Duration} overloads of
 * {@link IdleTimeoutInputStream} do, for callers not yet moved to this record).
 *
 * @param idle longest wait for the next bytes (&gt; 0)
 * @param deadline time for the whole body before the per-byte allowance; null for none
 * @param minBytesPerSecond the allowance: one more second per this many bytes received; 0 for none
 */
public record BodyTimeout(Duration idle, Duration deadline, long minBytesPerSecond) {

    public BodyTimeout {
        if (idle == null || idle.isNegative() || idle.isZero()) {
            throw new IllegalArgumentException("idle timeout must be > 0, got " + idle);
        }
        if (deadline != null && (deadline.isNegative() || deadline.isZero())) {
            throw new IllegalArgumentException("body deadline must be > 0, got " + deadline);
        }
        if (minBytesPerSecond < 0) {
            throw new IllegalArgumentException("minimum throughput must be >= 0 bytes/s, got " + minBytesPerSecond);
        }
        if (deadline == null && minBytesPerSecond > 0) {
            throw new IllegalArgumentException("a minimum throughput needs a deadline (its grace period)");
        }
    }

    /**
     * A small answer (JSON): no gap longer than {@code timeout}, and the whole body within {@code timeout}
     * after its headers.
     */
    public static BodyTimeout answer(Duration timeout) {
        return new BodyTimeout(timeout, timeout, 0);
    }

    /**
     * A download of any size: no gap longer than {@code timeout}, and after the first {@code timeout} an
     * average of at least {@code minBytesPerSecond} since the body began.
     */
    public static BodyTimeout download(Duration timeout, long minBytesPerSecond) {
        if (minBytesPerSecond <= 0) {
            throw new IllegalArgumentException("a download's minimum throughput must be > 0 bytes/s, got "
                    + minBytesPerSecond);
        }
        return new BodyTimeout(timeout, timeout, minBytesPerSecond);
    }

    /** Only the idle rule: a slow but steady body, or a byte just inside every idle period, is never cut off. */
    public static BodyTimeout idleOnly(Duration idle) {
        return new BodyTimeout(idle, null, 0);
    }

    /** Nanoseconds since the headers after which a body that has received {@code bytes} fails; MAX_VALUE for none. */
    long budgetNanos(long bytes) {
        if (deadline == null) {
            return Long.MAX_VALUE;
        }
        double nanos = deadline.toNanos() + (minBytesPerSecond == 0 ? 0 : bytes * 1e9 / minBytesPerSecond);
        return nanos >= Long.MAX_VALUE / 2.0 ? Long.MAX_VALUE / 2 : (long) nanos;
    }

    /** "64 KiB/s", "512 bytes/s": for messages. */
    static String rate(long bytesPerSecond) {
        if (bytesPerSecond >= 1 << 20 && bytesPerSecond % (1 << 20) == 0) {
            return bytesPerSecond / (1 << 20) + " MiB/s";
        }
        if (bytesPerSecond >= 1 << 10 && bytesPerSecond % (1 << 10) == 0) {
            return bytesPerSecond / (1 << 10) + " KiB/s";
        }
        return bytesPerSecond + " bytes/s";
    }

    static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }
}
