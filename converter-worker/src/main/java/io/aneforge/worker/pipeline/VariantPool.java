package io.aneforge.worker.pipeline;

import io.aneforge.worker.WorkerProperties;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.task.TaskExecutor;
import org.springframework.stereotype.Component;

/**
 * The threads that run the variants step's partitions, one build each ({@code ANEFORGE_WORKER_CONCURRENCY} of
 * them; no partition ever waits on another, so each thread is always doing work), owned by the worker's context: stopped by {@link ConversionRunner} when the worker stops, and at the latest when the
 * context is destroyed. Not a Spring {@code ThreadPoolTaskExecutor} bean on purpose: that one interrupts its
 * tasks as soon as the context starts closing, before the runner has let the interrupted job record itself.
 */
@Component
class VariantPool implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(VariantPool.class);

    private final ThreadPoolExecutor pool;

    VariantPool(WorkerProperties props) {
        AtomicInteger n = new AtomicInteger();
        String prefix = "variant-" + props.id() + "-";
        pool = new ThreadPoolExecutor(props.concurrency(), props.concurrency(), 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), r -> new Thread(r, prefix + n.incrementAndGet()));
    }

    TaskExecutor executor() {
        return pool::execute;
    }

    /** Interrupts the partitions still running and waits up to {@code wait} for them to end. */
    void stop(Duration wait) {
        pool.shutdownNow();
        // The runner's own thread was interrupted to stop the worker: wait all the same, then restore the interrupt.
        boolean interrupted = Thread.interrupted();
        try {
            if (!pool.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("variant partitions still running {} ms after being interrupted", wait.toMillis());
            }
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    @Override
    public void destroy() {
        stop(Duration.ofSeconds(5));
    }
}
