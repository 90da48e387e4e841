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
 * A response body whose reads give up when no byte arrives for an idle timeout. {@code java.net.http}'s
 * {@code HttpRequest.timeout} bounds only the wait for the response headers (JDK 17): a server or proxy
 * that sends the headers and then stalls blocks a body read forever, and a job's heartbeats keep its lease
 * alive meanwhile. Every HTTP client here reads bodies through this class.
 *
 * <p>Each read arms an alarm on one shared daemon thread; when it fires the reading thread is interrupted
 * (the JDK's body stream waits in an interruptible queue, and ignores a close from another thread while
 * waiting) and the stream is closed (which cancels the exchange and unblocks a socket read). The read then
 * throws an {@link HttpTimeoutException} "no data from &lt;url&gt; for N s", and the interrupt the alarm
 * caused is cleared. A slow but steady body is never cut off: the timeout is per read, not per body.
 */
public final class IdleTimeoutInputStream extends FilterInputStream {

    private static final ScheduledThreadPoolExecutor ALARMS = alarms();

    private final Duration idle;
    private final String what;
    private final Object lock = new Object();
    private Thread reader; // guarded by lock: the thread inside a read, or null
    private long generation; // guarded by lock: which read an alarm belongs to
    private boolean timedOut; // guarded by lock

    private IdleTimeoutInputStream(InputStream in, Duration idle, String what) {
        super(Objects.requireNonNull(in, "in"));
        if (idle == null || idle.isNegative() || idle.isZero()) {
            throw new IllegalArgumentException("idle timeout must be > 0, got " + idle);
        }
        this.idle = idle;
        this.what = what;
    }

    /**
     * @param what what the body comes from, for the message (usually its URL)
     */
    public static InputStream wrap(InputStream body, Duration idle, Object what) {
        return new IdleTimeoutInputStream(body, idle, String.valueOf(what));
    }

    /** A whole (small) body, read with the idle timeout; the stream is closed. */
    public static byte[] readAll(InputStream body, Duration idle, Object what) throws IOException {
        try (InputStream in = wrap(body, idle, what)) {
            return in.readAllBytes();
        }
    }

    @Override
    public int read() throws IOException {
        long g = arm();
        ScheduledFuture<?> alarm = ALARMS.schedule(() -> fire(g), idle.toNanos(), TimeUnit.NANOSECONDS);
        try {
            return in.read();
        } catch (IOException e) {
            throw translate(e);
        } finally {
            disarm(alarm);
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        long g = arm();
        ScheduledFuture<?> alarm = ALARMS.schedule(() -> fire(g), idle.toNanos(), TimeUnit.NANOSECONDS);
        try {
            return in.read(b, off, len);
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

    private long arm() throws IOException {
        synchronized (lock) {
            if (timedOut) {
                throw timeout(null);
            }
            reader = Thread.currentThread();
            return ++generation;
        }
    }

    private void disarm(ScheduledFuture<?> alarm) {
        alarm.cancel(false);
        synchronized (lock) {
            reader = null;
            generation++;
            if (timedOut) {
                Thread.interrupted(); // the alarm's interrupt, not the caller's: clear it
            }
        }
    }

    private void fire(long g) {
        synchronized (lock) {
            if (reader == null || g != generation) {
                return; // that read finished in time
            }
            timedOut = true;
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
            return timedOut ? timeout(e) : e;
        }
    }

    private HttpTimeoutException timeout(Throwable cause) {
        long ms = idle.toMillis();
        HttpTimeoutException t = new HttpTimeoutException("no data from " + what + " for "
                + (ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms") + " (the server or a proxy stalled mid-response)");
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
