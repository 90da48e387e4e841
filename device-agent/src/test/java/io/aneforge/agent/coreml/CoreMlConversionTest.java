package io.aneforge.agent.coreml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.kernels.Fp16;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The pure-Java parts of the Core ML runtime: constants, FP16, strides, dtype conversion, errors. */
class CoreMlConversionTest {

    @Test
    void computeUnitsMatchAppleEnumValues() {
        // MLModelConfiguration.h: CPUOnly = 0, CPUAndGPU = 1, All = 2, CPUAndNeuralEngine = 3
        assertThat(ComputeUnits.fromOption("cpuOnly")).isZero();
        assertThat(ComputeUnits.fromOption("cpuAndGPU")).isEqualTo(1);
        assertThat(ComputeUnits.fromOption("all")).isEqualTo(2);
        assertThat(ComputeUnits.fromOption("cpuAndNeuralEngine")).isEqualTo(3);
        for (String option : RuntimeOptions.COMPUTE_UNITS) {
            assertThat(ComputeUnits.fromOption(option)).isBetween(0L, 3L);
        }
        assertThatThrownBy(() -> ComputeUnits.fromOption("gpuOnly")).hasMessageContaining("unknown compute units 'gpuOnly'");
    }

    @Test
    void dataTypeCodesMatchMLMultiArrayDataType() {
        assertThat(MultiArrayDataType.FLOAT32.code()).isEqualTo(65568L);  // 0x10000 | 32
        assertThat(MultiArrayDataType.FLOAT16.code()).isEqualTo(65552L);  // 0x10000 | 16
        assertThat(MultiArrayDataType.FLOAT64.code()).isEqualTo(65600L);  // 0x10000 | 64
        assertThat(MultiArrayDataType.INT32.code()).isEqualTo(131104L);   // 0x20000 | 32
        assertThat(MultiArrayDataType.fromCode(131104L)).isEqualTo(MultiArrayDataType.INT32);
        assertThatThrownBy(() -> MultiArrayDataType.fromCode(0x20000 | 8))
                .isInstanceOf(CoreMlException.class)
                .hasMessageContaining("unsupported MLMultiArrayDataType 0x20008");
    }

    @Test
    void halfConversionsOnKnownBitPatterns() {
        assertThat(Fp16.fromFloat(1.0f)).isEqualTo((short) 0x3C00);
        assertThat(Fp16.fromFloat(-2.0f)).isEqualTo((short) 0xC000);
        assertThat(Fp16.fromFloat(65504f)).isEqualTo((short) 0x7BFF);   // largest finite half
        assertThat(Fp16.fromFloat(65520f)).isEqualTo((short) 0x7C00);   // rounds up to +inf
        assertThat(Fp16.fromFloat(0x1p-24f)).isEqualTo((short) 0x0001); // smallest subnormal
        assertThat(Fp16.fromFloat(0x1p-26f)).isEqualTo((short) 0x0000); // below half of it → 0
        assertThat(Fp16.fromFloat(1.0f + 0x1p-11f)).isEqualTo((short) 0x3C00); // tie → even
        assertThat(Fp16.fromFloat(1.0f + 3 * 0x1p-11f)).isEqualTo((short) 0x3C02); // tie → even (up)
        assertThat(Fp16.toFloat((short) 0x3555)).isEqualTo(0.333251953125f);
        assertThat(Fp16.toFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(Fp16.toFloat((short) 0xFC00)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(Fp16.toFloat(Fp16.fromFloat(Float.NaN))).isNaN();
        // every finite half survives half → float → half
        for (int bits = 0; bits < 0x10000; bits++) {
            if ((bits & 0x7C00) == 0x7C00) {
                continue;
            }
            assertThat(Fp16.fromFloat(Fp16.toFloat((short) bits))).isEqualTo((short) bits);
        }
    }

    @Test
    void contiguousStridesAndSpans() {
        assertThat(StridedLayout.contiguousStrides(new int[] {2, 3, 4})).containsExactly(12, 4, 1);
        assertThat(StridedLayout.byteSpan(new int[] {2, 3, 4}, new long[] {12, 4, 1}, 4)).isEqualTo(96);
        // ANE-style padding: last dim 3 padded to 32 elements (64 bytes of FP16)
        assertThat(StridedLayout.byteSpan(new int[] {1, 2, 3}, new long[] {64, 32, 1}, 2)).isEqualTo((32 + 2 + 1) * 2);
        assertThat(StridedLayout.offsets(new int[] {2, 3}, new long[] {32, 1})).containsExactly(0, 1, 2, 32, 33, 34);
        assertThat(StridedLayout.offsets(new int[] {}, new long[] {})).containsExactly(0);
    }

    @Test
    void decodesPaddedFloat16OutputsToContiguousFloat32() {
        int[] shape = {1, 2, 3};
        long[] strides = {64, 32, 1};
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(StridedLayout.byteSpan(shape, strides, 2)))
                .order(ByteOrder.nativeOrder());
        float[] expected = {0.5f, -1.25f, 3f, 1024f, -0.0625f, 7f};
        int k = 0;
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 3; c++) {
                buf.putShort((r * 32 + c) * 2, Fp16.fromFloat(expected[k++]));
            }
            for (int pad = 3; pad < 32 && r * 32 + pad < buf.capacity() / 2; pad++) {
                buf.putShort((r * 32 + pad) * 2, Fp16.fromFloat(999f)); // garbage in the padding
            }
        }

