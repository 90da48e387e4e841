package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.worker.lease.Leases;
import io.aneforge.worker.registry.RegistryClient;
import io.aneforge.worker.registry.RegistryModels.Lease;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The worker's heartbeats against the real registry, through a {@link FaultProxy}: a heartbeat stuck on a
 * connection that never answers does not hold up the next ones (which keep the lease), and a lease the
 * registry grants for under a second does not make the worker send heartbeats back to back.
 */
class HeartbeatTest {

    @Test
    void aStuckHeartbeatDoesNotHoldUpTheNextAndShortLeasesDoNotFloodTheRegistry() throws Exception {
        Stack stack = Stack.get();
        long id = stack.publishHub("heartbeat", "org/heartbeat", List.of("A14"), 32).path("id").asLong();
        try (FaultProxy proxy = FaultProxy.start(stack.url)) {
            WorkerProperties props = new WorkerProperties(URI.create(proxy.url()), stack.workerToken, "e2e-heartbeat", 1,
                    stack.root.resolve("work-e2e-heartbeat"), Duration.ofSeconds(1), false, Duration.ofSeconds(10), null, 0,
                    null);
            RegistryClient registry = new RegistryClient(props);
            Leases leases = new Leases(registry, props);
            Lease granted = registry.lease(id, "e2e-heartbeat");
            String heartbeats = "/api/v1/conversions/" + id + "/heartbeat";
            try {
                OffsetDateTime before = expiry(stack, id);
                // The first heartbeat hangs for good (a half-open connection); a 3 s lease beats every second.
                proxy.inject("POST", heartbeats, null, FaultProxy.Fault.HANG, 1);
                leases.hold(new Lease(granted.leaseToken(), 3, granted.conversion()));
                Stack.sleep(4000);
                List<FaultProxy.Seen> seen = proxy.seen("POST", heartbeats);
                assertThat(seen).as("beats in 4 s at one a second, the first never answered").hasSizeGreaterThanOrEqualTo(3);
                assertThat(seen.get(0).fault()).isEqualTo(FaultProxy.Fault.HANG);
                assertThat(seen.subList(1, seen.size())).extracting(FaultProxy.Seen::status).containsOnly(200);
                assertThat(expiry(stack, id)).as("the later beats extended the lease").isAfter(before);
                assertThat(leases.holds(id)).isTrue();

                // A lease under a second (a misconfigured registry): heartbeats at most once a second, not every ms.
                leases.forget(id);
                Stack.sleep(300); // a beat of the 3 s lease still on its way is not counted below
                int sofar = proxy.seen("POST", heartbeats).size();
                leases.hold(new Lease(granted.leaseToken(), 0, granted.conversion()));
                Stack.sleep(1500);
                assertThat(proxy.seen("POST", heartbeats).size() - sofar).as("beats in 1.5 s").isBetween(1, 2);
            } finally {
                leases.forget(id);
                stack.send("POST", "/api/v1/conversions/" + id + "/cancel", stack.publisherToken, null);
            }
        }
    }

    private static OffsetDateTime expiry(Stack stack, long id) {
        return OffsetDateTime.parse(stack.get("/api/v1/conversions/" + id).path("leaseExpiresAt").asString());
    }
}
