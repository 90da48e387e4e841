package io.aneforge.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.RawSafetensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void writerOutputReadsBackIdenticallyAndIsDeterministic() throws Exception {
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        tensors.put("b.weight", new FloatTensor(new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
        tensors.put("a.bias", new FloatTensor(new int[] {3}, new float[] {0.1f, 0.2f, 0.3f}));
        tensors.put("empty", new FloatTensor(new int[] {0, 4}, new float[0]));
        Path f1 = dir.resolve("one.safetensors");
        Path f2 = dir.resolve("two.safetensors");
        SafetensorsWriter.write(f1, tensors, Map.of("format", "pt"));
        SafetensorsWriter.write(f2, tensors, Map.of("format", "pt"));
        assertThat(Files.readAllBytes(f1)).isEqualTo(Files.readAllBytes(f2));
        // Data buffer aligned to 8 bytes.
        long headerLength = ByteBuffer.wrap(Files.readAllBytes(f1), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLength % 8).isZero();
        try (SafetensorsFile f = SafetensorsFile.open(f1)) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.tensors()).extracting(TensorInfo::name).containsExactly("a.bias", "b.weight", "empty");
            FloatTensor b = f.readFloat("b.weight");
            assertThat(b.shape()).containsExactly(2, 3);
            assertThat(b.data()).containsExactly(1, 2, 3, 4, 5, -6.5f);
            assertThat(f.readFloat("empty").data()).isEmpty();
        }
    }

    /** Float dtypes decode to floats; integer ones are read as integers only, never widened into weights. */
    @Test
    void decodesEveryFloatDtypeAndRefusesIntegersAsWeights() throws Exception {
        ByteBuffer f16 = le(6).putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x0001);
        ByteBuffer bf16 = le(4).putShort((short) 0x3F80).putShort((short) 0xC0A0);
        ByteBuffer i32 = le(8).putInt(-7).putInt(123456);
        ByteBuffer i64 = le(8).putLong(1L << 40);
        Path file = dir.resolve("dtypes.safetensors");
        Files.write(file, new RawSafetensors()
                .raw("f16", "F16", f16.array(), 3)
                .raw("bf16", "BF16", bf16.array(), 2)
                .raw("i8", "I8", new byte[] {-3, 5}, 2)
                .raw("i32", "I32", i32.array(), 2)
                .raw("i64", "I64", i64.array(), 1)
                .bytes());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.readFloat("f16").data()).containsExactly(1f, -2f, 0x1.0p-24f);
            assertThat(f.readFloat("bf16").data()).containsExactly(1f, -5f);
            for (String name : java.util.List.of("i8", "i32", "i64")) {
                assertThatThrownBy(() -> f.readFloat(name)).isInstanceOf(SafetensorsException.class)
                        .hasMessage(file + ": tensor '" + name + "' has dtype " + name.toUpperCase(java.util.Locale.ROOT)
                                + ", which is not a floating-point weight (weights are F32, F16 or BF16)");
            }
            assertThat(f.readLongs("i32")).containsExactly(-7L, 123456L);
            assertThat(f.readLongs("i64")).containsExactly(1L << 40);
            assertThat(f.readLongs("i8")).containsExactly(-3L, 5L);
            assertThatThrownBy(() -> f.readLongs("f16")).hasMessageContaining("not an integer type");
        }
    }

    @Test
    void halfPrecisionMatchesReferenceOnAllFiniteValues() {
        // Every finite binary16 value is exactly representable in binary32; compare to a slow formula.
        for (int h = 0; h < 0x10000; h++) {
            int exp = (h >>> 10) & 0x1F;
            if (exp == 0x1F) {
                continue;
            }
            int mant = h & 0x3FF;
            double v = exp == 0 ? mant * Math.pow(2, -24) : (1 + mant / 1024.0) * Math.pow(2, exp - 15);
            float expected = (float) ((h & 0x8000) != 0 ? -v : v);
            assertThat(DTypeCodec.halfToFloat((short) h)).as("half 0x%04x", h).isEqualTo(expected);
        }
    }

    @Test
    void shardedCheckpointReadsAcrossShardsAndRejectsUnlistedTensors() throws Exception {
        new RawSafetensors().f32("a", new float[] {1, 2}, 2).write(dir.resolve("model-00001-of-00002.safetensors"));
        new RawSafetensors().f32("b", new float[] {3}, 1).write(dir.resolve("model-00002-of-00002.safetensors"));
        Path index = dir.resolve(ShardedSafetensors.INDEX_FILE);
        Files.writeString(index, "{\"metadata\":{\"total_size\":12},\"weight_map\":{"
                + "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
        try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
            assertThat(s.tensors()).extracting(TensorInfo::name).containsExactly("a", "b");
            assertThat(s.readFloat("b").data()).containsExactly(3f);
        }
        Files.writeString(index, "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                + "\"b\":\"model-00001-of-00002.safetensors\"}}");
        assertThatThrownBy(() -> ShardedSafetensors.open(index)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("tensor 'b'").hasMessageContaining("is not in this shard");
    }

    /** A 3 GB sparse index ran the JVM out of memory after 32 s of reading; /dev/zero never ends. */
    @Test
    void anIndexIsReadOnlyWhenItIsARegularFileOfSaneSize() throws Exception {
        Path index = dir.resolve(ShardedSafetensors.INDEX_FILE);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(index.toFile(), "rw")) {
            f.setLength(ShardedSafetensors.MAX_INDEX_BYTES + 1); // sparse: nothing is written
        }
        assertThatThrownBy(() -> ShardedSafetensors.open(index)).isInstanceOf(SafetensorsException.class)
                .hasMessage(index + ": index is 16777217 bytes, more than the limit of 16777216 (real ones are under 1 MB:"
                        + " a file name per tensor): the file is damaged or not an index");
        Files.delete(index);
        Files.createSymbolicLink(index, Path.of("/dev/zero"));
        assertThatThrownBy(() -> ShardedSafetensors.open(index)).isInstanceOf(SafetensorsException.class)
                .hasMessage(index + ": index is not a regular file");
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
