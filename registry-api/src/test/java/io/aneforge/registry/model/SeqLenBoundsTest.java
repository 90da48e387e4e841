package io.aneforge.registry.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Sequence lengths have ane-core's bounds ({@code VariantSpec.MIN_SEQ_LEN}..{@code MAX_SEQ_LEN}, 2..8192) wherever
 * the registry takes one, as the CLI and the converter apply them: seqLen 1 used to queue a conversion that failed
 * in the worker's golden step ("maxLength must be at least 2: 1").
 */
class SeqLenBoundsTest extends RegistryTestBase {

    @Test
    void aConversionOutsideTheBoundsIsRefusedBeforeAVersionExists() {
        createModel("seq-bounds");
        for (int seqLen : new int[] {1, 0, -5, 8193}) {
            Response r = send("POST", "/api/v1/models/seq-bounds/versions", publisher(), Map.of("source",
                    Map.of("type", "hub", "repo", "sentence-transformers/all-MiniLM-L6-v2"), "chips", List.of("M2"),
                    "seqLen", seqLen));
            assertThat(r.status()).as(seqLen + ": " + r.text()).isEqualTo(400);
            assertThat(r.problem()).isEqualTo("invalid-request");
            assertThat(r.json().path("detail").asString()).startsWith("seqLen: sequence length " + seqLen + " is ")
                    .endsWith("; pass seqLen between 2 and 8192 (default 128)");
        }
        Response one = send("POST", "/api/v1/models/seq-bounds/versions", publisher(), Map.of("source",
                Map.of("type", "hub", "repo", "sentence-transformers/all-MiniLM-L6-v2"), "chips", List.of("M2"), "seqLen", 1));
        assertThat(one.json().path("detail").asString()).isEqualTo("seqLen: sequence length 1 is too short: at least 2"
                + " (room for the tokenizer's two special tokens, [CLS] and [SEP] of a BERT input); pass seqLen between"
                + " 2 and 8192 (default 128)");
        assertThat(get("/api/v1/models/seq-bounds/versions", reader()).json().size()).isZero();

        Response two = send("POST", "/api/v1/models/seq-bounds/versions", publisher(), Map.of("source",
                Map.of("type", "hub", "repo", "sentence-transformers/all-MiniLM-L6-v2"), "chips", List.of("M2"), "seqLen", 2));
        assertThat(two.status()).as(two.text()).isEqualTo(201);
        // cancelled, so that no other test's worker lease picks this conversion up
        long conversion = get("/api/v1/models/seq-bounds/versions/" + two.json().path("version").asInt() + "/conversion",
                reader()).json().path("id").asLong();
        assertThat(send("POST", "/api/v1/conversions/" + conversion + "/cancel", publisher(), null).status()).isEqualTo(200);
    }

    @Test
    void aVariantOutsideTheBoundsIsRefused() {
        createModel("seq-bounds-variant");
        int v = createVersion("seq-bounds-variant");
        Response r = send("POST", "/api/v1/models/seq-bounds-variant/versions/" + v + "/variants", publisher(),
                Map.of("chip", "M2", "deploymentTarget", "18.0", "layout", "ane", "precision", "fp16", "seqLen", 1,
                        "digest", upload(mlpackage("seq-bounds-1", 1))));
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.problem()).isEqualTo("invalid-variant");
        assertThat(r.json().path("detail").asString()).startsWith("seqLen: sequence length 1 is too short: at least 2");
    }
}
