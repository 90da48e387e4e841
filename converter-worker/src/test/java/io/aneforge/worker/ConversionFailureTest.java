package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.testsupport.models.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** Each failure ends as a FAILED conversion with a clear reason, a FAILED version and no variants. */
class ConversionFailureTest {

    private static final Stack stack = Stack.get();
    private static ConfigurableApplicationContext worker;

    @BeforeAll
    static void startWorker() {
        // The registry allows local sources anywhere in java.io.tmpdir; this worker only under the stack's root,
        // so a local source the registry accepts can lead (by a symbolic link) out of the worker's roots.
        worker = stack.startWorker("e2e-failures", 2, Map.of("ANEFORGE_SOURCES_LOCAL_ROOTS", stack.root.toString()));
    }

    @AfterAll
    static void stopWorker() {
        if (worker != null) worker.close();
    }

    private JsonNode failed(String model, Map<String, Object> source) {
        JsonNode c = stack.publish(model, source, List.of("A14"), 32);
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(2), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("failed");
        int version = done.path("version").asInt();
        assertThat(stack.get("/api/v1/models/" + model + "/versions/" + version).path("status").asString()).isEqualTo("failed");
        assertThat(stack.get("/api/v1/models/" + model + "/versions/" + version + "/variants").size()).isZero();
        assertThat(done.path("attempts").asInt()).isEqualTo(1);
        return done;
    }

    private static Map<String, Object> hub(String repo) {
        return Map.of("type", "hub", "repo", repo, "revision", "main");
    }

    @Test
    void aCorruptWeightsFileFailsAtImport() throws Exception {
        Path dir = TinyModels.bert(stack.root.resolve("corrupt"), 3);
        Files.write(dir.resolve("model.safetensors"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        stack.serve("org/corrupt", "3333333333333333333333333333333333333333", dir);
        JsonNode done = failed("corrupt", hub("org/corrupt"));
        assertThat(done.path("error").asString()).startsWith("import: ").contains("model.safetensors");
    }

    @Test
    void aMissingTokenizerFailsAtFetch() throws Exception {
        Path dir = TinyModels.bert(stack.root.resolve("no-tokenizer"), 4);
        Files.delete(dir.resolve("tokenizer.json"));
        stack.serve("org/no-tokenizer", "4444444444444444444444444444444444444444", dir);
        JsonNode done = failed("no-tokenizer", hub("org/no-tokenizer"));
        assertThat(done.path("error").asString()).startsWith("fetch: ").contains("has no tokenizer.json");
    }

    @Test
    void aMissingLocalSnapshotFailsAtFetch() {
        JsonNode done = failed("missing-local", Map.of("type", "local", "path", stack.root.resolve("nowhere").toString()));
        assertThat(done.path("error").asString()).startsWith("fetch: ").contains("is not a directory");
    }

    @Test
    void aLocalSnapshotWhoseConfigLinksOutOfTheWorkersRootsFailsAtFetch() throws Exception {
        Path outside = Files.createTempDirectory("aneforge-outside-roots");
        Path dir = TinyModels.bert(stack.root.resolve("linked-out"), 6);
        Path secret = Files.move(dir.resolve("config.json"), outside.resolve("config.json"));
        Files.createSymbolicLink(dir.resolve("config.json"), secret);
        JsonNode done = failed("linked-out", Map.of("type", "local", "path", dir.toString()));
        assertThat(done.path("error").asString()).startsWith("fetch: ")
                .contains("'config.json' is a symbolic link to '" + secret.toRealPath() + "'", stack.root.toString(),
                        "ANEFORGE_SOURCES_LOCAL_ROOTS");
    }

    /** Links that stay under the worker's roots (a Hub cache snapshot's files link to its blobs) convert as usual. */
    @Test
    void aLocalSnapshotWhoseLinksStayUnderTheRootsConverts() throws Exception {
        Path blobs = Files.createDirectories(stack.root.resolve("linked-in/blobs"));
        Path dir = TinyModels.bert(stack.root.resolve("linked-in/snapshot"), 7);
        Files.move(dir.resolve("config.json"), blobs.resolve("config"));
        Files.createSymbolicLink(dir.resolve("config.json"), Path.of("../blobs/config"));
        JsonNode c = stack.publish("linked-in", Map.of("type", "local", "path", dir.toString()), List.of("A14"), 32);
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(2), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
    }

    @Test
    void anUnsupportedArchitectureFailsAtImport() throws Exception {
        Path dir = TinyModels.bert(stack.root.resolve("t5"), 5);
        String config = Files.readString(dir.resolve("config.json")).replace("\"bert\"", "\"t5\"")
                .replace("\"BertModel\"", "\"T5Model\"");
        Files.writeString(dir.resolve("config.json"), config);
        stack.serve("org/t5", "5555555555555555555555555555555555555555", dir);
        JsonNode done = failed("t5", hub("org/t5"));
        assertThat(done.path("error").asString()).startsWith("import: ").containsIgnoringCase("t5");
    }

    @Test
    void anUnknownRepositoryFailsAtFetch() {
        JsonNode done = failed("no-such-repo", hub("org/no-such-repo"));
        assertThat(done.path("error").asString()).startsWith("fetch: ").contains("org/no-such-repo");
    }
}
