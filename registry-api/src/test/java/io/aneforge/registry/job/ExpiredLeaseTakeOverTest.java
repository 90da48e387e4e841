package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The two ways an expired attempt's holder is kept in {@code job_lease_expiry}, each on its own: a lease that takes
 * an expired job over (the sweeper never runs here after its first pass at start-up, so it cannot requeue the job
 * first) and the sweep. Each row's {@code expiredAt} is the lease's own end, not when the expiry was noticed.
 */
class ExpiredLeaseTakeOverTest extends JobTestSupport {

    @DynamicPropertySource
    static void noSweeper(DynamicPropertyRegistry r) {
        r.add("aneforge.jobs.sweep-interval", () -> "1h");
    }

    @Autowired
    JdbcClient jdbc;

    @Autowired
    Jobs jobs;

    @Test
    void aLeaseTakingAnExpiredJobOverAndTheSweepKeepWhoHeldEachAttemptAndWhenItsLeaseEnded() {
        String first = registerAgent("takeover-1", "M3", List.of("coreml"));
        String second = registerAgent("takeover-2", "M3", List.of("coreml"));
        // other tests' M3 jobs, left in this JVM's database, are failed first: the queue is then this test's alone
        for (Response r = lease(first); r.status() == 200; r = lease(first)) {
            assertThat(report(first, r.json(), Map.of("leaseId", r.json().path("leaseId").asString(), "outcome",
                    "failed", "failure", "consumed by takeover-1")).status()).isEqualTo(201);
        }
        String model = "takeover-" + Long.toHexString(System.nanoTime());
        int v = leasableVariant(model, "M3", 128, List.of("all")).version();
        JsonNode l1 = lease(first).json();
        assertThat(l1.path("model").asString()).isEqualTo(model);
        long jobId = l1.path("jobId").asLong();

        // the first lease ended an hour ago (to the microsecond, as PostgreSQL keeps it)
        Instant firstEnd = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MILLIS);
        endLease(jobId, firstEnd);
        JsonNode l2 = lease(second).json();
        assertThat(l2.path("jobId").asLong()).as("taken over by the lease, not the sweeper").isEqualTo(jobId);
        assertThat(l2.path("attempt").asInt()).isEqualTo(2);
        assertThat(expired(model, v)).containsExactly("1:takeover-1:" + firstEnd);

        Instant secondEnd = Instant.now().minus(10, ChronoUnit.MINUTES).truncatedTo(ChronoUnit.MILLIS);
        endLease(jobId, secondEnd);
        // this context's sweeper never runs after start-up, but the other test contexts cached in this JVM share the
        // database and sweep it every second: whichever sweep requeues the job first, it keeps who held attempt 2
        assertThat(jobs.sweep()).isNotNegative();
        assertThat(jobs(model, v).get(0).path("state").asString()).isEqualTo("pending");
        assertThat(expired(model, v)).containsExactly("1:takeover-1:" + firstEnd, "2:takeover-2:" + secondEnd);
    }

    private void endLease(long jobId, Instant end) {
        assertThat(jdbc.sql("UPDATE job SET lease_expires_at = ? WHERE id = ? AND state = 'leased'")
                .params(end.atOffset(ZoneOffset.UTC), jobId).update()).isEqualTo(1);
    }

    private List<String> expired(String model, int v) {
        List<String> out = new ArrayList<>();
        jobs(model, v).get(0).path("expiredLeases").forEach(e -> out.add(e.path("attempt").asInt() + ":"
                + e.path("agent").asString() + ":" + Instant.parse(e.path("expiredAt").asString())));
        return out;
    }
}
