package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** A worker whose HF_ENDPOINT answers nothing fails the conversion at fetch, naming the endpoint. */
class UnreachableHubTest {

    @Test
    void anUnreachableHubFailsTheConversionAtFetch() throws IOException {
        Stack stack = Stack.get();
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort(); // closed again: connections are refused
        }
        ConfigurableApplicationContext worker = stack.startWorker("e2e-offline", 1,
                Map.of("HF_ENDPOINT", "http://127.0.0.1:" + deadPort));
        try {
            JsonNode c = stack.publishHub("offline", "org/offline", List.of("A14"), 32);
            JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(2), "succeeded", "failed");
            assertThat(done.path("state").asString()).isEqualTo("failed");
            assertThat(done.path("error").asString()).startsWith("fetch: ").contains("127.0.0.1:" + deadPort);
            assertThat(stack.get("/api/v1/models/offline/versions/" + done.path("version").asInt()).path("status").asString())
                    .isEqualTo("failed");
        } finally {
            worker.close();
        }
    }
}
