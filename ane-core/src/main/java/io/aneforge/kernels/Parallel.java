package io.aneforge.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * The one place where numeric code goes multithreaded. A loop over {@code [0, n)} is cut
 * into at most {@link #threads()} contiguous ranges; the caller runs the first range itself
 * and waits for the others.
 *
 * <p>Thread count: system property {@code aneforge.threads}, else the number of processors;
 * {@link #setThreads(int)} changes it at run time (tests and benchmarks). Calls from inside
 * a range run sequentially, so kernels may nest without deadlocking the pool.
 */
public final class Parallel {

    /** Body of a parallel loop: handles indices {@code [from, to)}. Must be thread-safe across ranges. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static volatile int threads = Math.max(1,
            Integer.getInteger("aneforge.threads", Runtime.getRuntime().availableProcessors()));
    private static ForkJoinPool pool;

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
            // The next loop gets a pool of the new size. The old pool is not shut down: loops on
            // other threads may still be inside it (conversions side by side, a model loaded with
            // another thread count), and a pool shut down under a waiting loop could leave it
            // waiting for a task no worker runs. Its idle workers end by themselves after the
            // pool's keep-alive (60 s).
            pool = null;
        }
        threads = count;
    }

    private static synchronized ForkJoinPool pool() {
        if (pool == null) {
            pool = new ForkJoinPool(threads, p -> {
                ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                t.setDaemon(true);
                t.setName("aneforge-kernel-" + t.getPoolIndex());
                return t;
            }, null, false);
        }
        return pool;
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
        if (chunks <= 1 || Thread.currentThread() instanceof ForkJoinWorkerThread w
                && w.getName().startsWith("aneforge-kernel-")) {
            body.run(0, n);
            return;
        }
        ForkJoinPool p = pool();
        @SuppressWarnings("unchecked")
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            tasks[c - 1] = p.submit(() -> body.run(from, to));
        }
        RuntimeException failure = null;
        try {
            body.run(0, (int) ((long) n / chunks));
        } catch (RuntimeException e) {
            failure = e;
        }
        for (ForkJoinTask<?> task : tasks) {
            try {
                task.join();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
