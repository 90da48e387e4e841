package io.aneforge.io;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A response body whose reads give up when no byte arrives for an idle timeout, or when the whole body
 * takes longer than its {@link BodyTimeout} budget (a deadline, optionally extended per byte received: a
 * minimum throughput). {@code java.net.http}'s {@code HttpRequest.timeout} bounds only the wait for the
 * response headers (JDK 17): a server or proxy that sends the headers and then stalls blocks a body read
 * forever, and a job's heartbeats keep its lease alive meanwhile. Every HTTP client here reads bodies
 * through this class.
 *
 * <p>Each read arms an alarm on one shared daemon thread, for the idle timeout or the end of the budget,
 * whichever comes first; when it fires the reading thread is interrupted (the JDK's body stream waits in
 * an interruptible queue, and ignores a close from another thread while waiting) and the stream is closed
 * (which cancels the exchange and unblocks a socket read). The read then throws an
 * {@link HttpTimeoutException} saying which rule cut the body off ("no data from &lt;url&gt; for N s",
 * "&lt;url&gt; did not send its whole answer within N s", "&lt;url&gt; sent only B bytes in N s ..."),
 * and the interrupt the alarm caused is cleared. A read that starts after the budget ran out fails at once,
 * so a server that answers every read quickly but with a byte at a time is cut off too. When the budget
 * ends in the last tenth of a read's idle period, that read is cut off by the idle alarm instead (up to a
 * tenth of the idle timeout after the budget) and reported as a stall, which is what it is.
 */
public final class IdleTimeoutInputStream extends FilterInputStream {

    private static final ScheduledThreadPoolExecutor ALARMS = alarms();

    private enum Rule { IDLE, BUDGET }

    private final BodyTimeout limits;
    private final String what;
    private final long start = System.nanoTime();
    private final Object lock = new Object();
    private Thread reader; // guarded by lock: the thread inside a read, or null
    private long generation; // guarded by lock: which read an alarm belongs to
    private Rule armed; // guarded by lock: the rule the current read's alarm enforces
    private long received; // guarded by lock: bytes read so far
    private Rule broken; // guarded by lock: the rule that cut the body off, or null
    private long brokenAtNanos; // guarded by lock: when, since the headers

    private IdleTimeoutInputStream(InputStream in, BodyTimeout limits, String what) {
        super(Objects.requireNonNull(in, "in"));
        this.limits = Objects.requireNonNull(limits, "limits");
        this.what = what;
    }

    /**
     * Idle timeout only ({@link BodyTimeout#idleOnly}); prefer {@link #wrap(InputStream, BodyTimeout, Object)}.
     *
     * @param what what the body comes from, for the message (usually its URL)
     */
    public static InputStream wrap(InputStream body, Duration idle, Object what) {
        return wrap(body, BodyTimeout.idleOnly(idle), what);
    }

    /** @param what what the body comes from, for the message (usually its URL) */
    public static InputStream wrap(InputStream body, BodyTimeout limits, Object what) {
        return new IdleTimeoutInputStream(body, limits, String.valueOf(what));
    }

    /** A whole (small) body, read with the idle timeout only; prefer {@link #readAll(InputStream, BodyTimeout, Object)}. */
    public static byte[] readAll(InputStream body, Duration idle, Object what) throws IOException {
        return readAll(body, BodyTimeout.idleOnly(idle), what);
    }

    /** A whole (small) body, read within {@code limits}; the stream is closed. */
    public static byte[] readAll(InputStream body, BodyTimeout limits, Object what) throws IOException {
        try (InputStream in = wrap(body, limits, what)) {
            return in.readAllBytes();
        }
    }

