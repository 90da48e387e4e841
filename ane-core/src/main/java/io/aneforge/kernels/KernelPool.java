package io.aneforge.kernels;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The worker threads behind {@link Parallel#forRange}: {@code size − 1} daemon threads plus the caller.
 *
 * <p>Why not a {@link java.util.concurrent.ForkJoinPool} (what {@link Parallel} used before): its idle
 * workers park at once, and waking a parked thread costs more than many of the loops are long. Measured on a
 * 2-vCPU VM (Zen 4, JDK 17): 40–50 µs per {@code forRange} on two threads whatever the work, so a 1536×384
 * weight quantized on two threads took as long as on one (125 µs), and a 15 µs loop took 50. Here an idle
 * worker first spins ({@link Thread#onSpinWait}) for {@link Parallel#spinNanos()} looking for work, and the
 * caller spins the same way for its workers to finish, before either parks; kernels come in bursts (a
 * prediction is a few hundred loops back to back), so within a burst nobody parks. ONNX Runtime's intra-op
 * pool spins the same way by default.
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

    KernelPool(int size, long spinNanos) {
        this.spinNanos = spinNanos;
        workers = new Worker[Math.max(0, size - 1)];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(this, i);
            workers[i].start();
        }
    }

    /** Runs {@code chunks} contiguous ranges of {@code [0, n)} on the caller and the workers; rethrows the first failure. */
    void run(int n, int chunks, Parallel.RangeBody body) {
        Job job = new Job(n, chunks, body, Thread.currentThread());
        jobs.add(job);
        int wake = chunks - 1;
        for (Worker w : workers) {
            if (wake == 0) {
                break;
            }
            if (w.parked) {
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
            LockSupport.unpark(w);
        }
    }

    /** Live worker threads (tests: a retired pool's workers end). */
    int liveWorkers() {
        int live = 0;
        for (Worker w : workers) {
            if (w.isAlive()) {
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

        boolean exhausted() {
            return next.get() >= chunks;
        }

        void await(long spinNanos) {
            if (done.get() == chunks) {
                return;
            }
            long deadline = System.nanoTime() + spinNanos;
            for (int i = 1; done.get() < chunks; i++) {
                Thread.onSpinWait();
                if ((i & 63) == 0 && System.nanoTime() - deadline > 0) {
                    break;
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
            }
        }

        synchronized void rethrow() {
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

    static final class Worker extends Thread {
        private final KernelPool pool;
        volatile boolean parked;

        Worker(KernelPool pool, int index) {
            super("aneforge-kernel-" + index);
            this.pool = pool;
            setDaemon(true);
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
                parked = true;
                if (jobs.isEmpty() && !pool.retired) {
                    LockSupport.park(pool);
                    Thread.interrupted(); // nothing interrupts a worker on purpose; a stray interrupt must not make it spin
                }
                parked = false;
            }
        }

        /** True when work arrived within the spin time. */
        private boolean spinForWork(ConcurrentLinkedQueue<Job> jobs) {
            long spin = pool.spinNanos;
            if (spin <= 0) {
                return false;
            }
            long deadline = System.nanoTime() + spin;
            for (int i = 1; ; i++) {
                if (!jobs.isEmpty() || pool.retired) {
                    return true;
                }
                Thread.onSpinWait();
                if ((i & 63) == 0 && System.nanoTime() - deadline > 0) {
                    return false;
                }
            }
        }
    }
}
