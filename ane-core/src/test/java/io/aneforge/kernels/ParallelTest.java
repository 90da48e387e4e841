package io.aneforge.kernels;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ParallelTest {

    private final int before = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        Parallel.setThreads(3);
        AtomicLongArray hits = new AtomicLongArray(1000);
        Parallel.forRange(1000, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                hits.incrementAndGet(i);
            }
        });
        for (int i = 0; i < 1000; i++) {
            assertThat(hits.get(i)).as("index %d", i).isEqualTo(1);
        }
    }

    /**
     * A model loaded with another thread count resizes the pool while other threads are inside
     * forRange (conversions run side by side). The pool they hold must keep serving them: the
     * old code shut it down under them, and a loop could then wait forever for a task no worker
     * would run, or fail with a RejectedExecutionException.
     */
    @Test
    void resizingWhileLoopsRunNeitherHangsNorFails() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(2);
        AtomicBoolean stop = new AtomicBoolean();
        try {
            java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
            Future<Long> loops = callers.submit(() -> {
                while (!stop.get()) {
                    long[] sum = new long[64];
                    Parallel.forRange(64, 1, (from, to) -> {
                        for (int i = from; i < to; i++) {
                            sum[i] = i;
                        }
                    });
                    long total = 0;
                    for (long v : sum) {
                        total += v;
                    }
                    assertThat(total).isEqualTo(64 * 63 / 2);
                    done.incrementAndGet();
                }
                return done.get();
            });
            // at least 2000 resizes, and at least 200 loops run while they happen (the loop thread may start late)
            Future<?> resizes = callers.submit(() -> {
                for (int i = 0; (i < 2000 || done.get() < 200) && !stop.get(); i++) {
                    Parallel.setThreads(2 + i % 3);
                }
            });
            resizes.get(30, TimeUnit.SECONDS);
            stop.set(true);
            assertThat(loops.get(30, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(200);
            // the retired pools' workers end by themselves (thousands of pools were started above)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (kernelThreads() > Parallel.threads() - 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(kernelThreads()).as("live kernel worker threads").isLessThanOrEqualTo(Parallel.threads() - 1);
        } finally {
            stop.set(true);
            callers.shutdownNow();
        }
    }

    private static long kernelThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("aneforge-kernel-")).count();
    }

    /** Several threads' loops at once (conversions side by side): each gets every index exactly once. */
    @Test
    void concurrentCallersEachGetTheirWholeLoop() throws Exception {
        Parallel.setThreads(3);
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int seed = c;
                done.add(callers.submit(() -> {
                    for (int round = 0; round < 300; round++) {
                        int n = 1 + (round * 37 + seed * 11) % 500;
                        int[] hits = new int[n];
                        Parallel.forRange(n, 1, (from, to) -> {
                            for (int i = from; i < to; i++) {
                                hits[i]++;
                            }
                        });
                        for (int i = 0; i < n; i++) {
                            assertThat(hits[i]).as("caller %d round %d index %d", seed, round, i).isEqualTo(1);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            callers.shutdownNow();
        }
    }

    /** The failure a sequential loop would have raised first (the lowest range) reaches the caller; the pool goes on. */
    @Test
    void failureOfTheFirstFailingRangeIsRethrownAndThePoolStillWorks() {
        Parallel.setThreads(4);
        for (int attempt = 0; attempt < 50; attempt++) {
            assertThatThrownBy(() -> Parallel.forRange(4, 1, (from, to) -> {
                if (from >= 1) {
                    throw new IllegalArgumentException("range " + from);
                }
            })).isInstanceOf(IllegalArgumentException.class).hasMessage("range 1");
        }
        assertThatThrownBy(() -> Parallel.forRange(4, 1, (from, to) -> {
            if (from == 3) {
                throw new AssertionError("an Error stays an Error");
            }
        })).isInstanceOf(AssertionError.class).hasMessage("an Error stays an Error");
        AtomicLongArray hits = new AtomicLongArray(64);
        Parallel.forRange(64, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                hits.incrementAndGet(i);
            }
        });
        for (int i = 0; i < 64; i++) {
            assertThat(hits.get(i)).isEqualTo(1);
        }
    }

    /** A loop inside a range runs whole (on a worker: sequentially), and nothing deadlocks. */
    @Test
    void nestedLoopsComplete() {
        Parallel.setThreads(3);
        AtomicLongArray hits = new AtomicLongArray(30 * 40);
        Parallel.forRange(30, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                int row = i;
                Parallel.forRange(40, 1, (f, t) -> {
                    for (int j = f; j < t; j++) {
                        hits.incrementAndGet(row * 40 + j);
                    }
                });
            }
        });
        for (int i = 0; i < hits.length(); i++) {
            assertThat(hits.get(i)).as("cell %d", i).isEqualTo(1);
        }
    }

    /**
     * Workers really run ranges side by side with the caller, both while spinning and after they parked: each
     * range waits at a barrier for the other, which only a second thread can reach. With no spin at all
     * (spinNanos 0) the worker parks at once, so this also checks that posting a job wakes a parked worker.
     */
    @Test
    void parkedAndSpinningWorkersBothTakeRanges() throws Exception {
        for (long spin : new long[] {0L, TimeUnit.MILLISECONDS.toNanos(1)}) {
            KernelPool pool = new KernelPool(2, spin);
            try {
                for (int round = 0; round < 20; round++) {
                    if (round % 5 == 0) {
                        Thread.sleep(30); // long enough for the worker to stop spinning and park
                    }
                    CyclicBarrier both = new CyclicBarrier(2);
                    List<String> threads = java.util.Collections.synchronizedList(new ArrayList<>());
                    pool.run(2, 2, (from, to) -> {
                        threads.add(Thread.currentThread().getName());
                        try {
                            both.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                            throw new IllegalStateException("the other range never ran alongside (spin " + spin + ")", e);
                        }
                    });
                    assertThat(threads).hasSize(2).doesNotHaveDuplicates();
                }
            } finally {
                pool.retire();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (pool.liveWorkers() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(pool.liveWorkers()).as("workers of a retired pool").isZero();
        }
    }

    /**
     * A range that fails on a worker reaches the caller with its own type and message, plus the caller's stack as a
     * suppressed exception (a worker's stack alone does not say which loop failed); on the caller, nothing is added.
     */
    @Test
    void aWorkersFailureCarriesTheCallersStack() throws Exception {
        KernelPool pool = new KernelPool(2, TimeUnit.MILLISECONDS.toNanos(1));
        try {
            for (int round = 0; round < 10; round++) {
                java.util.concurrent.CountDownLatch secondRan = new java.util.concurrent.CountDownLatch(1);
                String[] thrower = new String[1];
                Thread caller = Thread.currentThread();
                // range 0 waits for range 1, so the two run on different threads, in either order of claiming
                Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> pool.run(2, 2, (from, to) -> {
                    if (from == 0) {
                        try {
                            assertThat(secondRan.await(10, TimeUnit.SECONDS)).isTrue();
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        return;
                    }
                    thrower[0] = Thread.currentThread().getName();
                    secondRan.countDown();
                    throw new IllegalArgumentException("range 1 failed");
                }));
                assertThat(thrown).isInstanceOf(IllegalArgumentException.class).hasMessage("range 1 failed");
                if (thrower[0].equals(caller.getName())) {
                    assertThat(thrown.getSuppressed()).isEmpty();
                } else {
                    assertThat(thrower[0]).startsWith("aneforge-kernel-");
                    assertThat(thrown.getSuppressed()).singleElement()
                            .isInstanceOf(KernelPool.KernelLoopCaller.class)
                            .satisfies(s -> assertThat(s.getMessage()).contains(caller.getName()));
                }
            }
        } finally {
            pool.retire();
        }
    }
}
