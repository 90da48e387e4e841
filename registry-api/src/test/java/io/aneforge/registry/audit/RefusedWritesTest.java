package io.aneforge.registry.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import tools.jackson.databind.JsonNode;

/**
 * Refused writes (403, 409) in the audit trail: a row per hour, token, endpoint, problem type and model in
 * audit_refusal (GET /api/v1/audit/refusals), never an audit event (GET /api/v1/audit); a flood adds to a count, not
 * rows; refused reads, unauthenticated requests and bad input are counted apart by kind (V32); rows go after their
 * own retention.
 */
@ExtendWith(OutputCaptureExtension.class)
class RefusedWritesTest extends AuditTestSupport {

    @Autowired
    AuditPruning pruning;

    private static String rid(String what) {
        return "refused-" + what + "-" + UUID.randomUUID();
    }

    private long tokenId(String token) {
        return get("/api/v1/tokens/self", token).json().path("id").asLong();
    }

    @Test
    void aConflictIsARefusalRowNotAnAuditEventAndAFloodCountsInOneRow(CapturedOutput out) {
        String m = "refused-" + Long.toHexString(System.nanoTime());
        createModel(m);
        // a token of its own: other tests' refusals of this hour count in the shared publisher's rows
        String flooder = "refused-flooder-" + m;
        String token = mint(flooder, "publisher").token();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String id = rid("exists-" + i);
            ids.add(id);
            Response r = send("POST", "/api/v1/models", token, Map.of("name", m, "task", "feature-extraction"),
                    "X-Request-Id", id);
            assertThat(r.status()).as(r.text()).isEqualTo(409);
            assertThat(auditEvents(id)).as("a refusal is never an audit event").isEmpty();
        }
        List<JsonNode> rows = refusalsOf(ids.get(0));
        assertThat(rows).hasSize(1);
        JsonNode row = rows.get(0);
        assertThat(row.path("count").asLong()).as("five refusals, one row").isEqualTo(5);
        assertThat(row.path("firstRequestId").asString()).isEqualTo(ids.get(0));
        assertThat(row.path("lastRequestId").asString()).isEqualTo(ids.get(4));
        assertThat(refusalsOf(ids.get(4))).extracting(r -> r.path("id").asLong()).containsExactly(row.path("id").asLong());
        assertThat(row.path("actor").asString()).isEqualTo(flooder);
        assertThat(row.path("actorTokenId").asLong()).isEqualTo(tokenId(token));
        assertThat(row.path("actorRole").asString()).isEqualTo("publisher");
        assertThat(row.path("method").asString()).isEqualTo("POST");
        assertThat(row.path("route").asString()).isEqualTo("/api/v1/models");
        assertThat(row.path("status").asInt()).isEqualTo(409);
        assertThat(row.path("problemType").asString()).isEqualTo("model-exists");
        assertThat(row.path("model").isNull()).as("the model was in the body, not the path").isTrue();
        assertThat(row.path("lastDetail").asString()).contains(m);
        assertThat(row.path("firstAt").asString()).isNotEmpty();
        assertThat(jdbc.sql("SELECT count(*) FROM audit_event WHERE request_id = ANY(?)")
                .param(ids.toArray(String[]::new)).query(Long.class).single()).isZero();

