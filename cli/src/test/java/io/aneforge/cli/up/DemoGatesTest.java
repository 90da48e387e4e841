package io.aneforge.cli.up;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.registry.RegistryClient;
import io.aneforge.registry.RegistryApplication;
import io.aneforge.testsupport.postgres.TestDatabase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** {@code up} gives the demo model gates once, against the real registry, and never overrides gates set since. */
class DemoGatesTest {

    static final String ADMIN = "up-gates-admin-token-0123456789";

    @TempDir
    static Path dir;
    static ConfigurableApplicationContext registry;
    static RegistryClient admin;

    @BeforeAll
    static void start() {
        System.setProperty("org.springframework.boot.logging.LoggingSystem", "none");
        List<String> args = new ArrayList<>(List.of("--server.port=0", "--aneforge.admin-token=" + ADMIN,
                "--aneforge.data-dir=" + dir.resolve("data"), "--aneforge.cache-ttl=0s"));
        TestDatabase.springProperties().forEach((k, v) -> args.add("--" + k + "=" + v));
        registry = new SpringApplication(RegistryApplication.class).run(args.toArray(String[]::new));
        admin = new RegistryClient(URI.create("http://127.0.0.1:" + registry.getEnvironment().getProperty("local.server.port")), ADMIN);
    }

    @AfterAll
    static void stop() {
        if (registry != null) registry.close();
    }

    @Test
    void theDemoModelGetsMinCosineOnceAndGatesChangedSinceStay() {
        admin.post("/api/v1/models", Map.of("name", UpCommand.DEMO_MODEL, "task", "feature-extraction"));
        String path = "/api/v1/models/" + UpCommand.DEMO_MODEL + "/gates";
        StringWriter printed = new StringWriter();
        UpCommand.setDemoGates(admin, new PrintWriter(printed, true));
        JsonNode gates = admin.get(path);
        assertThat(gates.path("set").asBoolean()).as(gates.toString()).isTrue();
        assertThat(gates.path("gates").path("minCosine").asDouble()).isEqualTo(0.99);
        assertThat(printed.toString()).isEqualTo("gates for all-minilm-l6-v2: minCosine 0.99 (PUT " + path + " to change them)"
                + System.lineSeparator());

        // A second run: already set, nothing is written again.
        StringWriter again = new StringWriter();
        UpCommand.setDemoGates(admin, new PrintWriter(again, true));
        assertThat(again.toString()).isEmpty();
        assertThat(admin.get(path + "/history").size()).isEqualTo(1);

        // Cleared by an admin: up does not put them back.
        admin.put(path, Map.of());
        UpCommand.setDemoGates(admin, new PrintWriter(new StringWriter(), true));
        JsonNode cleared = admin.get(path).path("gates").path("minCosine");
        assertThat(cleared.isMissingNode() || cleared.isNull()).as(admin.get(path).toString()).isTrue();
        assertThat(admin.get(path + "/history").size()).isEqualTo(2);
    }

    /**
     * Gates set before V20 have no history (V20 did not seed it): up must not replace them, which a PUT of its
     * cosine gate would (it replaces the whole set). Such gates are written as V4-era code wrote them, straight into
     * model_gates; both a set with limits and one cleared to none stay as they are.
     */
    @Test
    void gatesSetBeforeTheHistoryExistedStay() throws Exception {
        String[][] cases = {
                {"gates-before-v20", "{\"maxP50Ms\": {\"M1\": 25.0}, \"maxArtifactBytes\": 50000000}"},
                {"gates-cleared-before-v20", "{}"}};
        for (String[] c : cases) {
            String model = c[0];
            admin.post("/api/v1/models", Map.of("name", model, "task", "feature-extraction"));
            try (Connection db = TestDatabase.connect(); PreparedStatement insert = db.prepareStatement(
                    "INSERT INTO model_gates (model_id, gates, updated_by) SELECT id, CAST(? AS jsonb), 'before-v20'"
                            + " FROM model WHERE name = ?")) {
                insert.setString(1, c[1]);
                insert.setString(2, model);
                assertThat(insert.executeUpdate()).isEqualTo(1);
            }
            String path = "/api/v1/models/" + model + "/gates";
            JsonNode before = admin.get(path);
            assertThat(admin.get(path + "/history").isEmpty()).as("no history for gates set before V20").isTrue();

            StringWriter printed = new StringWriter();
            UpCommand.setDemoGates(admin, model, new PrintWriter(printed, true));

            assertThat(printed.toString()).as(model).isEmpty();
            JsonNode after = admin.get(path);
            assertThat(after.path("gates")).as(model).isEqualTo(before.path("gates"));
            assertThat(after.path("updatedBy").asString()).isEqualTo("before-v20");
            assertThat(admin.get(path + "/history").isEmpty()).as("nothing was written").isTrue();
        }
        assertThat(admin.get("/api/v1/models/gates-before-v20/gates").path("gates").path("maxArtifactBytes").asLong())
                .isEqualTo(50_000_000L);

        // A model without gates and without history still gets the demo gates.
        admin.post("/api/v1/models", Map.of("name", "gates-never-set", "task", "feature-extraction"));
        StringWriter printed = new StringWriter();
        UpCommand.setDemoGates(admin, "gates-never-set", new PrintWriter(printed, true));
        assertThat(printed.toString()).startsWith("gates for gates-never-set: minCosine 0.99");
        assertThat(admin.get("/api/v1/models/gates-never-set/gates").path("gates").path("minCosine").asDouble())
                .isEqualTo(0.99);
    }
}
