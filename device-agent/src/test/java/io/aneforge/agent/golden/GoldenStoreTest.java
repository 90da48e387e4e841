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
 * {@link GoldenStore}'s memory bound: it holds for the floats a blob holds once decoded (its trailing zeros, the
 * padded positions, are not held) and for the decoded blobs kept together.
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

    /** A blob with one sample whose one output has {@code floats} elements, none zero. */
    private ArtifactRef put(String sampleId, int floats) throws Exception {
        return put(sampleId, floats, floats, 2);
    }

    /** A blob with one sample whose one output has {@code floats} elements, the first {@code values} not zero. */
    private ArtifactRef put(String sampleId, int floats, int values, int format) throws Exception {
        float[] data = new float[floats];
        java.util.Arrays.fill(data, 0, values, 1f);
        GoldenOutputs golden = new GoldenOutputs(List.of(
                GoldenOutputs.Sample.of(sampleId, Map.of("logits", new FloatTensor(new int[] {floats}, data)))));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(golden, out, format); // version 2: the trailing zeros are not in the blob
        return put(out.toByteArray());
    }

    private ArtifactRef put(byte[] bytes) throws Exception {
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        blobs.put(hex, bytes);
        return new ArtifactRef(hex, bytes.length, URI.create("http://registry/api/v1/blobs/sha256:" + hex));
    }

    /**
     * Every float a blob holds once decoded is in the blob, so only its header can claim more than the download:
     * a blob that says it stores 1,000,000 floats is refused before they are allocated (or found missing).
     */
    @Test
    void aBlobThatWouldHoldMoreThanTheBoundOnceDecodedIsRefusedNamingTheSetting() throws Exception {
        java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        header.put(new byte[] {'A', 'F', 'G', 'O'}).putInt(2).putInt(1).putInt(1).putInt(1).put((byte) 'y')
                .putInt(1).put((byte) 's').putInt(1).putInt(1_000_000).putInt(1_000_000); // stores 1,000,000: 4 MB
        ArtifactRef ref = put(java.util.Arrays.copyOf(header.array(), header.position()));

        assertThatThrownBy(() -> store(1 << 20).get(ref))
                .isInstanceOfSatisfying(GoldenException.class, e -> assertThat(e.fault()).isEqualTo(Fault.ARTIFACT))
                .hasMessageContaining("golden blob " + ref.digest())
                .hasMessageContaining("holds more than the 1048576-byte limit for golden data held in memory once decoded")
                .hasMessageContaining("at least 4000000 bytes")
                .hasMessageContaining("raise aneforge.agent.golden-max-memory (env ANEFORGE_AGENT_GOLDEN_MAX_MEMORY)");
        assertThatThrownBy(() -> store(4_000_000).get(ref))
                .isInstanceOf(GoldenException.class).hasMessageContaining("truncated in the data of tensor 'y'");
    }

    /**
     * A version whose golden outputs declare more than the bound (logits at full length) but hold less (the real
     * tokens: the padded positions are zeros, not held) is accepted: the bound is on what is held. Shown in both
     * formats; a format 1 blob carries its zeros, so it must fit the bound as downloaded.
     */
    @Test
    void aBlobDeclaringMoreThanTheBoundButHoldingLessIsAccepted() throws Exception {
        ArtifactRef v2 = put("padded", 1_000_000, 100_000, 2); // declares 4 MB, holds 400 KB
        GoldenOutputs golden = store(1_000_000).get(v2);
        assertThat(golden.heldBytes()).isEqualTo(400_000);
        assertThat(golden.samples().get(0).tensors().get("logits").size()).isEqualTo(1_000_000);

        ArtifactRef v1 = put("padded", 1_000_000, 100_000, 1);
        assertThat(v1.sizeBytes()).isGreaterThan(4_000_000);
        assertThat(store(4_100_000).get(v1)).isEqualTo(golden);
        assertThat(store(4_100_000).get(v1).heldBytes()).isEqualTo(400_000);
    }

    /**
     * Golden inputs are expanded to feed the model, so their bound is on what their shapes declare: a blob of a few
     * hundred bytes declaring eight (1, 2^28) inputs of zeros (8 GiB once expanded, nothing held) decodes under any
     * bound, but is refused as inputs before any of it is expanded, naming the setting.
     */
    @Test
    void inputsDeclaringMoreThanTheBoundOnceExpandedAreRefusedNamingTheSetting() throws Exception {
        Map<String, io.aneforge.eval.GoldenTensor> declared = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 8; i++) {
            declared.put("input_" + i, new io.aneforge.eval.GoldenTensor(new int[] {1, 1 << 28}, new float[0]));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(new GoldenOutputs(List.of(new GoldenOutputs.Sample("s", declared))), out, 2);
        ArtifactRef ref = put(out.toByteArray());
        assertThat(ref.sizeBytes()).isLessThan(300);

        GoldenStore store = store(1 << 20);
        assertThat(store.get(ref).heldBytes()).as("as golden outputs it holds nothing").isZero();
        assertThatThrownBy(() -> store.inputs(ref))
                .isInstanceOfSatisfying(GoldenException.class, e -> assertThat(e.fault()).isEqualTo(Fault.ARTIFACT))
                .hasMessageContaining("golden inputs blob " + ref.digest() + " declares input tensors of "
                        + (8L << 30) + " bytes once expanded, more than the 1048576-byte limit")
                .hasMessageContaining("raise aneforge.agent.golden-max-memory (env ANEFORGE_AGENT_GOLDEN_MAX_MEMORY)");

        ArtifactRef small = put("x", 1000, 10, 2); // declares 4000 bytes: within the bound as inputs too
        assertThat(store.inputs(small).expandedBytes()).isEqualTo(4000);
    }

    /**
     * A golden inputs blob whose input holds some positions only (golden format 3's layout 1, meant for
     * vocabulary-sized outputs) decodes, but cannot be expanded to feed the model: {@link GoldenStore#inputs} refuses
     * it as a bad artifact naming the input and the sample, instead of the expansion throwing an
     * IllegalStateException past the job's failure handling later.
     */
    @Test
    void inputsHoldingSomePositionsOnlyAreRefusedAsABadArtifact() throws Exception {
        io.aneforge.eval.GoldenTensor ids = io.aneforge.eval.GoldenTensor.of(
                new FloatTensor(new int[] {1, 4}, new float[] {101, 7592, 102, 0})).atPositions(new int[] {1});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(new GoldenOutputs(List.of(new GoldenOutputs.Sample("sample-00",
                Map.of("input_ids", ids)))), out, 3);
        ArtifactRef ref = put(out.toByteArray());

        GoldenStore store = store(1 << 20);
        assertThat(store.get(ref).samples().get(0).tensors().get("input_ids").heldPositions()).containsExactly(1);
        assertThatThrownBy(() -> store.inputs(ref))
                .isInstanceOfSatisfying(GoldenException.class, e -> assertThat(e.fault()).isEqualTo(Fault.ARTIFACT))
                .hasMessageContaining("golden inputs blob " + ref.digest() + " holds input 'input_ids' of sample"
                        + " 'sample-00' at some positions only")
                .hasMessageContaining("not the version's golden inputs");
    }

    /**
     * What is kept shows in what is downloaded again. Three blobs are fewer than the store keeps by count, so only
     * the bytes they hold (400,000 each, a bound of 1,000,000) can drop one.
     */
    @Test
    void theKeptBlobsAreBoundedByWhatTheyHold() throws Exception {
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
