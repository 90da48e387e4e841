package io.aneforge.kernels;

/**
 * The one place where numeric code goes multithreaded. A loop over {@code [0, n)} is cut
 * into at most {@link #threads()} contiguous ranges; the caller runs ranges itself and waits
 * for the others ({@link KernelPool}: its workers spin briefly before they park, because
 * waking a parked thread cost more than many loops take).
 *
 * <p>Thread count: system property {@code aneforge.threads}, else the number of processors;
 * {@link #setThreads(int)} changes it at run time (tests and benchmarks). Spin time: system
 * property {@code aneforge.kernel.spinMicros} (default {@value #DEFAULT_SPIN_MICROS}; 0 parks
 * idle workers at once, for hosts where a spinning core takes time from other processes).
 * Calls from inside a range on a pool worker run sequentially, so kernels may nest without
 * deadlocking the pool. Which thread runs a range never changes what it computes: kernels
 * give the same bits whatever the thread count (their tests check it).
 */
public final class Parallel {

    /** Body of a parallel loop: handles indices {@code [from, to)}. Must be thread-safe across ranges. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /**
     * Spin time of an idle worker or a waiting caller before it parks. A prediction's loops come back to back
     * (tens of microseconds apart), so a worker that spins this long sees the next one without being woken.
     */
    static final long DEFAULT_SPIN_MICROS = 200;

    private static final long SPIN_NANOS = 1000L * Math.max(0L,
            Long.getLong("aneforge.kernel.spinMicros", DEFAULT_SPIN_MICROS));

    private static volatile int threads = Math.max(1,
            Integer.getInteger("aneforge.threads", Runtime.getRuntime().availableProcessors()));
    private static volatile KernelPool pool;

    private Parallel() {
    }

    public static int threads() {
        return threads;
    }

    /** Sets the number of threads used by every kernel (1 = fully sequential). */
    public static synchronized void setThreads(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("thread count must be >= 1, got " + count);
        }
        if (count != threads) {
            // The next loop gets a pool of the new size. The old pool is retired, not stopped: loops on other
            // threads may still be inside it (conversions side by side, a model loaded with another thread count);
            // each caller runs its own loop's unclaimed ranges, so none waits for a worker that has gone, and the
            // old workers end once they find no work.
            KernelPool old = pool;
            pool = null;
            if (old != null) {
                old.retire();
            }
        }
        threads = count;
    }

    private static KernelPool pool() {
        KernelPool p = pool;
        if (p != null) {
            return p;
        }
        synchronized (Parallel.class) {
            if (pool == null) {
                pool = new KernelPool(threads, SPIN_NANOS);
            }
            return pool;
        }
    }

    /**
     * Runs {@code body} over {@code [0, n)}, split so that no range is shorter than
     * {@code minGrain} (small loops stay on the calling thread).
     */
    public static void forRange(int n, int minGrain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int t = threads;
        int chunks = (int) Math.min(t, Math.max(1, (long) n / Math.max(1, minGrain)));
        if (chunks <= 1 || Thread.currentThread() instanceof KernelPool.Worker) {
            body.run(0, n);
            return;
        }
        pool().run(n, chunks, body);
    }
}
