package io.aneforge.registry.problem;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.http.MediaType;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;

/**
 * The API writes JSON (and the few types an endpoint declares: CSV, blob bytes, the UI's HTML, metrics text), never
 * XML, YAML, CBOR or Smile, although Jackson's data formats for those are on the classpath (the embedded S3
 * server needs XML, ane-core reads YAML recipes). Over real HTTP, so the converters Spring Boot actually
 * configured are the ones checked.
 */
class JsonOnlyNegotiationTest extends RegistryTestBase {

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    private RequestMappingHandlerMapping mapping;

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
        // an error is problem+json although the Accept header asked for JSON only
        Response missing = get("/api/v1/models/no-such-model", reader(), "Accept", "application/json");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.header("Content-Type")).startsWith("application/problem+json");
        assertThat(missing.problem()).isEqualTo("model-not-found");
        // the Accept header is checked first, before the handler looks for the model
        assertNotAcceptable(get("/api/v1/models/no-such-model", reader(), "Accept", "application/xml"),
                "application/xml", "application/json");
    }

    /**
     * A mutating request whose Accept the endpoint cannot answer is refused before the handler runs: nothing is
     * created, changed or deleted, so the client's 406 tells the truth and its retry meets no conflict.
     */
    @Test
    void mutatingRequestsWithAnUnacceptableAcceptChangeNothing() {
        String browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        for (String accept : new String[] {"application/xml", "text/html", "application/yaml"}) {
            // POST: no model
            Response post = send("POST", "/api/v1/models", publisher(),
                    Map.of("name", "negotiation-post", "task", "feature-extraction"), "Accept", accept);
            assertNotAcceptable(post, "POST " + accept, "application/json");
            Response absent = get("/api/v1/models/negotiation-post", reader(), "Accept", "application/json");
            assertThat(absent.status()).as(accept + " -> " + absent.text()).isEqualTo(404);

            // PUT: no blob
            byte[] bytes = mlpackage("negotiation-put-" + accept);
            String hex = sha256(bytes);
            assertNotAcceptable(send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), bytes, "Accept", accept),
                    "PUT blob " + accept, "application/json");
            assertThat(get("/api/v1/blobs/sha256:" + hex, reader()).status()).as(accept).isEqualTo(404);
        }

        // PUT: the gates stay as they were
        createModel("negotiation-gates");
        Response gates = send("PUT", "/api/v1/models/negotiation-gates/gates", publisher(), "{\"minCosine\":0.999}",
                "Accept", "application/xml");
        assertNotAcceptable(gates, "PUT gates", "application/json");
        Response unchanged = get("/api/v1/models/negotiation-gates/gates", reader(), "Accept", "application/json");
        assertThat(unchanged.status()).as(unchanged.text()).isEqualTo(200);
        assertThat(unchanged.json().path("set").asBoolean()).as(unchanged.text()).isFalse();

        // DELETE (a 204 without a body, which Spring never negotiated at all): the token still works
        Response minted = send("POST", "/api/v1/tokens", ADMIN, Map.of("name", "negotiation-delete", "role", "reader"));
        assertThat(minted.status()).as(minted.text()).isEqualTo(201);
        long id = minted.json().path("id").asLong();
        String token = minted.json().path("token").asString();
        assertNotAcceptable(send("DELETE", "/api/v1/tokens/" + id, ADMIN, null, "Accept", "application/xml"),
                "DELETE", "application/json");
        assertThat(get("/api/v1/chips", token).status()).isEqualTo(200);

        // the same requests with an Accept that allows JSON do what they say
        Response created = send("POST", "/api/v1/models", publisher(),
                Map.of("name", "negotiation-post", "task", "feature-extraction"), "Accept", browser);
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.header("Content-Type")).startsWith("application/json");
        assertThat(get("/api/v1/models/negotiation-post", reader()).status()).isEqualTo(200);
        Response conflict = send("POST", "/api/v1/models", publisher(),
                Map.of("name", "negotiation-post", "task", "feature-extraction"), "Accept", "application/json");
        assertThat(conflict.status()).as(conflict.text()).isEqualTo(409);
        assertThat(conflict.header("Content-Type")).startsWith("application/problem+json");

        byte[] bytes = mlpackage("negotiation-put-ok");
        Response put = send("PUT", "/api/v1/blobs/sha256:" + sha256(bytes), publisher(), bytes, "Accept", "application/json");
        assertThat(put.status()).as(put.text()).isEqualTo(201);

        Response gatesSet = send("PUT", "/api/v1/models/negotiation-gates/gates", publisher(), "{\"minCosine\":0.999}",
                "Accept", "application/problem+json, application/json");
        assertThat(gatesSet.status()).as(gatesSet.text()).isEqualTo(200);
        assertThat(gatesSet.json().path("set").asBoolean()).isTrue();

        Response revoked = send("DELETE", "/api/v1/tokens/" + id, ADMIN, null, "Accept", "*/*");
        assertThat(revoked.status()).as(revoked.text()).isEqualTo(204);
        assertThat(get("/api/v1/chips", token).status()).isEqualTo(401);
    }

    /**
     * Every endpoint of the registry names the types it writes in its mapping (JSON unless it declares others), so
     * Spring refuses an unacceptable Accept before the handler: a new endpoint cannot forget it.
     */
    @Test
    void everyRegistryEndpointNegotiatesBeforeItsHandlerRuns() {
        Map<RequestMappingInfo, HandlerMethod> handlers = mapping.getHandlerMethods();
        List<String> ours = new ArrayList<>();
        handlers.forEach((info, method) -> {
            if (!method.getBeanType().getName().startsWith("io.aneforge.")) return;
            Set<MediaType> produces = info.getProducesCondition().getProducibleMediaTypes();
            ours.add(method.getShortLogMessage() + " " + produces);
            assertThat(produces).as(method.getShortLogMessage()).isNotEmpty();
        });
        assertThat(ours).as("registry endpoints seen").hasSizeGreaterThan(30)
                .anyMatch(s -> s.contains("ModelController#create") && s.contains("[application/json, application/problem+json]"))
                .anyMatch(s -> s.contains("BlobController#get") && s.contains("[*/*]"))
                .anyMatch(s -> s.contains("MatrixController#matrixCsv") && s.contains("[text/csv]"));
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

        Response metrics = get("/actuator/prometheus", reader(), "Accept", "text/plain");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.header("Content-Type")).startsWith("text/plain");
        Response openMetrics = get("/actuator/prometheus", reader(), "Accept", "application/openmetrics-text");
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
