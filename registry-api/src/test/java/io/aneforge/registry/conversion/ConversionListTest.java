package io.aneforge.registry.conversion;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** {@code GET /api/v1/conversions}: the UI's "conversions in progress" list. */
class ConversionListTest extends RegistryTestBase {

    private static final String MODEL = "conv-list";

    private JsonNode publishConversion() {
        Response r = send("POST", "/api/v1/models/" + MODEL + "/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/" + MODEL, "revision", "main"), "chips", List.of("A14")));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        Response c = get("/api/v1/models/" + MODEL + "/versions/" + r.json().path("version").asInt() + "/conversion", reader());
        assertThat(c.status()).as(c.text()).isEqualTo(200);
        return c.json();
    }

    private String lease(long id, String workerId) {
        Response r = send("POST", "/api/v1/conversions/" + id + "/lease", token("worker"), Map.of("worker", workerId));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json().path("leaseToken").asString();
    }

    /** This class's rows only: other test classes share the database. */
    private List<JsonNode> list(String query) {
        Response r = get("/api/v1/conversions" + query, reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        List<JsonNode> rows = new ArrayList<>();
        r.json().forEach(n -> {
            if (n.path("model").asString().equals(MODEL)) rows.add(n);
        });
        return rows;
    }

    private static List<Long> ids(List<JsonNode> rows) {
        return rows.stream().map(n -> n.path("id").asLong()).toList();
    }

    @Test
    void listsActiveConversionsNewestFirstWithProgressAndAllWithTheFinishedOnes() {
        createModel(MODEL);
        JsonNode queued = publishConversion();
        JsonNode running = publishConversion();
        JsonNode cancelled = publishConversion();
        JsonNode failed = publishConversion();
        long queuedId = queued.path("id").asLong(), runningId = running.path("id").asLong();
        long cancelledId = cancelled.path("id").asLong(), failedId = failed.path("id").asLong();
        int planned = running.path("variants").size();
        assertThat(planned).isGreaterThanOrEqualTo(2);

        // running: one variant registered, one failed, step 'variants'
        String token = lease(runningId, "w-list");
        JsonNode first = running.path("variants").get(0);
        JsonNode reg = first.path("registration");
        String digest = upload(mlpackage("conv-list-" + first.path("specId").asString()));
        Map<String, Object> body = new HashMap<>(Map.of("chip", reg.path("chip").asString(),
                "deploymentTarget", reg.path("deploymentTarget").asString(), "layout", reg.path("layout").asString(),
                "precision", reg.path("precision").asString(), "seqLen", reg.path("seqLen").asInt(), "digest", digest));
        if (!reg.path("blockSize").isNull()) body.put("blockSize", reg.path("blockSize").asInt());
        Response registered = send("POST", "/api/v1/models/" + MODEL + "/versions/" + running.path("version").asInt()
                + "/variants", token("worker"), body);
        assertThat(registered.status()).as(registered.text()).isEqualTo(201);
        Response p = send("POST", "/api/v1/conversions/" + runningId + "/progress", token("worker"), Map.of("leaseToken", token,
                "step", "variants", "variants", List.of(
                        Map.of("specId", first.path("specId").asString(), "state", "registered", "digest", digest,
                                "variantId", registered.json().path("id").asLong()),
                        Map.of("specId", running.path("variants").get(1).path("specId").asString(), "state", "failed",
                                "error", "compile: out of memory"))));
        assertThat(p.status()).as(p.text()).isEqualTo(200);

        assertThat(send("POST", "/api/v1/conversions/" + cancelledId + "/cancel", publisher(), null).status()).isEqualTo(200);
        String failToken = lease(failedId, "w-list");
        Response f = send("POST", "/api/v1/conversions/" + failedId + "/fail", token("worker"),
                Map.of("leaseToken", failToken, "reason", "import: config.json: unsupported architecture 'T5Model'"));
        assertThat(f.status()).as(f.text()).isEqualTo(200);

        // default = active: queued and running only, newest first
        List<JsonNode> active = list("");
        assertThat(ids(active)).containsExactly(runningId, queuedId);
        assertThat(ids(list("?state=active"))).containsExactly(runningId, queuedId);
        JsonNode run = active.get(0);
        assertThat(run.path("state").asString()).isEqualTo("running");
        assertThat(run.path("step").asString()).isEqualTo("variants");
        assertThat(run.path("leaseOwner").asString()).isEqualTo("w-list");
        assertThat(run.path("version").asInt()).isEqualTo(running.path("version").asInt());
        assertThat(run.path("variantsDone").asInt()).isEqualTo(1);
        assertThat(run.path("variantsFailed").asInt()).isEqualTo(1);
        assertThat(run.path("variantsTotal").asInt()).isEqualTo(planned);
        assertThat(run.path("updatedAt").asString()).isNotEmpty();
        JsonNode q = active.get(1);
        assertThat(q.path("state").asString()).isEqualTo("queued");
        assertThat(q.path("variantsDone").asInt()).isZero();
        assertThat(q.path("variantsTotal").asInt()).isEqualTo(planned);

        // all: the finished ones too, newest first, with the failure reason
        List<JsonNode> all = list("?state=all&limit=500");
        assertThat(ids(all)).containsExactly(failedId, cancelledId, runningId, queuedId);
        assertThat(all.get(0).path("state").asString()).isEqualTo("failed");
        assertThat(all.get(0).path("error").asString()).contains("unsupported architecture 'T5Model'");
        assertThat(all.get(0).path("finishedAt").isNull()).isFalse();
        assertThat(all.get(1).path("state").asString()).isEqualTo("cancelled");

        // limit keeps the newest
        Response one = get("/api/v1/conversions?state=all&limit=1", reader());
        assertThat(one.json().size()).isEqualTo(1);
        assertThat(one.json().get(0).path("id").asLong()).isGreaterThanOrEqualTo(failedId);
    }

    @Test
    void badQueriesNameTheParameterAndAnonymousCallersAreRefused() {
        Response state = get("/api/v1/conversions?state=running", reader());
        assertThat(state.status()).isEqualTo(400);
        assertThat(state.problem()).isEqualTo("invalid-query");
        assertThat(state.json().path("detail").asString()).contains("'state'").contains("'active'").contains("'running'");
        Response limit = get("/api/v1/conversions?limit=0", reader());
        assertThat(limit.status()).isEqualTo(400);
        assertThat(limit.json().path("detail").asString()).contains("'limit'").contains("500");
        assertThat(get("/api/v1/conversions", null).status()).isEqualTo(401);
        for (String role : List.of("reader", "publisher", "qa", "worker", "agent", "admin")) {
            assertThat(get("/api/v1/conversions", token(role)).status()).as(role).isEqualTo(200);
        }
    }
}