        FloatTensor t = MultiArrayCodec.decode(new HostArray(MultiArrayDataType.FLOAT16, shape, strides, buf));

        assertThat(t.shape()).containsExactly(1, 2, 3);
        assertThat(t.data()).containsExactly(expected);
    }

    @Test
    void encodesIntoStridedMemoryAndRoundTripsEveryType() {
        Random random = new Random(7);
        float[] data = new float[24];
        for (int i = 0; i < data.length; i++) {
            data[i] = random.nextInt(2000) - 1000;
        }
        FloatTensor t = new FloatTensor(new int[] {2, 3, 4}, data);
        for (MultiArrayDataType type : MultiArrayDataType.values()) {
            long[] strides = {3 * 16, 16, 1}; // last dim padded to 16
            ByteBuffer memory = ByteBuffer.allocate(Math.toIntExact(
                    StridedLayout.byteSpan(t.shape(), strides, type.elementBytes()))).order(ByteOrder.nativeOrder());
            MultiArrayCodec.encodeInto("x", t, type, memory, strides);

            FloatTensor back = MultiArrayCodec.decode(new HostArray(type, t.shape(), strides, memory));

            assertThat(back.data()).as(type.name()).containsExactly(data); // integers ≤ 1000 are exact in FP16
            assertThat(StridedLayout.read(memory, type, 16)).isEqualTo(data[4]); // row 1 starts at element 16
        }
    }

    @Test
    void int32InputsMustBeExactIntegers() {
        FloatTensor ids = new FloatTensor(new int[] {1, 3}, new float[] {101, 7592.5f, 102});

        assertThatThrownBy(() -> MultiArrayCodec.encode("input_ids", ids, MultiArrayDataType.INT32))
                .isInstanceOf(CoreMlException.class)
                .hasMessageContaining("input 'input_ids' is declared Int32 but element 1 is 7592.5");
        HostArray ok = MultiArrayCodec.encode("input_ids",
                new FloatTensor(new int[] {1, 3}, new float[] {101, 7592, 102}), MultiArrayDataType.INT32);
        assertThat(ok.data().getInt(4)).isEqualTo(7592);
    }

    @Test
    void nsErrorsBecomeMessagesNamingDomainCodeAndSubject() {
        NsErrorInfo io = new NsErrorInfo("com.apple.CoreML", 3, "Failed to read model package at path.",
                "The file couldn't be opened.");
        assertThat(NsErrorInfo.describe("compile", "/c/model.mlpackage", io)).isEqualTo(
                "Core ML could not compile /c/model.mlpackage: Failed to read model package at path."
                        + " (The file couldn't be opened.) [com.apple.CoreML MLModelErrorIO (3)]");
        NsErrorInfo posix = new NsErrorInfo("NSPOSIXErrorDomain", 28, "No space left on device", null);
        assertThat(NsErrorInfo.describe("load", "m.mlmodelc", posix))
                .isEqualTo("Core ML could not load m.mlmodelc: No space left on device [NSPOSIXErrorDomain code 28]");
        assertThat(NsErrorInfo.describe("predict with", "m", null)).isEqualTo(
                "Core ML could not predict with m and gave no NSError");
        assertThat(NsErrorInfo.describe("load", "m", new NsErrorInfo("com.apple.CoreML", 0, "", "")))
                .contains("(no description) [com.apple.CoreML MLModelErrorGeneric (0)]");
    }
}