        // one line per refusal, on its own logger: each request id is there, none on the done-writes' logger
        String lines = String.join("\n", out.getAll().lines().filter(l -> ids.stream().anyMatch(l::contains)).toList());
        for (String id : ids) assertThat(lines).contains("requestId=" + id);
        assertThat(lines).contains("aneforge.audit.refused").contains("refused status=409 type=model-exists method=POST")
                .contains("actor=" + flooder);
        assertThat(lines).doesNotContain("audit action=");
    }

    @Test
    void aRefusalIsCountedInMemoryAndWrittenByTheFlushOrBeforeARead() {
        String m = "refused-later-" + Long.toHexString(System.nanoTime());
        createModel(m);
        Minted minted = mint("refused-later-" + m, "publisher");
        String token = minted.token();
        long tokenId = minted.id();
        for (int i = 0; i < 3; i++) {
            assertThat(send("POST", "/api/v1/models", token, Map.of("name", m, "task", "feature-extraction")).status())
                    .isEqualTo(409);
        }
        // the refused requests wrote nothing (the test registry flushes hourly): no commit per refusal
        assertThat(rowsOf(tokenId)).as("no row before the flush").isEmpty();
        refusedWrites.flush();
        assertThat(rowsOf(tokenId)).containsExactly(3L);
        assertThat(send("POST", "/api/v1/models", token, Map.of("name", m, "task", "feature-extraction")).status())
                .isEqualTo(409);
        // a read adds what is counted in memory first
        Response read = get("/api/v1/audit/refusals?model=" + m, ADMIN);
        assertThat(read.status()).isEqualTo(200);
        assertThat(rowsOf(tokenId)).as("the same row, one more").containsExactly(4L);
    }

    @Test
    void atMostMaxPendingRowsWaitInMemory() {
        String actor = "refused-bound-" + Long.toHexString(System.nanoTime());
        long tokenId = System.nanoTime() & 0xffffffffL; // no token row needed: audit_refusal keeps the id as given
        io.aneforge.registry.auth.Caller caller = new io.aneforge.registry.auth.Caller(tokenId, actor,
                io.aneforge.registry.auth.Role.PUBLISHER);
        refusedWrites.flush(); // other tests' refusals are not counted against the bound here
        for (int i = 0; i < RefusedWrites.MAX_PENDING; i++) {
            refusedWrites.record(new RefusedWrites.Refusal(caller, "PUT", "/api/v1/models/{name}/gates",
                    "/api/v1/models/made-up-" + i + "/gates", "made-up-" + i + "-" + actor, 403, "forbidden-model",
                    "no", "bound-" + i));
        }
        assertThat(rowsOf(tokenId)).as("names of no model: keys in memory, nothing written yet").isEmpty();
        refusedWrites.record(new RefusedWrites.Refusal(caller, "PUT", "/api/v1/models/{name}/gates",
                "/api/v1/models/one-more/gates", "one-more-" + actor, 403, "forbidden-model", "no", "bound-last"));
        // one more key wrote the others first: the database folds the unknown models into one row
        assertThat(rowsOf(tokenId)).containsExactly((long) RefusedWrites.MAX_PENDING);
        refusedWrites.flush();
        assertThat(rowsOf(tokenId)).containsExactly(RefusedWrites.MAX_PENDING + 1L);
    }

    private List<Long> rowsOf(long tokenId) {
        return jdbc.sql("SELECT count FROM audit_refusal WHERE actor_token_id = ? ORDER BY id").param(tokenId)
                .query(Long.class).list();
    }

    @Test
    void forbiddenRolesAndModelsNameTheTokenTheEndpointAndTheModel() {
        String m = "refused-scope-" + Long.toHexString(System.nanoTime());
        createModel(m);
        // the token check refuses the role before any handler runs: still recorded, with its caller
        String role = rid("role");
        Response r = send("PUT", "/api/v1/models/" + m + "/gates", reader(), Map.of("minCosine", 0.99), "X-Request-Id", role);
        assertThat(r.status()).isEqualTo(403);
        JsonNode byRole = refusalsOf(role).get(0);
        assertThat(byRole.path("problemType").asString()).isEqualTo("forbidden-role");
        assertThat(byRole.path("actor").asString()).isEqualTo("test-reader");
        assertThat(byRole.path("actorRole").asString()).isEqualTo("reader");
        assertThat(byRole.path("route").asString()).isEqualTo("/api/v1/models/{name}/gates");
        assertThat(byRole.path("method").asString()).isEqualTo("PUT");
        assertThat(byRole.path("model").asString()).isEqualTo(m);
        assertThat(byRole.path("lastPath").asString()).isEqualTo("/api/v1/models/" + m + "/gates");

        Minted minted = mint(Map.of("name", "refused-scoped-" + m, "role", "publisher", "models", List.of("elsewhere-" + m)));
        String scoped = minted.token();
        String model = rid("model");
        assertThat(send("PUT", "/api/v1/models/" + m + "/gates", scoped, Map.of("minCosine", 0.99), "X-Request-Id", model)
                .status()).isEqualTo(403);
        JsonNode byModel = refusalsOf(model).get(0);
        assertThat(byModel.path("problemType").asString()).isEqualTo("forbidden-model");
        assertThat(byModel.path("actorTokenId").asLong()).isEqualTo(minted.id());
        assertThat(byModel.path("model").asString()).isEqualTo(m);
        assertThat(refusals("model=" + m)).extracting(x -> x.path("problemType").asString())
                .containsExactly("forbidden-model", "forbidden-role");
        assertThat(refusals("problemType=forbidden-model&model=" + m)).hasSize(1);

        // a model that does not exist is no key: names a client makes up add no rows, only the last path says them
        for (int i = 0; i < 3; i++) {
            assertThat(send("PUT", "/api/v1/models/made-up-" + i + "-" + m + "/gates", scoped, Map.of("minCosine", 0.99))
                    .status()).isEqualTo(403);
        }
        long scopedId = minted.id();
        refusedWrites.flush();
        List<Map<String, Object>> made = jdbc.sql("SELECT model, count, last_path FROM audit_refusal"
                + " WHERE actor_token_id = ? AND model IS NULL").param(scopedId).query().listOfRows();
        assertThat(made).hasSize(1);
        assertThat(((Number) made.get(0).get("count")).longValue()).isEqualTo(3);
        assertThat((String) made.get(0).get("last_path")).isEqualTo("/api/v1/models/made-up-2-" + m + "/gates");
    }

    @Test
    void refusedReadsUnauthenticatedCallsAndBadInputAreRecordedApartByKindAndOtherErrorsNot() {
        String read = rid("read");
        assertThat(get("/api/v1/audit", reader(), "X-Request-Id", read).status()).as("a read").isEqualTo(403);
        String anonymous = rid("anonymous");
        assertThat(send("POST", "/api/v1/models", null, Map.of("name", "x", "task", "t"), "X-Request-Id", anonymous)
                .status()).isEqualTo(401);
        String invalid = rid("invalid");
        assertThat(send("POST", "/api/v1/models", publisher(), Map.of("name", "Not Valid", "task", "t"),
                "X-Request-Id", invalid).status()).as("bad input").isEqualTo(400);
        // since V32 each is counted, told apart from refused writes by its kind (AuditGapsTest has the details)
        assertThat(refusalsOf(read)).extracting(r -> r.path("kind").asString()).containsExactly("refused-read");
        assertThat(refusalsOf(anonymous)).extracting(r -> r.path("kind").asString()).containsExactly("unauthenticated");
        assertThat(refusalsOf(invalid)).extracting(r -> r.path("kind").asString()).containsExactly("invalid-write");
        String missing = rid("missing");
        assertThat(get("/api/v1/models/no-such-" + missing, reader(), "X-Request-Id", missing).status()).isEqualTo(404);
        assertThat(refusalsOf(missing)).as("a 404 is no refusal").isEmpty();
    }

    @Test
    void theQueryIsCheckedAndPagesByRow() {
        Response bad = get("/api/v1/audit/refusals?limit=0", ADMIN);
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.problem()).isEqualTo("invalid-query");
        assertThat(get("/api/v1/audit/refusals?since=yesterday", ADMIN).problem()).isEqualTo("invalid-query");
        String m = "refused-page-" + Long.toHexString(System.nanoTime());
        createModel(m);
        // two rows of the model: two problem types
        assertThat(send("POST", "/api/v1/models/" + m + "/versions", reader(), Map.of("source", Map.of("type", "upload")))
                .status()).isEqualTo(403);
        assertThat(send("PUT", "/api/v1/models/" + m + "/gates", reader(), Map.of("minCosine", 0.9)).status()).isEqualTo(403);
        Response first = get("/api/v1/audit/refusals?limit=1&model=" + m, ADMIN);
        assertThat(first.json().path("refusals")).hasSize(1);
        long next = first.json().path("nextBefore").asLong();
        Response second = get("/api/v1/audit/refusals?limit=1&model=" + m + "&before=" + next, ADMIN);
        assertThat(second.json().path("refusals")).hasSize(1);
        assertThat(second.json().path("refusals").get(0).path("id").asLong()).isLessThan(next);
        assertThat(second.json().path("nextBefore").isNull()).isTrue();
    }

    @Test
    void rowsGoAfterTheirRetentionCountedFromTheirLastRefusal() {
        String actor = "refused-retention-" + Long.toHexString(System.nanoTime());
        int[] ages = {40, 40, 40, 20, 0};
        for (int i = 0; i < ages.length; i++) { // one endpoint each: rows of one hour and endpoint would be one row
            jdbc.sql("INSERT INTO audit_refusal (bucket, first_at, last_at, actor_name, actor_role, method, route, status,"
                            + " problem_type, last_path) VALUES (date_trunc('hour', now() - make_interval(days => ?)),"
                            + " now() - make_interval(days => 45), now() - make_interval(days => ?), ?, 'reader', 'POST',"
                            + " ?, 403, 'forbidden-role', '/api/v1/models')")
                    .params(ages[i], ages[i], actor, "/api/v1/endpoint-" + i).update();
        }
        assertThat(pruning.pruneRefusals(Duration.ofDays(30), 2, 1)).as("one statement of two rows").isEqualTo(2L);
        assertThat(pruning.pruneRefusals(Duration.ofDays(30), 2, 10)).isEqualTo(1L);
        assertThat(jdbc.sql("SELECT CAST(round(extract(epoch FROM now() - last_at) / 86400) AS int) FROM audit_refusal"
                + " WHERE actor_name = ? ORDER BY last_at").param(actor).query(Integer.class).list())
                .as("a row first refused 45 days ago but still refused 20 days ago stays").containsExactly(20, 0);
    }

    @Test
    void theRefusalRetentionDefaultsTo30DaysAndIsAtLeastADay() {
        assertThat(bind(Map.of()).refusalRetention()).isEqualTo(Duration.ofDays(30));
        assertThat(bind(Map.of("aneforge.audit.refusal-retention", "")).refusalRetention())
                .as("ANEFORGE_AUDIT_REFUSAL_RETENTION unset").isEqualTo(Duration.ofDays(30));
        assertThat(bind(Map.of("aneforge.audit.refusal-retention", "90d")).refusalRetention()).isEqualTo(Duration.ofDays(90));
        assertThatThrownBy(() -> bind(Map.of("aneforge.audit.refusal-retention", "12h")))
                .isInstanceOf(BindException.class).rootCause()
                .hasMessageContaining("aneforge.audit.refusal-retention (ANEFORGE_AUDIT_REFUSAL_RETENTION) must be at least 1d");
    }

    @Test
    void theFlushIntervalDefaultsTo5SecondsAndIsPositiveAndAtMostAnHour() {
        assertThat(bind(Map.of()).refusalFlushInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(bind(Map.of("aneforge.audit.refusal-flush-interval", "")).refusalFlushInterval())
                .as("ANEFORGE_AUDIT_REFUSAL_FLUSH_INTERVAL unset").isEqualTo(Duration.ofSeconds(5));
        assertThat(bind(Map.of("aneforge.audit.refusal-flush-interval", "30s")).refusalFlushInterval())
                .isEqualTo(Duration.ofSeconds(30));
        for (String bad : List.of("0s", "2h")) {
            assertThatThrownBy(() -> bind(Map.of("aneforge.audit.refusal-flush-interval", bad)))
                    .isInstanceOf(BindException.class).rootCause().hasMessageContaining(
                            "aneforge.audit.refusal-flush-interval (ANEFORGE_AUDIT_REFUSAL_FLUSH_INTERVAL) must be more"
                                    + " than 0 and at most 1h");
        }
    }

    private static AuditProperties bind(Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("aneforge.audit", Bindable.of(AuditProperties.class));
    }
}
