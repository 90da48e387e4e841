package io.aneforge.worker.lease;

import io.aneforge.worker.registry.RegistryClient;
import io.aneforge.worker.registry.RegistryException;
import io.aneforge.worker.registry.RegistryModels.Conversion;
import io.aneforge.worker.registry.RegistryModels.Lease;
import jakarta.annotation.PreDestroy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.stereotype.Component;

/**
 * The leases this worker holds, kept in memory (never in a Batch execution context: a lease token is
 * not worth restarting with), each kept alive by a heartbeat at a third of its duration.
 */
@Component
public class Leases {

    private static final Logger log = LoggerFactory.getLogger(Leases.class);

    private final class Held {
        volatile Lease lease;
        volatile String lost;
        ScheduledFuture<?> heartbeat;
    }

    private final RegistryClient registry;
    private final Map<Long, Held> held = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lease-heartbeat");
        t.setDaemon(true);
        return t;
    });

    public Leases(RegistryClient registry) {
        this.registry = registry;
    }

    public void hold(Lease lease) {
        long id = lease.conversion().id();
        Held h = new Held();
        h.lease = lease;
        long period = Math.max(1, lease.leaseSeconds() * 1000 / 3);
        h.heartbeat = timer.scheduleAtFixedRate(() -> beat(id, h), period, period, TimeUnit.MILLISECONDS);
        Held old = held.put(id, h);
        if (old != null) old.heartbeat.cancel(false);
    }

    private void beat(long id, Held h) {
        MDC.put("conversion", Long.toString(id));
        try {
            h.lease = new Lease(h.lease.leaseToken(), h.lease.leaseSeconds(),
                    registry.heartbeat(id, h.lease.leaseToken()).conversion());
        } catch (RegistryException e) {
            if (e.leaseGone()) {
                h.lost = e.getMessage();
                h.heartbeat.cancel(false);
                log.warn("lost the lease: {}", e.getMessage());
            } else {
                log.warn("heartbeat failed (will retry): {}", e.getMessage());
            }
        } catch (RuntimeException e) {
            log.warn("heartbeat failed (will retry): {}", e.toString());
        } finally {
            MDC.remove("conversion");
        }
    }

    private Held require(long id) {
        Held h = held.get(id);
        if (h == null) throw new LeaseLostException("this worker holds no lease on conversion " + id);
        if (h.lost != null) throw new LeaseLostException(h.lost);
        return h;
    }

    public String token(long id) {
        return require(id).lease.leaseToken();
    }

    /** The conversion as of the lease (or the last heartbeat). */
    public Conversion conversion(long id) {
        return require(id).lease.conversion();
    }

    public boolean holds(long id) {
        Held h = held.get(id);
        return h != null && h.lost == null;
    }

    public void release(long id) {
        Held h = held.remove(id);
        if (h != null) h.heartbeat.cancel(false);
    }

    @PreDestroy
    void stop() {
        timer.shutdownNow();
    }
}