    @Override
    public int read() throws IOException {
        long[] alarmAt = new long[1];
        long g = arm(alarmAt);
        ScheduledFuture<?> alarm = ALARMS.schedule(() -> fire(g), alarmAt[0], TimeUnit.NANOSECONDS);
        try {
            int b = in.read();
            counted(b < 0 ? 0 : 1);
            return b;
        } catch (IOException e) {
            throw translate(e);
        } finally {
            disarm(alarm);
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        long[] alarmAt = new long[1];
        long g = arm(alarmAt);
        ScheduledFuture<?> alarm = ALARMS.schedule(() -> fire(g), alarmAt[0], TimeUnit.NANOSECONDS);
        try {
            int n = in.read(b, off, len);
            counted(Math.max(n, 0));
            return n;
        } catch (IOException e) {
            throw translate(e);
        } finally {
            disarm(alarm);
        }
    }

    @Override
    public long skip(long n) throws IOException {
        // FilterInputStream would skip on the underlying stream without an alarm; read instead.
        byte[] buf = new byte[(int) Math.min(Math.max(n, 0), 8192)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    /** Starts a read: fails at once when the body is already over; else says when its alarm is due. */
    private long arm(long[] delayNanos) throws IOException {
        synchronized (lock) {
            if (broken != null) {
                throw timeout(null);
            }
            long elapsed = System.nanoTime() - start;
            long left = limits.budgetNanos(received) - elapsed;
            if (left <= 0) {
                broken = Rule.BUDGET;
                brokenAtNanos = elapsed;
                throw timeout(null);
            }
            long idle = limits.idle().toNanos();
            // A budget that ends within the last tenth of this read's idle period is left to the idle alarm: a
            // read that waits (nearly) the whole idle timeout is a stall and says so, rather than racing the
            // budget (an answer's deadline equals its idle timeout, so the first read would always race it).
            armed = left < idle - idle / 10 ? Rule.BUDGET : Rule.IDLE;
            delayNanos[0] = armed == Rule.BUDGET ? left : idle;
            reader = Thread.currentThread();
            return ++generation;
        }
    }

    private void counted(int bytes) {
        synchronized (lock) {
            received += bytes;
        }
    }

    private void disarm(ScheduledFuture<?> alarm) {
        alarm.cancel(false);
        synchronized (lock) {
            reader = null;
            generation++;
            if (broken != null) {
                Thread.interrupted(); // the alarm's interrupt, not the caller's: clear it
            }
        }
    }

    private void fire(long g) {
        synchronized (lock) {
            if (reader == null || g != generation) {
                return; // that read finished in time
            }
            broken = armed;
            brokenAtNanos = System.nanoTime() - start;
            reader.interrupt();
        }
        try {
            in.close();
        } catch (IOException | RuntimeException ignored) {
            // the reader fails with the timeout either way
        }
    }

    private IOException translate(IOException e) {
        synchronized (lock) {
            return broken != null ? timeout(e) : e;
        }
    }

    /** The message for the rule that cut the body off (caller holds the lock). */
    private HttpTimeoutException timeout(Throwable cause) {
        String message;
        if (broken == Rule.IDLE) {
            message = "no data from " + what + " for " + BodyTimeout.seconds(limits.idle())
                    + " (the server or a proxy stalled mid-response)";
        } else if (limits.minBytesPerSecond() == 0) {
            message = what + " did not send its whole answer within " + BodyTimeout.seconds(limits.deadline())
                    + " (" + received + " bytes arrived; the server or a proxy is stalling or trickling)";
        } else {
            message = what + " sent only " + received + " bytes in "
                    + BodyTimeout.seconds(Duration.ofMillis(brokenAtNanos / 1_000_000))
                    + ", below the minimum of " + BodyTimeout.rate(limits.minBytesPerSecond()) + " after the first "
                    + BodyTimeout.seconds(limits.deadline()) + " (the server, a proxy or the link is too slow;"
                    + " the transfer was cut off)";
        }
        HttpTimeoutException t = new HttpTimeoutException(message);
        if (cause != null) {
            t.initCause(cause);
        }
        return t;
    }

    private static ScheduledThreadPoolExecutor alarms() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "aneforge-body-idle-timeout");
            t.setDaemon(true);
            return t;
        });
        e.setRemoveOnCancelPolicy(true); // one alarm per read: cancelled ones must not pile up
        return e;
    }
}
