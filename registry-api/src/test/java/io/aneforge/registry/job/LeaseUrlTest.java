package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * With a public base URL (the Helm chart derives one from the ingress), resolve answers for apps
 * carry it, but the blob URLs in leases stay path-absolute: an agent resolves them against its own
 * registry URL, so an agent in the cluster neither leaves through the external ingress nor sends
 * its token anywhere but the registry it was configured with.
 */
@TestPropertySource(properties = "aneforge.public-base-url=http://models.example.test/")
class LeaseUrlTest extends JobTestSupport {

    @Test
    void leasesHandAgentsPathAbsoluteUrlsWhileResolveUsesThePublicBaseUrl() {
        String model = "lease-urls";
        int v = leasableVariant(model, "A16", 128, List.of("cpuOnly")).version();
        publish(model, v);
        assertThat(moveAlias(model, "production", v, "lease url test").status()).isEqualTo(200);

        Response resolved = get("/api/v1/models/" + model + "/resolve?chip=A16&os=18.2", reader());
        assertThat(resolved.status()).as(resolved.text()).isEqualTo(200);
        assertThat(resolved.json().path("url").asString())
                .isEqualTo("http://models.example.test/api/v1/blobs/" + resolved.json().path("digest").asString());

        String agent = registerAgent("lease-urls-host", "A16", List.of("coreml", "reference-cpu"));
        Response leased = lease(agent);
        assertThat(leased.status()).as(leased.text()).isEqualTo(200);
        JsonNode l = leased.json();
        for (String blob : List.of("artifact", "goldenInputs", "goldenOutputs")) {
            assertThat(l.path(blob).path("url").asString()).as(blob)
                    .isEqualTo("/api/v1/blobs/" + l.path(blob).path("digest").asString());
        }
    }
}
