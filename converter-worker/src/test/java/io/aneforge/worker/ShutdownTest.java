package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.testsupport.models.TinyModels;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A worker stopped with SIGTERM (Ctrl-C under {@code ./aneforge up}) in the middle of the partitioned step
 * hands its conversion back instead of failing it: the registry shows it queued again with its attempt given
 * back, and the next worker leases it at once (not after the 60 s lease would have run out), resumes the
 * Batch execution and completes it.
 */
class ShutdownTest {

    @Test
    void aWorkerStoppedMidConversionLeavesItResumableNotFailed() throws Exception {
        Stack stack = Stack.get();
        stack.serve("org/stop-bert", "7777777777777777777777777777777777777777",
                TinyModels.bert(stack.root.resolve("stop-bert"), 17));
        List<String> chips = new ArrayList<>();
        stack.get("/api/v1/chips").forEach(c -> chips.add(c.path("id").asString()));
        JsonNode c = stack.publishHub("stop-bert", "org/stop-bert", chips, 32);
        long id = c.path("id").asLong();

        Process first = stack.startWorkerProcess("stop-worker", 1);
        try {
            long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (registered(stack, id) < 1) {
                assertThat(System.nanoTime()).as("the worker registered no variants in time; see stop-worker.log").isLessThan(end);
                assertThat(first.isAlive()).as("worker process died; see " + stack.root.resolve("stop-worker.log")).isTrue();
                Stack.sleep(20);
            }
        } finally {
            first.destroy(); // SIGTERM: Spring shuts down, the runner interrupts the running job
            assertThat(first.waitFor(60, TimeUnit.SECONDS)).as("the worker exits on SIGTERM").isTrue();
        }
        JsonNode stopped = stack.get("/api/v1/conversions/" + id);
        assertThat(stopped.path("state").asString()).as("handed back: " + stopped).isEqualTo("queued");
        assertThat(stopped.path("attempts").asInt()).as("the attempt is given back").isZero();
        assertThat(stopped.path("error").isMissingNode() || stopped.path("error").isNull()).as(stopped.toString()).isTrue();
        assertThat(jobExecutions(id)).doesNotContain("COMPLETED", "ABANDONED").isNotEmpty();

        long restarted = System.nanoTime();
        Process second = stack.startWorkerProcess("stop-worker-2", 1);
        JsonNode done;
        try {
            JsonNode leased = stack.await(id, Duration.ofSeconds(40), "running", "succeeded", "failed");
            assertThat(leased.path("leaseOwner").asString()).isEqualTo("stop-worker-2");
            assertThat(Duration.ofNanos(System.nanoTime() - restarted))
                    .as("leased as soon as the new worker polls, not after the old lease ran out")
                    .isLessThan(Duration.ofSeconds(40));
            done = stack.await(id, Duration.ofMinutes(5), "succeeded", "failed");
        } finally {
            second.destroy();
            second.waitFor();
        }
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("attempts").asInt()).as("only the second worker's attempt counts").isEqualTo(1);
    }

    private static int registered(Stack stack, long id) {
        int n = 0;
        for (JsonNode v : stack.get("/api/v1/conversions/" + id).path("variants")) {
            if (v.path("state").asString().equals("registered")) n++;
        }
        return n;
    }

    private static List<String> jobExecutions(long id) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = Stack.get().workerDb.open();
             PreparedStatement s = c.prepareStatement("SELECT je.status FROM aneforge_batch.batch_job_execution je"
                     + " JOIN aneforge_batch.batch_job_execution_params p ON p.job_execution_id = je.job_execution_id"
                     + " WHERE p.parameter_name = 'conversionId' AND p.parameter_value = ? ORDER BY je.job_execution_id")) {
            s.setString(1, Long.toString(id));
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) out.add(r.getString(1));
            }
        }
        return out;
    }
}
