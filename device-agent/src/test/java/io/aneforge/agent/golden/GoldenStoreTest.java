package io.aneforge.agent.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.agent.cache.Fault;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.tensor.FloatTensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link GoldenStore}'s memory bound: golden format v2 leaves trailing zeros out, so a small blob can decode to many
 * times its size; the bound holds for what it decodes to and for the decoded blobs kept together.
 */
class GoldenStoreTest {

    private final Map<String, byte[]> blobs = new HashMap<>();
    private final AtomicInteger downloads = new AtomicInteger();

    private GoldenStore store(long maxBytes) {
        return new GoldenStore(ref -> {
            downloads.incrementAndGet();
            return new ByteArrayInputStream(blobs.get(ref.sha256Hex()));
        }, maxBytes);
    }

    /** A blob with one sample whose one output has {@code floats} elements, all zero but the first. */
    private ArtifactRef put(String sampleId, int floats) throws Exception {
        float[] data = new float[floats];
        data[0] = 1f;
        GoldenOutputs golden = new GoldenOutputs(List.of(
                GoldenOutputs.Sample.of(sampleId, Map.of("logits", new FloatTensor(new int[] {floats}, data)))));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(golden, out, 2); // version 2: the zeros are not in the blob
        byte[] bytes = out.toByteArray();
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        blobs.put(hex, bytes);
        return new ArtifactRef(hex, bytes.length, URI.create("http://registry/api/v1/blobs/sha256:" + hex));
    }

    @Test
    void aSmallBlobThatDecodesPastTheBoundIsRefusedNamingTheSetting() throws Exception {
        ArtifactRef ref = put("zeros", 1_000_000); // 4 MB decoded, a few dozen bytes encoded
        assertThat(ref.sizeBytes()).isLessThan(1_000);

        assertThatThrownBy(() -> store(1 << 20).get(ref))
                .isInstanceOfSatisfying(GoldenException.class, e -> assertThat(e.fault()).isEqualTo(Fault.ARTIFACT))
                .hasMessageContaining("golden blob " + ref.digest())
                .hasMessageContaining("decodes to more than the 1048576-byte limit for golden data held in memory")
                .hasMessageContaining("at least 4000000 bytes")
                .hasMessageContaining("raise aneforge.agent.golden-max-memory (env ANEFORGE_AGENT_GOLDEN_MAX_MEMORY)");
        assertThat(store(4_000_000).get(ref).samples()).singleElement()
                .satisfies(s -> assertThat(s.outputs().get("logits").data()).hasSize(1_000_000));
    }

    /**
     * What is kept shows in what is downloaded again. The blobs are a few dozen bytes each and three are fewer than the
     * store keeps by count, so only their decoded size (400,000 bytes each, a bound of 1,000,000) can drop one.
     */
    @Test
    void theKeptBlobsAreBoundedByWhatTheyDecodeTo() throws Exception {
        ArtifactRef a = put("a", 100_000);
        ArtifactRef b = put("b", 100_000);
        ArtifactRef c = put("c", 100_000);
        GoldenStore store = store(1_000_000);

        store.get(a);
        store.get(b);
        store.get(a); // a is now the most recently used
        store.get(b);
        assertThat(downloads.get()).as("800,000 bytes: a and b are both kept").isEqualTo(2);
        store.get(a);
        store.get(c); // 1,200,000 would pass the bound: b, the least recently used, goes
        assertThat(downloads.get()).isEqualTo(3);

        store.get(a);
        store.get(c);
        assertThat(downloads.get()).as("a and c are kept").isEqualTo(3);
        store.get(b);
        assertThat(downloads.get()).as("b was dropped").isEqualTo(4);
        store.get(c);
        assertThat(downloads.get()).as("b pushed out a, the least recently used, and c stayed").isEqualTo(4);
        store.get(a);
        assertThat(downloads.get()).as("a was dropped").isEqualTo(5);
    }

    @Test
    void aBlobOverTheBoundAsDownloadedIsRefusedNamingTheSetting() throws Exception {
        ArtifactRef ref = put("big", 1000);
        assertThatThrownBy(() -> store(ref.sizeBytes() - 1).get(ref))
                .isInstanceOf(GoldenException.class)
                .hasMessageContaining("over the " + (ref.sizeBytes() - 1) + "-byte limit for golden data held in memory")
                .hasMessageContaining("aneforge.agent.golden-max-memory");
    }
}
