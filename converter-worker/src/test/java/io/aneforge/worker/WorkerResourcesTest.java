package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.testsupport.models.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * What a worker leaves behind: the work directory a killed worker left is deleted when a worker starts,
 * a conversion's own directory goes when its job ends, and closing the worker's context stops its variant
 * threads.
 */
class WorkerResourcesTest {

    @Test
    void leftoverWorkDirectoriesAreDeletedAndTheVariantThreadsStopWithTheContext() throws Exception {
        Stack stack = Stack.get();
        String id = "e2e-resources";
        Path work = stack.root.resolve("work-" + id);
        Path leftover = work.resolve("conversion-987654");
        Files.createDirectories(leftover.resolve("a14-ios16-ane-fp16-s32.mlpackage"));
        Files.write(leftover.resolve("a14-ios16-ane-fp16-s32.mlpackage.zip"), new byte[4096]);
        stack.serve("org/resources-bert", "abababababababababababababababababababab",
                TinyModels.bert(stack.root.resolve("resources-bert"), 23));

        ConfigurableApplicationContext worker = stack.startWorker(id, 2);
        try {
            await("the leftover directory is deleted at start", () -> !Files.exists(leftover));
            JsonNode c = stack.publishHub("resources", "org/resources-bert", List.of("A14"), 32);
            JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(3), "succeeded", "failed");
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
            await("the conversion's directory is deleted when its job ends",
                    () -> !Files.exists(work.resolve("conversion-" + c.path("id").asLong())));
            assertThat(variantThreads(id)).as("the worker's partition threads").isNotEmpty();
        } finally {
            worker.close();
        }
        await("no variant thread outlives the context", () -> variantThreads(id).isEmpty());
    }

    private static List<String> variantThreads(String workerId) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("variant-" + workerId + "-")).toList();
    }

    private static void await(String what, BooleanSupplier condition) {
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(end);
            Stack.sleep(50);
        }
    }
}
