package io.aneforge.registry.resolve;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.request.MockMvcRequestBuilders;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.context.WebApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A variant row as registrations before block sizes were required stored it ({@code int4} without a block size, which
 * the schema allows) must not turn a filtered resolve into a 500 on either path: it matches its family only, and a
 * refusal lists it as that family.
 */
class ResolveLegacyRowTest extends RegistryTestBase {

    private static final String M = "resolve-legacy-row";

    @Autowired
    JdbcClient jdbc;

    @Autowired
    WebApplicationContext context;

    @Autowired
    ResolveFastPath fastPath;

    @Test
    void aLegacyInt4RowWithoutABlockSizeMatchesItsFamilyOnlyOnBothPaths() throws Exception {
        createModel(M);
        int v = createVersion(M);
        addVariant(M, v, "A17_PRO", "16.0", "ane", "fp16");
        addVariant(M, v, "A17_PRO", "17.0", "standard", "fp16");
        int n = jdbc.sql("UPDATE variant SET precision = 'int4', block_size = NULL, quantization = NULL WHERE layout = 'standard'"
                        + " AND version_id = (SELECT v.id FROM model_version v JOIN model m ON m.id = v.model_id WHERE m.name = ?)")
                .param(M).update();
        assertThat(n).isEqualTo(1);
        publishWithoutGoldenData(M, v);
        String base = "chip=A17_PRO&os=18.0&version=" + v;
        MockMvc controller = MockMvcBuilders.webAppContextSetup(context).build(); // no filters: the MVC path alone
        JsonMapper json = JsonMapper.builder().build();

        // A full id or another family: nothing matches, so the refusal lists what the device can have.
        for (String precision : new String[] {"int8-block32", "w8a8", "int4-block32"}) {
            String query = base + "&precision=" + precision;
            Response viaHttp = get("/api/v1/models/" + M + "/resolve?" + query, reader());
            assertThat(viaHttp.status()).as(query + ": " + viaHttp.text()).isEqualTo(404);
            assertThat(viaHttp.problem()).isEqualTo("no-variant-matches-filter");
            assertThat(viaHttp.json().path("precisions").toString()).isEqualTo("[\"fp16\",\"int4\"]");
            assertThat(viaHttp.json().path("layouts").toString()).isEqualTo("[\"ane\",\"standard\"]");

            MockHttpServletResponse reference = controller.perform(MockMvcRequestBuilders.get("/api/v1/models/" + M + "/resolve?" + query)
                    .header("Authorization", "Bearer " + reader())).andReturn().getResponse();
            assertThat(reference.getStatus()).as(query + ": " + reference.getContentAsString()).isEqualTo(404);
            assertThat(reference.getContentAsString()).contains("no-variant-matches-filter");
            // The fast path steps aside for a refusal (the controller writes the problem) instead of failing.
            assertThat(fastPath.handle(request(query), new MockHttpServletResponse())).as(query).isFalse();
        }

        // The family picks the legacy row, with the same bytes on both paths.
        String query = base + "&precision=int4";
        MockHttpServletResponse reference = controller.perform(MockMvcRequestBuilders.get("/api/v1/models/" + M + "/resolve?" + query)
                .header("Authorization", "Bearer " + reader())).andReturn().getResponse();
        assertThat(reference.getStatus()).as(reference.getContentAsString()).isEqualTo(200);
        JsonNode variant = json.readTree(reference.getContentAsString()).path("variant");
        assertThat(variant.path("precision").asString()).isEqualTo("int4");
        assertThat(variant.path("layout").asString()).isEqualTo("standard");
        assertThat(variant.path("blockSize").isNull() || variant.path("blockSize").isMissingNode()).isTrue();
        MockHttpServletResponse fast = new MockHttpServletResponse();
        assertThat(fastPath.handle(request(query), fast)).isTrue();
        assertThat(fast.getStatus()).isEqualTo(200);
        assertThat(fast.getContentAsByteArray()).isEqualTo(reference.getContentAsByteArray());
        Response viaHttp = get("/api/v1/models/" + M + "/resolve?" + query, reader());
        assertThat(viaHttp.status()).as(viaHttp.text()).isEqualTo(200);
        assertThat(viaHttp.json().path("variant").path("precision").asString()).isEqualTo("int4");
    }

    private MockHttpServletRequest request(String query) {
        return ResolveRequests.of(M, query, reader());
    }
}
