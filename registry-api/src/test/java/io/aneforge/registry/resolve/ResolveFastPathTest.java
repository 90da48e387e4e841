package io.aneforge.registry.resolve;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.request.MockMvcRequestBuilders;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.context.WebApplicationContext;

/** The resolve fast path (servlet filter) answers exactly like the MVC controller, or defers to it. */
class ResolveFastPathTest extends RegistryTestBase {

    private static final String M = "fastpath-model";

    @Autowired
    WebApplicationContext context;

    @Autowired
    ResolveFastPath fastPath;

    /** In the reference MockMvc too, so both answers' problem documents carry the same (given) requestId. */
    @Autowired
    io.aneforge.registry.requestid.RequestIdFilter requestIds;

    @Test
    void answersLikeTheControllerByteForByte() throws Exception {
        int v = inProduction(M, "fast path test", "A16 17.0 ane fp16", "A17_PRO 18.0 ane int8");

        // MockMvc without filters is the MVC reference path.
        MockMvc mvc = MockMvcBuilders.webAppContextSetup(context).build();
        for (String query : List.of("device=iPhone16,1&os=18.2", "chip=A18&os=18.0&alias=production",
                "device=iPhone15,2&os=17.1", "chip=A17_PRO&os=17.5&version=" + v,
                // the filters (ResolveFilterTest): fp16 on an iOS 18 A17 Pro falls back to the A16's
                "device=iPhone16,1&os=18.2&precision=fp16", "chip=A17_PRO&os=18.0&precision=int8-channel&layout=ane")) {
            MockHttpServletResponse reference = mvc.perform(MockMvcRequestBuilders.get("/api/v1/models/" + M + "/resolve?" + query)
                    .header("Authorization", "Bearer " + reader())).andReturn().getResponse();
            MockHttpServletResponse fast = new MockHttpServletResponse();
            assertThat(fastPath.handle(request(query, null), fast)).as(query).isTrue();
            assertThat(fast.getStatus()).as(query).isEqualTo(reference.getStatus()).isEqualTo(200);
            assertThat(fast.getContentAsByteArray()).as(query).isEqualTo(reference.getContentAsByteArray());
            assertThat(fast.getHeader("ETag")).isEqualTo(reference.getHeader("ETag")).isNotBlank();
            assertThat(fast.getHeader("Cache-Control")).isEqualTo(reference.getHeader("Cache-Control"));
            assertThat(fast.getContentType()).isEqualTo(reference.getContentType());

            MockHttpServletResponse notModified = new MockHttpServletResponse();
            assertThat(fastPath.handle(request(query, reference.getHeader("ETag")), notModified)).isTrue();
            assertThat(notModified.getStatus()).isEqualTo(304);
        }
    }

    @Test
    void defersRefusalsAndMissingTokensToTheControllerPath() throws Exception {
        assertThat(fastPath.handle(request("device=iPhone99,1&os=18.0", null), new MockHttpServletResponse())).isFalse();
        assertThat(fastPath.handle(request("chip=A16&os=18.0&version=x", null), new MockHttpServletResponse())).isFalse();
        assertThat(fastPath.handle(request("chip=A16&os=18.0&precision=fp8", null), new MockHttpServletResponse())).isFalse();
        assertThat(fastPath.handle(request("chip=A16&os=18.0&layout=gpu", null), new MockHttpServletResponse())).isFalse();
        MockHttpServletRequest anonymous = request("chip=A16&os=18.0", null);
        anonymous.removeHeader("Authorization");
        assertThat(fastPath.handle(anonymous, new MockHttpServletResponse())).isFalse();
        // Over real HTTP the refusal is still the controller's problem document.
        Response r = get("/api/v1/models/nope/resolve?chip=A16&os=18.0", reader());
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.problem()).isEqualTo("model-not-found");
    }

    /** Repeated or unknown parameters: the fast path steps aside, so both paths give the controller's bytes. */
    @Test
    void repeatedOrUnexpectedParametersGetTheControllersAnswer() throws Exception {
        String m = "fastpath-params";
        int v = inProduction(m, "params test", "A17_PRO 18.0 ane fp16", "A16 17.0 ane fp16");
        MockMvc mvc = MockMvcBuilders.webAppContextSetup(context).addFilters(requestIds).build();
        for (String query : List.of("chip=A17_PRO&os=18.0&os=1.0", "chip=A17_PRO&chip=A16&os=18.0",
                "chip=A17_PRO&os=18.0&version=" + v + "&version=" + v, "chip=A17_PRO&os=18.0&alias=production&alias=x",
                "chip=A17_PRO&os=18.0&unexpected=1", "chip=A17_PRO&os=18.0&precision=fp8",
                "chip=A17_PRO&os=18.0&precision=int4", "chip=A17_PRO&os=18.0&layout=ane&layout=standard")) {
            MockHttpServletResponse reference = mvc.perform(MockMvcRequestBuilders.get("/api/v1/models/" + m + "/resolve?" + query)
                    .header("Authorization", "Bearer " + reader()).header("X-Request-Id", "same-id")).andReturn().getResponse();
            Response viaFilter = get("/api/v1/models/" + m + "/resolve?" + query, reader(), "X-Request-Id", "same-id");
            assertThat(viaFilter.status()).as(query + ": " + viaFilter.text()).isEqualTo(reference.getStatus());
            assertThat(viaFilter.text()).as(query).isEqualTo(reference.getContentAsString());
        }
        MockHttpServletRequest repeated = new MockHttpServletRequest("GET", "/api/v1/models/" + m + "/resolve");
        repeated.setQueryString("chip=A17_PRO&os=18.0&os=1.0");
        repeated.addParameter("chip", "A17_PRO");
        repeated.addParameter("os", "18.0", "1.0");
        repeated.addHeader("Authorization", "Bearer " + reader());
        assertThat(fastPath.handle(repeated, new MockHttpServletResponse())).isFalse();
    }

    private MockHttpServletRequest request(String query, String ifNoneMatch) {
        MockHttpServletRequest req = ResolveRequests.of(M, query, reader());
        if (ifNoneMatch != null) req.addHeader("If-None-Match", ifNoneMatch);
        return req;
    }
}
