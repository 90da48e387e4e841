package io.aneforge.registry.job;

import org.springframework.context.ApplicationContext;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Wakes long-polling lease calls of this instance when jobs may have become available (new jobs,
 * released or requeued leases). Other instances' changes are seen by the waiters' periodic
 * re-check, so this is only a latency shortcut, never needed for correctness.
 *
 * <p>When the application context closes, every waiter wakes at once and no wait starts again
 * ({@link #closing()}): Tomcat's graceful shutdown waits for the requests in progress, and a long
 * poll, which nothing notices its client has gone (a draining agent cuts its call), would otherwise
 * hold the registry's stop for the rest of its wait (up to {@code aneforge.agents.max-lease-wait}).
 */
@Component
class LeaseSignal {

    private final Object monitor = new Object();
    private final ApplicationContext context;
    private long generation;
    private boolean closing;

    LeaseSignal(ApplicationContext context) {
        this.context = context;
    }

    /**
     * This registry's context is closing (published before Tomcat's graceful shutdown, which runs in the lifecycle
     * stop after it). A child context's close (it reaches the parent's listeners too) is not the registry stopping.
     */
    @EventListener
    void contextClosed(ContextClosedEvent event) {
        if (event.getApplicationContext() == context) close();
    }

    void close() {
        synchronized (monitor) {
            closing = true;
            generation++;
            monitor.notifyAll();
        }
    }

    /** Whether the registry is stopping: long polls answer now instead of waiting. */
    boolean closing() {
        synchronized (monitor) {
            return closing;
        }
    }

    /** Signals after the current transaction commits (at once when there is none). */
    void afterCommit() {
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    signal();
                }
            });
        } else {
            signal();
        }
    }

    void signal() {
        synchronized (monitor) {
            generation++;
            monitor.notifyAll();
        }
    }

    long generation() {
        synchronized (monitor) {
            return generation;
        }
    }

    /** Waits until a signal after {@code seen} or {@code millis} elapse; not at all once {@link #closing()}. */
    void await(long seen, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        synchronized (monitor) {
            while (generation == seen && !closing) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) return;
                monitor.wait(left);
            }
        }
    }
}
