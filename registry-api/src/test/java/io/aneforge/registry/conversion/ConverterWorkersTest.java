package io.aneforge.registry.conversion;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import io.aneforge.registry.conversion.ConversionViews.HeldConversion;
import io.aneforge.registry.conversion.ConversionViews.WorkerView;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * The registry knows which converter workers run (V34): a queued conversion's {@code waitingFor} tells no worker
 * from old workers only, from capable ones all busy, and {@code GET /api/v1/workers} lists them, over real HTTP
 * against PostgreSQL, with a lease call of an older worker (no {@code conversionOptions}, no request id) among them.
 */
class ConverterWorkersTest extends RegistryTestBase {

    private static final Map<String, Object> SOURCE = Map.of("type", "hub", "repo", "sentence-transformers/all-MiniLM-L6-v2");

    @Autowired
    JdbcClient jdbc;

    @Test
    void waitingForSaysWhetherAWorkerThatCanTakeTheConversionRuns() {
        quietFleet();
        createModel("workers-wait");
        String worker = token("worker");
        List<Long> ids = new ArrayList<>();
        try {
            long headNone = queue("workers-wait", "none", ids);
            assertThat(waitingFor(headNone)).startsWith("no converter worker has asked for work in the last 2 minutes")
                    .contains("conversionOptions 1");

            // an older worker's call, exactly as it sends it: no conversionOptions, no request id
            Response old = send("POST", "/api/v1/conversions/lease", worker, Map.of("worker", "cw-old"));
            assertThat(old.status()).as("the head-none conversion is not for it: " + old.text()).isEqualTo(204);
            assertThat(waitingFor(headNone)).isEqualTo("1 converter worker running ('cw-old'), none declares"
                    + " conversionOptions 1 or more (it acts on the head and tokenTypes this conversion needs): upgrade them;"
                    + " workers of releases before it skip this conversion");
            JsonNode oldView = worker("cw-old");
            assertThat(oldView.path("conversionOptions").asInt()).isZero();
            assertThat(oldView.path("running").asBoolean()).isTrue();
            assertThat(oldView.path("holds").size()).isZero();
            assertThat(OffsetDateTime.parse(oldView.path("lastCall").asString()))
                    .isAfter(OffsetDateTime.now().minusMinutes(1));

            long plain = queue("workers-wait", null, ids);
            assertThat(waitingFor(plain)).startsWith("its turn in the queue: 1 capable worker is idle");
            Response leased = send("POST", "/api/v1/conversions/lease", worker, Map.of("worker", "cw-old"));
            assertThat(leased.status()).as(leased.text()).isEqualTo(200);
            assertThat(leased.json().path("conversion").path("id").asLong()).isEqualTo(plain);
            JsonNode holds = worker("cw-old").path("holds");
            assertThat(holds.size()).isEqualTo(1);
            assertThat(holds.get(0).path("conversion").asLong()).isEqualTo(plain);
            assertThat(holds.get(0).path("model").asString()).isEqualTo("workers-wait");
            assertThat(waitingFor(headNone)).startsWith("1 converter worker running ('cw-old'), none declares");

            Response current = send("POST", "/api/v1/conversions/lease", worker,
                    Map.of("worker", "cw-new", "conversionOptions", 1));
            assertThat(current.status()).as(current.text()).isEqualTo(200);
            assertThat(current.json().path("conversion").path("id").asLong()).isEqualTo(headNone);
            long typed = queue("workers-wait", "none", ids);
            assertThat(waitingFor(typed)).isEqualTo("waiting for a free worker: 1 capable worker busy ('cw-new');"
                    + " also running: 1 converter worker that does not declare conversionOptions 1 or more (upgrading it adds"
                    + " capacity)");
            long plain2 = queue("workers-wait", null, ids);
            assertThat(waitingFor(plain2)).isEqualTo("waiting for a free worker: 2 capable workers busy ('cw-new',"
                    + " 'cw-old')");

            // both gone: no lease call within the window, their leases ran out
            jdbc.sql("UPDATE converter_worker SET last_call = now() - interval '10 minutes'"
                    + " WHERE worker IN ('cw-old', 'cw-new')").update();
            jdbc.sql("UPDATE conversion SET lease_expires_at = now() - interval '1 second' WHERE id IN (?, ?)")
                    .params(plain, headNone).update();
            assertThat(waitingFor(typed)).startsWith("no converter worker has asked for work in the last 2 minutes"
                    + " and none holds a conversion: start one of a release that acts on head and tokenTypes");
            assertThat(waitingFor(plain2)).isEqualTo("no converter worker has asked for work in the last 2 minutes"
                    + " and none holds a conversion: start one");
            JsonNode gone = worker("cw-old");
            assertThat(gone.path("running").asBoolean()).isFalse();
            assertThat(gone.path("holds").size()).isZero();
        } finally {
            for (long id : ids) send("POST", "/api/v1/conversions/" + id + "/cancel", publisher(), null);
        }
    }

