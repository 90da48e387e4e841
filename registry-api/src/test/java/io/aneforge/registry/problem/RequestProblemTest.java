package io.aneforge.registry.problem;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Malformed requests get this registry's problem documents (slug, the field, the fix), not the framework's
 * generic ones, and text holding U+0000 is refused before it reaches PostgreSQL (which cannot store it).
 */
class RequestProblemTest extends RegistryTestBase {

    private static void assertProblem(Response r, int status, String slug, String... detailParts) {
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
        assertThat(r.problem()).as(r.text()).isEqualTo(slug);
        for (String part : detailParts) {
            assertThat(r.json().path("detail").asString()).as(r.text()).contains(part);
        }
    }

    @Test
    void frameworkRefusalsCarryTheRegistrysSlugs() {
        assertProblem(send("POST", "/api/v1/models", publisher(), "{\"name\": \"broken\", "), 400, "invalid-request",
                "not valid JSON");
        assertProblem(send("POST", "/api/v1/models", publisher(), "{\"name\": \"wrong-type\", \"task\": {\"a\": 1}}"),
                400, "invalid-request", "task");
        assertProblem(send("POST", "/api/v1/models", publisher(), Map.of("name", "no-task")), 400, "invalid-request",
                "task");
        // docs/pipeline.md: a bad limit is invalid-query, whether it is no number or out of range
        assertProblem(get("/api/v1/conversions?limit=abc", reader()), 400, "invalid-query", "limit", "abc");
        assertProblem(get("/api/v1/conversions?limit=0", reader()), 400, "invalid-query", "limit", "0");
        // numbers are JSON numbers, whole where the field is whole: no silent rounding or parsing of strings
        createModel("coercion");
        int v = createVersion("coercion");
        String digest = upload(mlpackage("coercion"));
        for (String seqLen : new String[] {"128.5", "\"128\""}) {
            assertProblem(send("POST", "/api/v1/models/coercion/versions/" + v + "/variants", publisher(),
                    "{\"chip\": \"M2\", \"deploymentTarget\": \"18.0\", \"layout\": \"ane\", \"precision\": \"fp16\","
                            + " \"seqLen\": " + seqLen + ", \"digest\": \"" + digest + "\"}"),
                    400, "invalid-request", "seqLen");
        }
        assertProblem(get("/api/v1/nothing-here", reader()), 404, "no-such-endpoint", "/api/v1/nothing-here");
    }

    /** An unreadable body's detail names the place (a JSON pointer) and what JSON belongs there, never Java internals. */
    private static void assertUnreadable(Response r, String... detailParts) {
        assertProblem(r, 400, "invalid-request", detailParts);
        assertThat(r.json().path("title").asString()).isEqualTo("Invalid request body");
        assertThat(r.json().path("detail").asString()).as(r.text()).doesNotContain("io.aneforge").doesNotContain("java.")
                .doesNotContain("tools.jackson").doesNotContain("Source:").doesNotContain("`").doesNotContain("$")
                .doesNotContain("Cannot deserialize").doesNotContain("byte offset");
    }

    @Test
    void unreadableBodiesNameTheFieldAndTheExpectedJsonNotJavaClasses() {
        assertUnreadable(send("POST", "/api/v1/tokens", token("admin"), "[\"name\", \"reader\"]"), "the body must be an object");
        assertUnreadable(send("POST", "/api/v1/models", publisher(), "{\"name\": \"broken\", "),
                "not valid JSON: it ends before the JSON is complete (line 1, column ");
        assertUnreadable(send("POST", "/api/v1/models", publisher(), "{\"name\": \"a\u0000b\", \"task\": \"t\"}"),
                "not valid JSON: a string holds a raw control character");
        assertUnreadable(send("POST", "/api/v1/models", publisher(), "{\"name\": \"bad\" \"task\": \"t\"}"),
                "the request body is not valid JSON (line 1, column ");
        assertUnreadable(send("POST", "/api/v1/models", publisher(), ""), "the request needs a JSON body");
        createModel("unreadable");
        assertUnreadable(send("POST", "/api/v1/models/unreadable/versions", publisher(), "{\"source\": \"upload\"}"),
                "field '/source' must be an object");
        int v = createVersion("unreadable");
        String digest = upload(mlpackage("unreadable"));
        String variant = "{\"chip\": \"M2\", \"deploymentTarget\": \"18.0\", \"layout\": \"ane\", \"precision\": \"fp16\","
                + " \"digest\": \"" + digest + "\", \"seqLen\": ";
        assertUnreadable(send("POST", "/api/v1/models/unreadable/versions/" + v + "/variants", publisher(), variant + "99999999999}"),
                "field '/seqLen' is out of range: expected a whole number from -2147483648 to 2147483647");
        assertUnreadable(send("POST", "/api/v1/models/unreadable/versions/" + v + "/variants", publisher(), variant + "\"128\"}"),
                "field '/seqLen' must be a whole number from -2147483648 to 2147483647");
        assertUnreadable(send("POST", "/api/v1/models/unreadable/versions/" + v + "/variants", publisher(), variant + "[128]}"),
                "field '/seqLen' must be a whole number");
    }

