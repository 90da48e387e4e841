package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.support.GenericApplicationContext;

/** The long poll's wake-up: a signal wakes waiters, and a closing context wakes them for good. */
class LeaseSignalTest {

    @Test
    void aSignalWakesAWaiter() throws Exception {
        LeaseSignal signal = new LeaseSignal(null);
        long seen = signal.generation();
        CompletableFuture<Long> waited = CompletableFuture.supplyAsync(() -> timed(signal, seen, 60_000));
        Thread.sleep(100);
        assertThat(waited).isNotDone();
        signal.signal();
        assertThat(waited.get(10, TimeUnit.SECONDS)).isLessThan(10_000);
        assertThat(signal.closing()).isFalse();
    }

    /** A waiter in a 60 s wait returns when the context closes, and later waits do not wait at all. */
    @Test
    void closingTheContextEndsEveryWaitAtOnce() throws Exception {
        LeaseSignal signal = new LeaseSignal(null);
        long seen = signal.generation();
        CompletableFuture<Long> waited = CompletableFuture.supplyAsync(() -> timed(signal, seen, 60_000));
        Thread.sleep(100);
        assertThat(waited).isNotDone();
        signal.close();
        assertThat(waited.get(10, TimeUnit.SECONDS)).isLessThan(10_000);
        assertThat(signal.closing()).isTrue();
        // a poll that comes round again after closing does not wait, even on the generation it just read
        assertThat(timed(signal, signal.generation(), 60_000)).isLessThan(5_000);
    }

    private static long timed(LeaseSignal signal, long seen, long millis) {
        long start = System.nanoTime();
        try {
            signal.await(seen, millis);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    /** Only the registry's own context closing counts; a child context's close event reaches it too. */
    @Test
    void onlyItsOwnContextClosingEndsTheWaits() {
        GenericApplicationContext own = new GenericApplicationContext();
        GenericApplicationContext child = new GenericApplicationContext(own);
        LeaseSignal signal = new LeaseSignal(own);
        signal.contextClosed(new ContextClosedEvent(child));
        assertThat(signal.closing()).isFalse();
        signal.contextClosed(new ContextClosedEvent(own));
        assertThat(signal.closing()).isTrue();
    }
}
