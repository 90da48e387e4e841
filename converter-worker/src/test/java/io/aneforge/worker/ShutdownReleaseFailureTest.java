package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.testsupport.models.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * A stopping worker's one release fails (its registry answers 503 through a {@link FaultProxy}): the worker
 * records the lease in its work directory, and the next worker started on that work directory sends the release
 * at start, so the conversion is leased again at once and on the same attempt, not after the 60 s lease ran out
 * (which would spend an attempt).
 */
class ShutdownReleaseFailureTest {

    @Test
    void aFailedShutdownReleaseIsSentAgainByTheNextWorkerOnTheWorkDirectory() throws Exception {
        Stack stack = Stack.get();
        stack.serve("org/unreleased-bert", "6666666666666666666666666666666666666666",
                TinyModels.bert(stack.root.resolve("unreleased-bert"), 23));
        List<String> chips = new ArrayList<>();
        stack.get("/api/v1/chips").forEach(c -> chips.add(c.path("id").asString()));
        long id = stack.publishHub("unreleased-bert", "org/unreleased-bert", chips, 32).path("id").asLong();
        Path work = stack.root.resolve("work-unreleased");
        Path record = work.resolve("unreleased-leases").resolve("conversion-" + id + ".json");

        try (FaultProxy proxy = FaultProxy.start(stack.url)) {
            proxy.inject("POST", "/api/v1/conversions/" + id + "/release", null, FaultProxy.Fault.UNAVAILABLE, 1);
            ConfigurableApplicationContext first = stack.startWorker("e2e-unreleased-1", 1,
                    Map.of("ANEFORGE_REGISTRY_URL", proxy.url(), "ANEFORGE_WORKER_WORK_DIR", work.toString()));
            try {
                long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                while (registered(stack, id) < 1) {
                    assertThat(System.nanoTime()).as("the worker registered no variant in time").isLessThan(end);
                    Stack.sleep(20);
                }
            } finally {
                first.close(); // like SIGTERM: the job is interrupted and its lease released once
            }
            assertThat(proxy.seen("POST", "/api/v1/conversions/" + id + "/release")).extracting(FaultProxy.Seen::status)
                    .as("the one shutdown release, answered 503").containsExactly(503);
        }
        JsonNode stopped = stack.get("/api/v1/conversions/" + id);
        assertThat(stopped.path("state").asString()).as("still leased: " + stopped).isEqualTo("running");
        assertThat(stopped.path("leaseOwner").asString()).isEqualTo("e2e-unreleased-1");
        assertThat(record).as("the failed release is recorded in the work directory").exists();
        assertThat(Files.readString(record)).doesNotContain("\n").contains("\"conversionId\":" + id);

        long restarted = System.nanoTime();
        ConfigurableApplicationContext second = stack.startWorker("e2e-unreleased-2", 1,
                Map.of("ANEFORGE_WORKER_WORK_DIR", work.toString()));
        JsonNode done;
        try {
            long end = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            while (!stack.get("/api/v1/conversions/" + id).path("leaseOwner").asString().equals("e2e-unreleased-2")) {
                assertThat(System.nanoTime()).as("leased by the next worker before the old lease would have run out")
                        .isLessThan(end);
                Stack.sleep(100);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - restarted)).isLessThan(Duration.ofSeconds(40));
            done = stack.await(id, Duration.ofMinutes(5), "succeeded", "failed");
        } finally {
            second.close();
        }
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("attempts").asInt()).as("the first worker's attempt was given back").isEqualTo(1);
        assertThat(record).as("the record is gone once the release went through").doesNotExist();
    }

    private static int registered(Stack stack, long id) {
        int n = 0;
        for (JsonNode v : stack.get("/api/v1/conversions/" + id).path("variants")) {
            if (v.path("state").asString().equals("registered")) n++;
        }
        return n;
    }
}
