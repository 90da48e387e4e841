package io.aneforge.kernels;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;

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
        } finally {
            stop.set(true);
            callers.shutdownNow();
        }
    }
}
