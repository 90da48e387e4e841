package io.aneforge.mil;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A tensor holds at most 2^31 - 1 elements (one Java array), checked exactly where types are made. */
class TensorTypeTest {

    @Test
    void elementCountsOverTheLimitAreRefusedExactly() {
        assertThat(TensorType.of(DType.FP32, 46340, 46340).elementCount()).isEqualTo(2_147_395_600L);
        assertThat(TensorType.of(DType.FP32, Integer.MAX_VALUE).elementCount()).isEqualTo(Integer.MAX_VALUE);
        assertThatThrownBy(() -> TensorType.of(DType.FP32, 46341, 46341)).isInstanceOf(MilException.class)
                .hasMessage("shape [46341, 46341] has 2147488281 elements, more than the 2147483647 a tensor may have");
        // 2^64 wrapped to 0 in a long product
        assertThatThrownBy(() -> TensorType.of(DType.FP16, 65536, 65536, 65536, 65536))
                .hasMessage("shape [65536, 65536, 65536, 65536] has 18446744073709551616 elements, more than the 2147483647 a tensor may have");
        assertThatThrownBy(() -> TensorType.of(DType.FP32, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE,
                Integer.MAX_VALUE)).hasMessageContaining("elements, more than the 2147483647");
    }

    /** The review's 284 KB package: an outer product of two 65536-vectors failed inside a kernel with an index error. */
    @Test
    void typeInferenceRefusesAnOutputOverTheLimit() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.constant("x", Constant.fp32(new float[65536], 65536, 1));
        Var y = b.constant("y", Constant.fp32(new float[65536], 1, 65536));
        assertThatThrownBy(() -> b.matmul(x, y, false, false)).isInstanceOf(MilException.class)
                .hasMessageContaining("shape [65536, 65536] has 4294967296 elements, more than the 2147483647 a tensor may have");
    }
}
