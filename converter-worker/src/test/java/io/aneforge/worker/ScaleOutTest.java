package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.testsupport.models.TinyModels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** Two workers, six queued conversions: each converted exactly once. */
class ScaleOutTest {

    @Test
    void twoWorkersConvertSixQueuedConversionsEachExactlyOnce() throws Exception {
        Stack stack = Stack.get();
        stack.serve("org/scale-bert", "7777777777777777777777777777777777777777",
                TinyModels.bert(stack.root.resolve("scale-bert"), 17));
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(stack.publishHub("scale-bert", "org/scale-bert", List.of("A14"), 32).path("id").asLong());
        }
        ConfigurableApplicationContext a = stack.startWorker("scale-a", 2);
        ConfigurableApplicationContext b = stack.startWorker("scale-b", 2);
        try {
            for (long id : ids) {
                JsonNode done = stack.await(id, Duration.ofMinutes(3), "succeeded", "failed");
                assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
                assertThat(done.path("attempts").asInt()).as("leased once").isEqualTo(1);
                done.path("variants").forEach(v -> assertThat(v.path("builds").asInt()).as(v.toString()).isEqualTo(1));
                assertThat(stack.get("/api/v1/models/scale-bert/versions/" + done.path("version").asInt() + "/variants").size())
                        .isEqualTo(done.path("variants").size());
            }
        } finally {
            a.close();
            b.close();
        }
    }
}