    @Test
    void scalarsAreNotCoercedAndKeysAreNotRepeated() {
        for (String task : new String[] {"123", "1.5", "true"}) {
            assertUnreadable(send("POST", "/api/v1/models", publisher(), "{\"name\": \"coerced\", \"task\": " + task + "}"),
                    "field '/task' must be a string");
        }
        assertThat(get("/api/v1/models/coerced", reader()).status()).isEqualTo(404);
        assertUnreadable(send("POST", "/api/v1/models", publisher(), "{\"name\": \"dup\", \"name\": \"dup2\", \"task\": \"t\"}"),
                "the request body has the key 'name' twice");
        assertThat(get("/api/v1/models/dup", reader()).status()).isEqualTo(404);
        assertThat(get("/api/v1/models/dup2", reader()).status()).isEqualTo(404);
        createModel("dup-nested");
        assertUnreadable(send("POST", "/api/v1/models/dup-nested/versions", publisher(),
                "{\"source\": {\"type\": \"upload\", \"type\": \"hub\"}}"), "the key 'type' twice");
        // the same bodies, well-formed, are accepted
        assertThat(send("POST", "/api/v1/models", publisher(), "{\"name\": \"coerced\", \"task\": \"123\"}").status())
                .isEqualTo(201);
    }

    @Test
    void anAcceptHeaderTheEndpointCannotAnswerIsA406Problem() {
        for (String accept : new String[] {"text/html", "text/csv", "image/png"}) {
            Response r = get("/api/v1/models", reader(), "Accept", accept);
            assertProblem(r, 406, "not-acceptable", "application/json");
        }
        createModel("accept-checks");
        // the matrix writes JSON and CSV, and says so
        Response matrix = get("/api/v1/models/accept-checks/versions/1/matrix", reader(), "Accept", "text/html");
        assertProblem(matrix, 406, "not-acceptable", "application/json or text/csv");
        assertThat(matrix.json().path("supportedMediaTypes")).extracting(tools.jackson.databind.JsonNode::asString)
                .containsExactlyInAnyOrder("application/json", "text/csv");
        assertThat(get("/api/v1/models", reader(), "Accept", "application/json").status()).isEqualTo(200);
        assertThat(get("/api/v1/models", reader(), "Accept", "*/*").status()).isEqualTo(200);
    }

    @Test
    void pathsTomcatRefusesGetProblemDocumentsNotItsHtmlPage() {
        for (String path : new String[] {"/api/v1/models/a%00b", "/api/v1/models/..%2fx", "/api/v1/models/a%5cb"}) {
            Response r = get(path, reader());
            assertProblem(r, 400, "invalid-request-uri", "%00");
            assertThat(r.text()).as(path).doesNotContain("<html");
            assertThat(r.json().path("title").asString()).isEqualTo("Invalid request URI");
            assertThat(r.json().path("instance").asString()).isEqualTo(path);
        }
    }

    @Test
    void anOversizedHeaderIsA431ProblemSayingWhatToShrink() {
        Response r = get("/api/v1/models", reader(), "X-Padding", "a".repeat(20_000));
        assertProblem(r, 431, "request-header-too-large", "send smaller headers", "SERVER_MAX_HTTP_REQUEST_HEADER_SIZE");
        assertThat(r.json().path("title").asString()).isEqualTo("Request header too large");
        assertThat(r.json().path("instance").asString()).isEqualTo("/api/v1/models");
        assertThat(get("/api/v1/models", reader()).status()).isEqualTo(200);
    }

    @Test
    void aMissingModelIsModelNotFoundWhereverAVersionIsNamed() {
        for (String path : new String[] {"/api/v1/models/nope/versions/1", "/api/v1/models/nope/versions/1/variants",
                "/api/v1/models/nope/versions/1/matrix"}) {
            assertProblem(get(path, reader()), 404, "model-not-found", "no model named 'nope'");
        }
        assertProblem(send("PUT", "/api/v1/models/nope/aliases/x", publisher(), Map.of("version", 1, "reason", "r")),
                404, "model-not-found", "no model named 'nope'");
        createModel("has-no-versions");
        assertProblem(get("/api/v1/models/has-no-versions/versions/1", reader()), 404, "version-not-found",
                "model 'has-no-versions' has no version 1");
        assertProblem(send("PUT", "/api/v1/models/has-no-versions/aliases/x", publisher(), Map.of("version", 1, "reason", "r")),
                404, "version-not-found");
    }

    @Test
    void nulInTextIsABadRequestNamingTheField() {
        createModel("nul-checks");
        assertProblem(send("POST", "/api/v1/models", publisher(),
                Map.of("name", "nul-desc", "task", "feature-extraction", "description", "a\u0000b")),
                400, "invalid-request", "U+0000", "description");
        assertProblem(send("POST", "/api/v1/tokens", token("admin"), Map.of("name", "x\u0000y", "role", "reader")),
                400, "invalid-request", "U+0000", "name");
        assertProblem(get("/api/v1/models/nul-checks/resolve?chip=A17_PRO&os=18&alias=%00", reader()),
                400, "invalid-parameter", "alias", "U+0000");
        // nothing was stored by the refused requests
        assertThat(get("/api/v1/models/nul-desc", reader()).status()).isEqualTo(404);
        assertThat(get("/api/v1/models/nul-checks", reader()).status()).isEqualTo(200);
    }
}
