package io.aneforge.registry.job;

import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Wakes long-polling lease calls of this instance when jobs may have become available (new jobs,
 * released or requeued leases). Other instances' changes are seen by the waiters' periodic
 * re-check, so this is only a latency shortcut, never needed for correctness.
 */
@Component
class LeaseSignal {

    private final Object monitor = new Object();
    private long generation;

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

    /** Waits until a signal after {@code seen} or {@code millis} elapse. */
    void await(long seen, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        synchronized (monitor) {
            while (generation == seen) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) return;
                monitor.wait(left);
            }
        }
    }
}
