package io.aneforge.kernels;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The worker threads behind {@link Parallel#forRange}: {@code size − 1} daemon threads plus the caller.
 *
 * <p>Why not a {@link java.util.concurrent.ForkJoinPool} (what {@link Parallel} used before): its idle
 * workers park at once, and waking a parked thread costs more than many of the loops are long. Measured on a
 * 2-vCPU VM (Zen 4, JDK 17): 40–50 µs per {@code forRange} on two threads whatever the work, so a 1536×384
 * weight quantized on two threads took as long as on one (125 µs), and a 15 µs loop took 50. Here an idle
 * worker first spins ({@link Thread#onSpinWait}) for up to {@code aneforge.kernel.spinMicros} looking for work, and the
 * caller spins the same way for its workers to finish, before either parks; kernels come in bursts (a
 * prediction is a few hundred loops back to back), so within a burst nobody parks. ONNX Runtime's intra-op
 * pool spins the same way by default. Two limits keep the spinning from costing what it saves: workers spin
 * only while loops arrive in bursts (the gap before the latest loop under the spin time), so an isolated small
 * loop does not buy {@code threads − 1} spins of CPU; and every spinner yields the core now and then, since on
 * a host with fewer free cores than threads (a CPU-limited container, a busy service) a spinning thread would
 * otherwise hold the core the thread it waits for needs (measured on one pinned core: two threads 12.2k loops/s
 * against one thread's 20.0k without the yield, 20.5k with it).
 *
 * <p>Loops from several threads at once (conversions side by side, predictions and a golden pass) each post
 * a {@link Job}; workers take chunks from the oldest job that has any left. A caller always claims chunks of
 * its own job too, so a job finishes even when every worker is busy elsewhere, has exited, or was never
 * started (a retired pool): no loop waits for a worker.
 */
final class KernelPool {

    private final ConcurrentLinkedQueue<Job> jobs = new ConcurrentLinkedQueue<>();
    private final Worker[] workers;
    private final long spinNanos;
    private volatile boolean retired;
    /** When the latest loop was posted, and the gap before it (racy between callers: it only steers spinning). */
    private volatile long lastPost = System.nanoTime() - (1L << 40);
    private volatile long lastGap = Long.MAX_VALUE;

    KernelPool(int size, long spinNanos) {
        this.spinNanos = spinNanos;
        workers = new Worker[Math.max(0, size - 1)];
        try {
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker(this, i);
                workers[i].start();
            }
        } catch (RuntimeException | Error e) {
            retire(); // the workers already started end instead of parking forever in a pool nobody uses
            throw e;
        }
    }

    /** Runs {@code chunks} contiguous ranges of {@code [0, n)} on the caller and the workers; rethrows the first failure. */
    void run(int n, int chunks, Parallel.RangeBody body) {
        Job job = new Job(n, chunks, body, Thread.currentThread());
        long now = System.nanoTime();
        lastGap = now - lastPost;
        lastPost = now;
        jobs.add(job);
        int wake = chunks - 1;
        for (Worker w : workers) {
            if (wake == 0) {
                break;
            }
            // Claim the wake-up: a worker stays flagged until it runs again (tens of microseconds after unpark), and
            // a second caller in that window would otherwise count the same worker as woken for its own loop.
            if (w.parked.get() && w.parked.compareAndSet(true, false)) {
                LockSupport.unpark(w);
                wake--;
            }
        }
        job.work();
        jobs.remove(job); // every chunk is claimed; it may be gone already
        job.await(spinNanos);
        job.rethrow();
    }

    /**
     * Lets the workers end once no job is left: {@link Parallel#setThreads} starts a new pool, and loops that
     * still hold this one finish on their own threads (see the class comment).
     */
    void retire() {
        retired = true;
        for (Worker w : workers) {
            if (w != null) {
                LockSupport.unpark(w);
            }
        }
    }

    /** Live worker threads (tests: a retired pool's workers end). */
    int liveWorkers() {
        int live = 0;
        for (Worker w : workers) {
            if (w != null && w.isAlive()) {
                live++;
            }
        }
        return live;
    }

    /** One loop: chunks are claimed by index, so each runs exactly once, on whichever thread claims it. */
    static final class Job {
        private final int n;
        private final int chunks;
        private final Parallel.RangeBody body;
        private final Thread caller;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private volatile boolean callerParked;
        /** The failure of the lowest-numbered chunk that failed: the error a sequential loop would have raised first. */
        private Throwable failure;
        private int failedChunk = Integer.MAX_VALUE;
        private boolean failedOnAnotherThread;

        Job(int n, int chunks, Parallel.RangeBody body, Thread caller) {
            this.n = n;
            this.chunks = chunks;
            this.body = body;
            this.caller = caller;
        }

        /** Claims and runs one chunk; false when none is left to claim. */
        boolean runOne() {
            int c = next.getAndIncrement();
            if (c >= chunks) {
                return false;
            }
            try {
                body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
            } catch (Throwable e) {
                fail(c, e);
            } finally {
                // The caller reads done before it sets callerParked and again after (see await), so one of the
                // two sides sees the other: the last chunk either is seen by a spinning caller or unparks it.
                if (done.incrementAndGet() == chunks && callerParked) {
                    LockSupport.unpark(caller);
                }
            }
            return true;
        }

        void work() {
            while (runOne()) {
                // claim until every chunk is taken
            }
        }

        void await(long spinNanos) {
            if (done.get() == chunks) {
                return;
            }
            long deadline = System.nanoTime() + spinNanos;
            for (int i = 1; done.get() < chunks; i++) {
                Thread.onSpinWait();
                if ((i & 63) == 0) {
                    if (System.nanoTime() - deadline > 0) {
                        break;
                    }
                    Thread.yield(); // a worker on this core may be the one running our chunk
                }
            }
            if (done.get() == chunks) {
                return;
            }
            callerParked = true;
            boolean interrupted = false;
            while (done.get() < chunks) {
                LockSupport.park(this);
                // an interrupt would make every further park return at once: wait on, and pass it on afterwards
                interrupted |= Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        private synchronized void fail(int chunk, Throwable e) {
            if (chunk < failedChunk) {
                failedChunk = chunk;
                failure = e;
                failedOnAnotherThread = Thread.currentThread() != caller;
            }
        }

        synchronized void rethrow() {
            if (failure != null && failedOnAnotherThread) {
                // the worker's stack alone does not say which loop failed: add the caller's (type and message stay)
                failure.addSuppressed(new KernelLoopCaller(caller.getName()));
            }
            if (failure instanceof RuntimeException r) {
                throw r;
            }
            if (failure instanceof Error err) {
                throw err;
            }
            if (failure != null) {
                throw new IllegalStateException("kernel loop failed", failure);
            }
        }
    }

    /** Carries the stack of the thread whose loop failed on a worker, as a suppressed exception of the failure. */
    static final class KernelLoopCaller extends Exception {
        KernelLoopCaller(String caller) {
            super("rethrown to " + caller + ", which ran the loop");
        }
    }

    static final class Worker extends Thread {
        private final KernelPool pool;
        final AtomicBoolean parked = new AtomicBoolean();

        Worker(KernelPool pool, int index) {
            // No inherited thread-locals, and the library's class loader rather than the first caller's (a request
            // thread of a service, say), so a pool started from a web application does not pin its class loader.
            super(null, null, "aneforge-kernel-" + index, 0, false);
            this.pool = pool;
            setDaemon(true);
            setPriority(Thread.NORM_PRIORITY);
            setContextClassLoader(KernelPool.class.getClassLoader());
        }

        @Override
        public void run() {
            ConcurrentLinkedQueue<Job> jobs = pool.jobs;
            while (true) {
                Job job = jobs.peek();
                if (job != null) {
                    if (!job.runOne()) {
                        jobs.remove(job); // exhausted: the next job is behind it
                    }
                    continue;
                }
                if (pool.retired) {
                    return;
                }
                if (spinForWork(jobs)) {
                    continue;
                }
                // Park only after announcing it, then look once more: a caller adds its job before it reads
                // `parked`, so either this look finds the job or the caller unparks this thread.
                parked.set(true);
                if (jobs.isEmpty() && !pool.retired) {
                    LockSupport.park(pool);
                    Thread.interrupted(); // nothing interrupts a worker on purpose; a stray interrupt must not make it spin
                }
                parked.set(false);
            }
        }

        /** True when work arrived within the spin time; no spin after an isolated loop (see the class comment). */
        private boolean spinForWork(ConcurrentLinkedQueue<Job> jobs) {
            long spin = pool.spinNanos;
            if (spin <= 0 || pool.lastGap > spin) {
                return false;
            }
            long deadline = System.nanoTime() + spin;
            for (int i = 1; ; i++) {
                if (!jobs.isEmpty() || pool.retired) {
                    return true;
                }
                Thread.onSpinWait();
                if ((i & 63) == 0) {
                    if (System.nanoTime() - deadline > 0) {
                        return false;
                    }
                    Thread.yield(); // do not hold a core that a caller or another worker needs
                }
            }
        }
    }
}
