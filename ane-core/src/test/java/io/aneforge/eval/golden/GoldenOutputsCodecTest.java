package io.aneforge.eval.golden;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GoldenOutputsCodecTest {

    private static GoldenOutputs sample() {
        List<GoldenOutputs.Sample> samples = new java.util.ArrayList<>();
        for (int s = 0; s < 3; s++) {
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            FloatTensor hidden = FloatTensor.zeros(1, 5, 40_000 / 5); // more than one I/O chunk
            for (int i = 0; i < hidden.size(); i++) {
                hidden.data()[i] = (float) Math.sin(i * 0.01 + s);
            }
            out.put("last_hidden_state", hidden);
            out.put("pooler_output", new FloatTensor(new int[] {1, 3}, new float[] {-0f, Float.MIN_VALUE, 1e30f}));
            out.put("scalar", new FloatTensor(new int[] {}, new float[] {7}));
            samples.add(GoldenOutputs.Sample.of("sample-" + s + "-é", out));
        }
        return new GoldenOutputs(samples);
    }

    /** Version 2, the newest (the default). */
    private static byte[] encode(GoldenOutputs g) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(g, bytes, 2);
        return bytes.toByteArray();
    }

    private static byte[] encodeV1(GoldenOutputs g) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(g, bytes, 1);
        return bytes.toByteArray();
    }

    /**
     * The setting caps the version written: 3 by default (the registry leases its jobs only to agents that read it),
     * 2 or 1 for a fleet that must all read it, and anything else is refused naming the setting. Outputs that hold
     * every position are written as version 2 even under the default: version 3 only where it stores held positions.
     * Both versions decode to the same floats, and {@link GoldenOutputsCodec#version} reads each one's version from
     * its header.
     */
    @Test
    void writesVersionTwoUnlessConfiguredAndBothReadBackAlike() throws IOException {
        String before = System.getProperty(GoldenOutputsCodec.FORMAT_PROPERTY);
        try {
            System.clearProperty(GoldenOutputsCodec.FORMAT_PROPERTY);
            org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv(GoldenOutputsCodec.FORMAT_VARIABLE) == null,
                    "ANEFORGE_GOLDEN_FORMAT is set in this environment");
            assertThat(GoldenOutputsCodec.configuredVersion()).isEqualTo(3);
            ByteArrayOutputStream dflt = new ByteArrayOutputStream();
            GoldenOutputsCodec.write(sample(), dflt);
            assertThat(dflt.toByteArray()[4]).as("every position held: version 2").isEqualTo((byte) 2);
            System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, "1");
            assertThat(GoldenOutputsCodec.configuredVersion()).isEqualTo(1);
            System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, "2");
            assertThat(GoldenOutputsCodec.configuredVersion()).isEqualTo(2);
            System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, "4");
            assertThatThrownBy(GoldenOutputsCodec::configuredVersion).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-Daneforge.golden.format='4'").hasMessageContaining("use 3");
        } finally {
            if (before == null) System.clearProperty(GoldenOutputsCodec.FORMAT_PROPERTY);
            else System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, before);
        }
        GoldenOutputs g = sample();
        byte[] v1 = encodeV1(g);
        byte[] v2 = encode(g);
        assertThat(Arrays.copyOf(v1, 8)).containsExactly('A', 'F', 'G', 'O', 1, 0, 0, 0);
        assertThat(GoldenOutputsCodec.version(new ByteArrayInputStream(v1))).isEqualTo(1);
        assertThat(GoldenOutputsCodec.version(new ByteArrayInputStream(Arrays.copyOf(v2, 8)))).isEqualTo(2);
        assertThatThrownBy(() -> GoldenOutputsCodec.version(new ByteArrayInputStream("PK\3\4zip".getBytes(
                java.nio.charset.StandardCharsets.ISO_8859_1)))).isInstanceOf(GoldenFormatException.class)
                .hasMessageContaining("not a golden-outputs blob");
        byte[] v9 = Arrays.copyOf(v2, 8);
        v9[4] = 9;
        assertThatThrownBy(() -> GoldenOutputsCodec.version(new ByteArrayInputStream(v9)))
                .isInstanceOf(GoldenFormatException.class).hasMessageContaining("unsupported version 9");
        assertThatThrownBy(() -> GoldenOutputsCodec.version(new ByteArrayInputStream(Arrays.copyOf(v2, 6))))
                .isInstanceOf(GoldenFormatException.class).hasMessageContaining("truncated");
        assertThat(GoldenOutputsCodec.read(new ByteArrayInputStream(v1)).samples())
                .isEqualTo(GoldenOutputsCodec.read(new ByteArrayInputStream(v2)).samples());
    }

    @Test
    void roundTripsExactly() throws IOException {
        GoldenOutputs g = sample();
        byte[] bytes = encode(g);
        assertThat(Arrays.copyOf(bytes, 8)).containsExactly('A', 'F', 'G', 'O', 2, 0, 0, 0);
        GoldenOutputs back = GoldenOutputsCodec.read(new ByteArrayInputStream(bytes));
        assertThat(back.outputNames()).containsExactly("last_hidden_state", "pooler_output", "scalar");
        assertThat(back.samples()).hasSize(3);
        for (int s = 0; s < 3; s++) {
            assertThat(back.samples().get(s).id()).isEqualTo(g.samples().get(s).id());
            assertThat(back.samples().get(s).outputs()).isEqualTo(g.samples().get(s).outputs());
        }
        assertThat(encode(back)).isEqualTo(bytes); // deterministic
    }

    @Test
    void littleEndianFloatsAtTheDocumentedOffsets() throws IOException {
        Map<String, FloatTensor> out = Map.of("y", new FloatTensor(new int[] {1}, new float[] {1f}));
        byte[] b = encode(new GoldenOutputs(List.of(GoldenOutputs.Sample.of("s", out))));
        // magic 4 + version 4 + counts 8 + name (4 + 1) + id (4 + 1) + rank 4 + dim 4 + stored 4 = 38, then 1.0f LE, then crc
        assertThat(b).hasSize(38 + 4 + 4);
        assertThat(Arrays.copyOfRange(b, 34, 38)).containsExactly(1, 0, 0, 0);
        assertThat(Arrays.copyOfRange(b, 38, 42)).containsExactly(0, 0, (byte) 0x80, 0x3f);
    }

    /**
     * Golden outputs at full length hold zeros at the padded positions, which come last: version 2 leaves trailing
     * +0.0f out and reads them back, while -0.0f, zeros before the last non-zero value and all-zero tensors keep
     * their bits.
     */
    @Test
    void trailingZerosAreLeftOutAndReadBack() throws IOException {
        float[] padded = new float[4 * 1000];
        for (int i = 0; i < 1000; i++) {
            padded[i] = i % 7 == 0 ? 0f : i * 0.5f; // the first of 4 positions is real, zeros inside it stay
        }
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        out.put("logits", new FloatTensor(new int[] {1, 4, 1000}, padded));
        out.put("signed", new FloatTensor(new int[] {1, 3}, new float[] {1f, 0f, -0f}));
        out.put("none", FloatTensor.zeros(1, 2, 5));
        GoldenOutputs g = new GoldenOutputs(List.of(GoldenOutputs.Sample.of("s", out)));
        byte[] bytes = encode(g);
        assertThat(bytes.length).as("about a quarter of the 4000 floats").isLessThan(4 * 1000 + 200);
        GoldenOutputs back = GoldenOutputsCodec.read(new ByteArrayInputStream(bytes));
        assertThat(back.samples().get(0).outputs()).isEqualTo(out);
        float[] signed = back.samples().get(0).outputs().get("signed").data();
        assertThat(Float.floatToRawIntBits(signed[2])).isEqualTo(Float.floatToRawIntBits(-0f));
        assertThat(back.samples().get(0).outputs().get("none").data()).hasSize(10).containsOnly(0f);
    }

    /** Blobs written before version 2 (every element, no stored count) still read. */
    @Test
    void readsVersionOne() throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        buf.put(new byte[] {'A', 'F', 'G', 'O'}).putInt(1).putInt(1).putInt(1).putInt(1).put((byte) 'y')
                .putInt(1).put((byte) 's').putInt(2).putInt(1).putInt(2).putFloat(3f).putFloat(0f);
        b.write(buf.array(), 0, buf.position());
        crc.update(buf.array(), 0, buf.position());
        b.write(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).array());
        GoldenOutputs v1 = GoldenOutputsCodec.read(new ByteArrayInputStream(b.toByteArray()));
        assertThat(v1.samples().get(0).outputs().get("y")).isEqualTo(new FloatTensor(new int[] {1, 2}, new float[] {3f, 0f}));
    }

    /** A few header bytes may declare a large stored count: refused before the floats that would pass the bound are allocated. */
    @Test
    void refusesTensorsLargerThanTheJvmCanHoldBeforeAllocating() throws IOException {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 12).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        buf.put(new byte[] {'A', 'F', 'G', 'O'}).putInt(2).putInt(100).putInt(1).putInt(1).put((byte) 'y');
        buf.putInt(1).put((byte) 's').putInt(1).putInt(1 << 20).putInt(1 << 20); // 4 MiB stored, and no data follows
        byte[] b = Arrays.copyOf(buf.array(), buf.position());
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(b), 3L << 20))
                .isInstanceOfSatisfying(GoldenTooLargeException.class, e -> assertThat(e.heldBytes()).isEqualTo(4L << 20))
                .hasMessageContaining("tensor 'y' of sample 's' hold 4194304 bytes once decoded, more than this JVM can"
                        + " hold (3145728")
                .hasMessageContaining("-Xmx");
    }

    /**
     * The zeros a blob declares but does not store are not held once decoded, so the bound is on what is held: 100
     * samples declaring 4 MiB of zeros each decode under a 1 MiB bound, and hold nothing.
     */
    @Test
    void declaredZerosAreNotHeld() throws IOException {
        List<GoldenOutputs.Sample> samples = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            samples.add(GoldenOutputs.Sample.of("s" + i, Map.of("y", FloatTensor.zeros(1 << 20))));
        }
        byte[] v2 = encode(new GoldenOutputs(samples));
        assertThat(v2.length).isLessThan(3_000);
        GoldenOutputs back = GoldenOutputsCodec.read(new ByteArrayInputStream(v2), 1L << 20);
        assertThat(back.heldBytes()).isZero();
        assertThat(back.samples().get(99).tensors().get("y").size()).isEqualTo(1 << 20);
        assertThat(back.samples().get(99).outputs().get("y").data()).hasSize(1 << 20).containsOnly(0f);
        assertThat(encode(back)).isEqualTo(v2);
    }

    /**
     * Version 1 writes every element: decoding keeps each tensor up to its last value that is not +0.0f (zeros
     * before it and -0.0f keep their bits), the same held values as the version 2 blob of the same outputs, and
     * writing them gives both blobs back byte for byte. A version 1 blob is bounded by what it holds too.
     */
    @Test
    void versionOneDecodesWithoutItsTrailingZerosAndWritesBackByteForByte() throws IOException {
        float[] padded = new float[4 * 10_000]; // (1, 4, 10000): more than two I/O chunks of zeros at the end
        for (int i = 0; i < 10_000; i++) {
            padded[i] = i % 7 == 0 ? 0f : i * 0.5f;
        }
        padded[10_000 - 1] = 0f; // the real token's last value is 0: the tensor holds up to the one before
        padded[20_000] = -0f;    // -0.0f is a value: held, with the zeros before it
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        out.put("logits", new FloatTensor(new int[] {1, 4, 10_000}, padded));
        out.put("none", FloatTensor.zeros(1, 2, 5));
        GoldenOutputs g = new GoldenOutputs(List.of(GoldenOutputs.Sample.of("s", out)));
        byte[] v1 = encodeV1(g);
        byte[] v2 = encode(g);

        GoldenOutputs fromV1 = GoldenOutputsCodec.read(new ByteArrayInputStream(v1));
        GoldenOutputs fromV2 = GoldenOutputsCodec.read(new ByteArrayInputStream(v2));
        GoldenTensor logits = fromV1.samples().get(0).tensors().get("logits");
        assertThat(logits.stored()).hasSize(20_001);
        assertThat(Float.floatToRawIntBits(logits.stored()[20_000])).isEqualTo(Float.floatToRawIntBits(-0f));
        assertThat(fromV1.samples().get(0).tensors().get("none").stored()).isEmpty();
        assertThat(fromV1.heldBytes()).isEqualTo(fromV2.heldBytes()).isEqualTo(4L * 20_001);
        assertThat(fromV1.samples()).isEqualTo(fromV2.samples());
        assertThat(fromV1.samples().get(0).outputs()).isEqualTo(out);

        ByteArrayOutputStream again = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(fromV1, again, 1);
        assertThat(again.toByteArray()).isEqualTo(v1);
        assertThat(encode(fromV1)).isEqualTo(v2);
        assertThat(encodeV1(fromV2)).isEqualTo(v1);

        assertThat(GoldenOutputsCodec.read(new ByteArrayInputStream(v1), 4L * 20_001).heldBytes()).isEqualTo(4L * 20_001);
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(v1), 4L * 20_000))
                .isInstanceOf(GoldenTooLargeException.class)
                .hasMessageContaining("tensor 'logits' of sample 's' hold");
    }

    /**
     * Decoding version 1 grows its array by doubling, but never past the bound: three I/O chunks of values (then
     * zeros) under a bound of exactly those values allocate arrays of one, two and three chunks, not a fourth chunk
     * past the bound plus the copy that trims it back. Counted with the thread's allocated bytes (HotSpot).
     */
    @Test
    void versionOneNeverAllocatesAnArrayPastTheBound() throws IOException {
        int chunk = 1 << 14;
        float[] padded = new float[4 * chunk];
        Arrays.fill(padded, 0, 3 * chunk, 1.5f);
        byte[] v1 = encodeV1(new GoldenOutputs(List.of(GoldenOutputs.Sample.of("s",
                Map.of("y", new FloatTensor(new int[] {1, 4 * chunk}, padded))))));
        long bound = 4L * 3 * chunk;
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        GoldenOutputsCodec.read(new ByteArrayInputStream(v1), bound); // loads the classes first
        ByteArrayInputStream in = new ByteArrayInputStream(v1);
        long before = threads.getCurrentThreadAllocatedBytes();
        GoldenOutputs back = GoldenOutputsCodec.read(in, bound);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(back.heldBytes()).isEqualTo(bound);
        // 1 + 2 + 3 chunks of floats, the I/O buffers (2 chunks) and small change; doubling past the bound to 4
        // chunks and trimming to 3 allocates 1 + 2 + 4 + 3 chunks.
        assertThat(allocated).isLessThan(4L * chunk * 8 + 64 * 1024);
    }

    @Test
    void rejectsBadMagicVersionTruncationCorruptionAndTrailingBytes() throws IOException {
        byte[] good = encode(sample());
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(magic)))
                .isInstanceOf(GoldenFormatException.class).hasMessageContaining("bad magic 0x5846474f")
                .hasMessageContaining("not a golden-outputs blob");
        byte[] version = good.clone();
        version[4] = 4;
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(version)))
                .hasMessage("golden outputs: unsupported version 4 (this reader supports 1 to 3): the blob was written by a"
                        + " newer ANE Forge; upgrade this component to the registry's version");
        byte[] zero = good.clone();
        zero[4] = 0;
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(zero)))
                .hasMessageContaining("unsupported version 0").hasMessageContaining("regenerate the golden outputs");
        byte[] truncated = Arrays.copyOf(good, good.length - 1000);
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(truncated)))
                .isInstanceOf(GoldenFormatException.class)
                .hasMessageContaining("truncated in the data of tensor 'last_hidden_state' of sample 'sample-2-é'");
        byte[] header = Arrays.copyOf(good, 10);
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(header)))
                .hasMessage("golden outputs: truncated at byte 10 while reading sampleCount (needed 4 bytes, got 2)");
        byte[] flipped = good.clone();
        flipped[good.length / 2] ^= 0x10;
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(flipped)))
                .hasMessageContaining("checksum mismatch");
        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(trailing)))
                .hasMessageContaining("unexpected bytes after the checksum");
        byte[] hugeCount = good.clone();
        hugeCount[8] = (byte) 0xff;
        hugeCount[11] = (byte) 0x7f;
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(hugeCount)))
                .hasMessageContaining("sampleCount is 2130706687, expected 1..1048576");
    }

    /** Three samples of (1, 6, 10) logits and a small pooled output; logits held at two positions of each. */
    private static GoldenOutputs held() {
        List<GoldenOutputs.Sample> samples = new java.util.ArrayList<>();
        for (int s = 0; s < 3; s++) {
            float[] logits = new float[6 * 10];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) Math.cos(i * 0.3 + s);
            }
            Map<String, GoldenTensor> out = new LinkedHashMap<>();
            out.put("logits", GoldenTensor.of(new FloatTensor(new int[] {1, 6, 10}, logits))
                    .atPositions(s == 1 ? new int[] {} : new int[] {1, 4 - s}));
            out.put("pooler_output", GoldenTensor.trimmed(new FloatTensor(new int[] {1, 3}, new float[] {0.5f, -1, 0})));
            samples.add(new GoldenOutputs.Sample("sample-" + s, out));
        }
        return new GoldenOutputs(samples);
    }

    /**
     * Version 3: a tensor held at some positions only round-trips with its positions and rows (a sample may hold
     * none), the others as version 2 stores them; writing what was decoded gives the same bytes. The default writer
     * picks version 3 for it, and versions 1 and 2 refuse it (they have no such layout).
     */
    @Test
    void heldPositionsRoundTripInVersionThree() throws IOException {
        GoldenOutputs g = held();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(g, bytes, GoldenOutputsCodec.versionFor(g, 3));
        byte[] v3 = bytes.toByteArray();
        assertThat(Arrays.copyOf(v3, 8)).containsExactly('A', 'F', 'G', 'O', 3, 0, 0, 0);
        assertThat(GoldenOutputsCodec.version(new ByteArrayInputStream(v3))).isEqualTo(3);
        GoldenOutputs back = GoldenOutputsCodec.read(new ByteArrayInputStream(v3));
        assertThat(back.samples()).isEqualTo(g.samples());
        GoldenTensor logits = back.samples().get(0).tensors().get("logits");
        assertThat(logits.heldPositions()).containsExactly(1, 4);
        assertThat(logits.shape()).containsExactly(1, 6, 10);
        assertThat(logits.stored()).hasSize(20).startsWith((float) Math.cos(10 * 0.3), (float) Math.cos(11 * 0.3));
        assertThat(back.samples().get(1).tensors().get("logits").heldPositions()).isEmpty();
        assertThat(back.samples().get(0).tensors().get("pooler_output").holdsSomePositionsOnly()).isFalse();
        assertThat(back.heldBytes()).as("floats, then the held positions").isEqualTo(4L * (20 + 0 + 20 + 3 * 2) + 4L * (2 + 0 + 2));
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(back, again);
        assertThat(again.toByteArray()).isEqualTo(v3);
        assertThatThrownBy(logits::expand).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("holds positions [1, 4] only (golden format 3)");
        for (int old : new int[] {1, 2}) {
            assertThatThrownBy(() -> GoldenOutputsCodec.write(g, new ByteArrayOutputStream(), old))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("golden format " + old + " cannot store (format 3 can)");
        }
        // a dense blob in version 3 (layout 0 throughout) reads as version 2's does
        GoldenOutputs dense = sample();
        ByteArrayOutputStream d3 = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(dense, d3, 3);
        assertThat(GoldenOutputsCodec.read(new ByteArrayInputStream(d3.toByteArray())).samples())
                .isEqualTo(dense.samples());
        assertThat(d3.size()).isEqualTo(encode(dense).length + 4 * 3 * 3); // one layout field per tensor
    }

    /**
     * A reader of versions 1 and 2 refuses a version 3 blob at its header, naming the fix, before reading anything
     * else. What this test runs is this codec's header check with 2 as its newest version
     * ({@code read(in, max, 2)}), not the previous release's code. The fixture {@code golden-format-3.bin} (136 bytes:
     * one sample, logits (1, 4, 2) held at positions 1 and 3, a pooled output) was also read, when it was committed,
     * by the codec as it stood at commit 4691da52 (the last before version 3: {@code checkedVersion} refusing
     * {@code version > VERSION}, VERSION = 2), compiled on its own: its {@code read} and {@code version} both threw
     * exactly the message asserted here. That check was run by hand, not by this build; the message is the one the
     * registry of that release puts in its 422 not-golden-data detail, which {@code publish} recognises.
     */
    @Test
    void anOlderReaderRefusesVersionThreeNamingTheUpgrade() throws IOException {
        byte[] fixture;
        try (java.io.InputStream in = GoldenOutputsCodecTest.class.getResourceAsStream("golden-format-3.bin")) {
            assertThat(in).as("test resource io/aneforge/eval/golden/golden-format-3.bin").isNotNull();
            fixture = in.readAllBytes();
        }
        assertThat(Arrays.copyOf(fixture, 8)).containsExactly('A', 'F', 'G', 'O', 3, 0, 0, 0);
        // this release reads it: the held rows at positions 1 and 3
        GoldenTensor logits = GoldenOutputsCodec.read(new ByteArrayInputStream(fixture)).samples().get(0).tensors()
                .get("logits");
        assertThat(logits.heldPositions()).containsExactly(1, 3);
        assertThat(logits.stored()).containsExactly(3, 4, 7, 8);
        String refusal = "golden outputs: unsupported version 3 (this reader supports 1 to 2): the blob was written by"
                + " a newer ANE Forge; upgrade this component to the registry's version";
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(fixture), 1L << 30, 2))
                .isInstanceOf(GoldenFormatException.class).hasMessage(refusal);
        // and what this writer writes for held positions is version 3 too
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(held(), bytes);
        assertThat(bytes.toByteArray()[4]).isEqualTo((byte) 3);
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(bytes.toByteArray()), 1L << 30, 2))
                .isInstanceOf(GoldenFormatException.class).hasMessage(refusal);
    }

    /**
     * A hostile header: a (1, 2^28) tensor claiming 2^28 held positions, in a blob of a few dozen bytes. The count is
     * within shape[1], so only the held-bytes bound stands between it and a 1 GiB position array (and as much again
     * in floats): the reader refuses it from the header, counting positions and floats, before allocating either.
     */
    @Test
    void aHugeHeldPositionCountIsRefusedBeforeThePositionsAreAllocated() throws IOException {
        int seq = 1 << 28;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {'A', 'F', 'G', 'O'}).putInt(3).putInt(1).putInt(1);
        b.putInt(6).put("logits".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.putInt(1).put((byte) 's');
        b.putInt(2).putInt(1).putInt(seq); // rank 2, shape (1, 2^28): one float per position
        b.putInt(GoldenOutputsCodec.LAYOUT_HELD_POSITIONS).putInt(seq); // every position "held"
        byte[] hostile = Arrays.copyOf(b.array(), b.position()); // and nothing after: no positions, no floats
        long bound = 64L << 20; // an agent's golden-max-memory, say
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(hostile), bound))
                .isInstanceOf(GoldenTooLargeException.class)
                .hasMessageContaining("the tensors up to tensor 'logits' of sample 's' hold " + (4L * seq + 4L * seq)
                        + " bytes once decoded, more than this JVM can hold (" + bound + " bytes)");
        // Under a bound it fits, the same header fails on the missing bytes instead (the floats are read in chunks).
        byte[] small = hostile.clone();
        java.nio.ByteBuffer.wrap(small).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(small.length - 4, 2);
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(small), bound))
                .isInstanceOf(GoldenFormatException.class).hasMessageContaining("truncated");
    }

    /** Corrupt held positions are refused naming the field: out of range, not ascending, an unknown layout. */
    @Test
    void refusesCorruptHeldPositions() throws IOException {
        GoldenOutputs one = new GoldenOutputs(List.of(new GoldenOutputs.Sample("s", Map.of("logits",
                GoldenTensor.of(new FloatTensor(new int[] {1, 4, 2}, new float[] {1, 2, 3, 4, 5, 6, 7, 8}))
                        .atPositions(new int[] {1, 3})))));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(one, bytes);
        byte[] good = bytes.toByteArray();
        // header 8, counts 8, name "logits" 4+6, id "s" 4+1, rank 4, dims 12, layout 4, count 4, positions 4 + 4
        int layout = 8 + 8 + 10 + 5 + 4 + 12;
        byte[] unknown = good.clone();
        unknown[layout] = 7;
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(unknown)))
                .hasMessageContaining("layout 7 of tensor 'logits' of sample 's' is neither 0");
        byte[] outside = good.clone();
        outside[layout + 12] = 4;
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(outside)))
                .hasMessageContaining("held position 1 of tensor 'logits' of sample 's' is 4: positions must ascend,"
                        + " each below 4");
        byte[] descending = good.clone();
        descending[layout + 12] = 1;
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(descending)))
                .hasMessageContaining("held position 1 of tensor 'logits' of sample 's' is 1");
        byte[] tooMany = good.clone();
        tooMany[layout + 4] = 5;
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(tooMany)))
                .hasMessageContaining("holds 5 positions of 4");
        assertThat(GoldenOutputsCodec.read(new ByteArrayInputStream(good)).samples()).isEqualTo(one.samples());
    }

    /**
     * An output held at some positions in one sample and whole in another (layout 1, then layout 0) is refused when
     * read, naming the output and the sample: a comparison of it would count positions that its report's
     * comparedPositions could not add up to, and the registry would refuse every result.
     */
    @Test
    void anOutputHeldOneWayInOneSampleAndAnotherWayInTheNextIsRefused() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(held(), bytes, 3);
        byte[] mixed = bytes.toByteArray();
        // header 8, counts 8, names 4+6 and 4+13; sample 0: id 4+8, logits 4+12+4+4+8+80, pooler 4+8+4+4+8;
        // sample 1: id 4+8, logits rank and dims 4+12, then its layout (1) and count (0): made layout 0, stored 0
        int layout = 8 + 8 + 10 + 17 + 12 + 112 + 28 + 12 + 16;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(mixed).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(layout)).isEqualTo(1);
        assertThat(b.getInt(layout + 4)).isZero();
        b.putInt(layout, 0);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(mixed, 0, mixed.length - 4);
        b.putInt(mixed.length - 4, (int) crc.getValue());
        assertThatThrownBy(() -> GoldenOutputsCodec.read(new ByteArrayInputStream(mixed)))
                .isInstanceOf(GoldenFormatException.class)
                .hasMessage("golden outputs: output 'logits' of sample 'sample-1' holds every position"
                        + " but the first sample's holds some positions only; an output is held the same way in every"
                        + " sample (HeldPositions.reduce does so)");
    }

    @Test
    void valueRejectsInconsistentSamples() {
        Map<String, FloatTensor> a = Map.of("x", FloatTensor.zeros(1));
        Map<String, FloatTensor> b = Map.of("y", FloatTensor.zeros(1));
        assertThatThrownBy(() -> new GoldenOutputs(List.of(GoldenOutputs.Sample.of("1", a), GoldenOutputs.Sample.of("2", b))))
                .hasMessageContaining("sample '2' has outputs [y] but the first sample has [x]");
        assertThatThrownBy(() -> new GoldenOutputs(List.of(GoldenOutputs.Sample.of("1", a), GoldenOutputs.Sample.of("1", a))))
                .hasMessageContaining("duplicate sample id '1'");
        GoldenTensor whole = GoldenTensor.of(new FloatTensor(new int[] {1, 2, 1}, new float[] {1, 2}));
        assertThatThrownBy(() -> new GoldenOutputs(List.of(new GoldenOutputs.Sample("1", Map.of("x", whole)),
                new GoldenOutputs.Sample("2", Map.of("x", whole.atPositions(new int[] {1}))))))
                .hasMessageContaining("output 'x' of sample '2' holds some positions only but the first sample's"
                        + " holds every position");
    }
}
