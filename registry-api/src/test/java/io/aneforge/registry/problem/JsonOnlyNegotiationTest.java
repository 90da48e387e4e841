package io.aneforge.registry.problem;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The API writes JSON (and the few types an endpoint declares: CSV, blob bytes, the UI's HTML, metrics text), never
 * XML, YAML, CBOR or Smile, although Jackson's data formats for those are on the classpath (the embedded S3
 * server needs XML, ane-core reads YAML recipes). Over real HTTP, so the converters Spring Boot actually
 * configured are the ones checked.
 */
class JsonOnlyNegotiationTest extends RegistryTestBase {

    private static final String[] OTHER_FORMATS = {"application/xml", "text/xml", "application/atom+xml",
            "application/yaml", "application/x-yaml", "application/cbor", "application/x-jackson-smile"};

    private static void assertNotAcceptable(Response r, String accept, String... supported) {
        assertThat(r.status()).as(accept + " -> " + r.text()).isEqualTo(406);
        assertThat(r.header("Content-Type")).as(accept).startsWith("application/problem+json");
        assertThat(r.problem()).isEqualTo("not-acceptable");
        assertThat(r.json().path("detail").asString()).contains("Accept: application/json");
        assertThat(r.json().path("supportedMediaTypes")).extracting(JsonNode::asString).as(accept)
                .contains(supported)
                .noneMatch(t -> t.contains("xml") || t.contains("yaml") || t.contains("cbor") || t.contains("smile"));
    }

    @Test
    void jsonEndpointsRefuseOtherDataFormatsWith406() {
        createModel("negotiation");
        for (String accept : OTHER_FORMATS) {
            for (String path : new String[] {"/api/v1/models", "/api/v1/models/negotiation", "/api/v1/chips",
                    "/api/v1/agents"}) {
                assertNotAcceptable(get(path, reader(), "Accept", accept), accept + " " + path, "application/json");
            }
            assertNotAcceptable(get("/api/v1/tokens", ADMIN, "Accept", accept), accept, "application/json");
            // the matrix writes JSON and CSV, and names both
            Response matrix = get("/api/v1/models/negotiation/versions/1/matrix", reader(), "Accept", accept);
            assertNotAcceptable(matrix, accept, "application/json", "text/csv");
            assertThat(matrix.json().path("detail").asString()).contains("application/json or text/csv");
        }
    }

    @Test
    void jsonIsStillAnsweredToEveryAcceptThatAllowsIt() {
        createModel("negotiation-ok");
        String browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        for (String accept : new String[] {null, "*/*", "application/json", "application/*",
                "application/xml;q=0.5, application/json", browser}) {
            Response r = accept == null ? get("/api/v1/models/negotiation-ok", reader())
                    : get("/api/v1/models/negotiation-ok", reader(), "Accept", accept);
            assertThat(r.status()).as(accept + " -> " + r.text()).isEqualTo(200);
            assertThat(r.header("Content-Type")).as(accept).startsWith("application/json");
            assertThat(r.json().path("name").asString()).isEqualTo("negotiation-ok");
        }
        // problem+json is a JSON type: the document itself comes back
        Response problemJson = get("/api/v1/models/negotiation-ok", reader(), "Accept", "application/problem+json");
        assertThat(problemJson.status()).as(problemJson.text()).isEqualTo(200);
        assertThat(problemJson.json().path("name").asString()).isEqualTo("negotiation-ok");
        // an error is problem+json whatever the Accept header asked for
        Response missing = get("/api/v1/models/no-such-model", reader(), "Accept", "application/xml");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.header("Content-Type")).startsWith("application/problem+json");
        assertThat(missing.problem()).isEqualTo("model-not-found");
    }

    @Test
    void endpointsOfOtherTypesKeepTheirs() {
        createModel("negotiation-types");
        Response csv = get("/api/v1/models/negotiation-types/versions/1/matrix", reader(), "Accept", "text/csv");
        // no version 1 yet: the CSV handler was chosen and answers its problem
        assertThat(csv.status()).as(csv.text()).isEqualTo(404);
        assertThat(csv.problem()).isEqualTo("version-not-found");
        int v = createVersion("negotiation-types");
        Response matrixCsv = get("/api/v1/models/negotiation-types/versions/" + v + "/matrix", reader(), "Accept", "text/csv");
        assertThat(matrixCsv.status()).as(matrixCsv.text()).isEqualTo(200);
        assertThat(matrixCsv.header("Content-Type")).startsWith("text/csv");

        byte[] bytes = mlpackage("negotiation-types");
        String digest = upload(bytes);
        for (String accept : new String[] {"application/octet-stream", "*/*"}) {
            Response blob = get("/api/v1/blobs/" + digest, reader(), "Accept", accept);
            assertThat(blob.status()).as(accept).isEqualTo(200);
            assertThat(blob.body()).isEqualTo(bytes);
        }

        Response ui = get("/ui/index.html", null, "Accept", "text/html");
        assertThat(ui.status()).isEqualTo(200);
        assertThat(ui.header("Content-Type")).startsWith("text/html");

        Response metrics = get("/actuator/prometheus", null, "Accept", "text/plain");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.header("Content-Type")).startsWith("text/plain");
        Response openMetrics = get("/actuator/prometheus", null, "Accept", "application/openmetrics-text");
        assertThat(openMetrics.status()).isEqualTo(200);
        assertThat(openMetrics.header("Content-Type")).startsWith("application/openmetrics-text");
        assertThat(get("/actuator/health", null, "Accept", "application/json").status()).isEqualTo(200);

        Response docs = get("/v3/api-docs", null, "Accept", "application/json");
        assertThat(docs.status()).as(docs.text()).isEqualTo(200);
        assertThat(docs.json().path("paths").has("/api/v1/models")).isTrue();
        // springdoc's YAML document is its own text, not a converter's: it stays available
        Response yaml = get("/v3/api-docs.yaml", null);
        assertThat(yaml.status()).as(yaml.text()).isEqualTo(200);
        assertThat(yaml.text()).contains("openapi:");
    }
}