    @Test
    void aWorkersRowIsWrittenAtMostOncePerQuarterOfTheWindowAndAtOnceWhenItsOptionsChange() {
        quietFleet();
        String worker = token("worker");
        assertThat(send("POST", "/api/v1/conversions/lease", worker, Map.of("worker", "cw-poll")).status()).isEqualTo(204);
        OffsetDateTime marker = OffsetDateTime.now().minusSeconds(10).withNano(0);
        jdbc.sql("UPDATE converter_worker SET last_call = ? WHERE worker = 'cw-poll'").param(marker).update();
        for (int i = 0; i < 3; i++) {
            assertThat(send("POST", "/api/v1/conversions/lease", worker, Map.of("worker", "cw-poll")).status())
                    .isEqualTo(204);
        }
        assertThat(row("cw-poll").lastCall().toInstant()).as("polls within 30 s write nothing")
                .isEqualTo(marker.toInstant());
        assertThat(send("POST", "/api/v1/conversions/lease", worker, Map.of("worker", "cw-poll", "conversionOptions", 1))
                .status()).isEqualTo(204);
        Row upgraded = row("cw-poll");
        assertThat(upgraded.options()).isEqualTo(1);
        assertThat(upgraded.lastCall().toInstant()).isAfter(marker.toInstant());

        Response negative = send("POST", "/api/v1/conversions/lease", worker,
                Map.of("worker", "cw-poll", "conversionOptions", -1));
        assertThat(negative.status()).as(negative.text()).isEqualTo(400);
        assertThat(negative.json().path("detail").asString()).contains("'conversionOptions' must be 0 or more");
        assertThat(row("cw-poll").options()).as("nothing written for a refused call").isEqualTo(1);

        assertThat(get("/api/v1/workers", null).status()).isEqualTo(401);
        for (String role : List.of("reader", "publisher", "worker", "agent")) {
            assertThat(get("/api/v1/workers", token(role)).status()).as(role).isEqualTo(200);
        }
    }

    @Test
    void theMessageNamesAtMostFiveWorkersAndCountsTheRest() {
        List<WorkerView> old = new ArrayList<>();
        for (int i = 1; i <= 7; i++) old.add(new WorkerView("w" + i, 0, null, null, true, List.of()));
        assertThat(ConverterWorkers.waitingFor(Conversions.OPTIONS_HEAD_TOKEN_TYPES, old, Duration.ofSeconds(90))).startsWith("7 converter workers running"
                + " ('w1', 'w2', 'w3', 'w4', 'w5' and 2 more), none declares conversionOptions 1");
        assertThat(ConverterWorkers.waitingFor(0, List.of(), Duration.ofSeconds(90)))
                .startsWith("no converter worker has asked for work in the last 90 s");
        WorkerView busy = new WorkerView("b", 1, null, null, true, List.of(new HeldConversion(1, "m", 1, null)));
        WorkerView idle = new WorkerView("i", null, null, null, true, List.of());
        assertThat(ConverterWorkers.waitingFor(0, List.of(busy, idle), Duration.ofMinutes(1)))
                .as("a holder whose options are unknown still takes a default conversion")
                .startsWith("its turn in the queue: 1 capable worker is idle");
        assertThat(ConverterWorkers.waitingFor(Conversions.OPTIONS_HEAD_TOKEN_TYPES, List.of(busy, idle), Duration.ofMinutes(1)))
                .isEqualTo("waiting for a free worker: 1 capable worker busy ('b'); also running: 1 converter worker that"
                        + " does not declare conversionOptions 1 or more (upgrading it adds capacity)");
        assertThat(ConverterWorkers.waitingFor(Conversions.OPTIONS_PRE_TRAINING, List.of(busy, idle), Duration.ofMinutes(1)))
                .as("a worker declaring 1 does not know the pre-training head")
                .isEqualTo("2 converter workers running ('b', 'i'), none declares conversionOptions 2 or more (it acts"
                        + " on the head and tokenTypes and knows the pre-training head this conversion needs): upgrade"
                        + " them; workers of releases before it skip this conversion");
    }

    /** No other test's conversion in the queue or leased, and no worker seen within the window. */
    private void quietFleet() {
        for (JsonNode c : get("/api/v1/conversions?state=active&limit=500", ADMIN).json()) {
            assertThat(send("POST", "/api/v1/conversions/" + c.path("id").asLong() + "/cancel", ADMIN, null).status())
                    .isEqualTo(200);
        }
        jdbc.sql("UPDATE converter_worker SET last_call = least(last_call, now() - interval '1 hour')").update();
    }

    private long queue(String model, String head, List<Long> ids) {
        Map<String, Object> body = new LinkedHashMap<>(Map.of("source", SOURCE, "chips", List.of("M2")));
        if (head != null) body.put("head", head);
        Response created = send("POST", "/api/v1/models/" + model + "/versions", publisher(), body);
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        long id = get("/api/v1/models/" + model + "/versions/" + created.json().path("version").asInt() + "/conversion",
                reader()).json().path("id").asLong();
        ids.add(id);
        return id;
    }

    private String waitingFor(long conversion) {
        Response r = get("/api/v1/conversions/" + conversion, reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().path("state").asString()).isEqualTo("queued");
        return r.json().path("waitingFor").asString();
    }

    private JsonNode worker(String id) {
        Response r = get("/api/v1/workers", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        for (JsonNode w : r.json()) if (id.equals(w.path("worker").asString())) return w;
        throw new AssertionError("worker '" + id + "' not listed: " + r.text());
    }

    private record Row(int options, OffsetDateTime lastCall) {}

    private Row row(String worker) {
        return jdbc.sql("SELECT conversion_options, last_call FROM converter_worker WHERE worker = ?").param(worker)
                .query((rs, n) -> new Row(rs.getInt(1), rs.getObject(2, OffsetDateTime.class))).single();
    }
}
