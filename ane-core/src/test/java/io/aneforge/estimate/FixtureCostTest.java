package io.aneforge.estimate;

import io.aneforge.mil.Program;
import io.aneforge.mlpackage.MlPackage;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Costs of the coremltools-written packages in test resources (see coreml-fixtures/README.md):
 * programs as Apple's tools write them, with parameters bound through named const ops
 * and constexpr data bound as values or attributes.
 */
class FixtureCostTest {

    static Program fixture(String name) throws URISyntaxException {
        URL url = FixtureCostTest.class.getResource("/coreml-fixtures/" + name + ".mlpackage/Manifest.json");
        assertThat(url).as(name).isNotNull();
        return MlPackage.read(Path.of(url.toURI()).getParent());
    }

    @Test
    void fp16LayerNormLinearGeluSoftmax() throws Exception {
        // x [1, 4, 64] -> cast -> layer_norm -> linear [32, 64] -> gelu -> softmax -> cast
        ProgramCost c = CostCounter.count(fixture("tiny_fp16"));
        assertThat(c.flopsByOpType()).containsEntry("linear", 2L * 4 * 32 * 64)
                .containsEntry("layer_norm", OpCosts.LAYER_NORM * 4 * 64)
                .containsEntry("gelu", OpCosts.GELU * 4 * 32)
                .containsEntry("softmax", OpCosts.SOFTMAX * 4 * 32)
                .containsEntry("cast", 0L);
        assertThat(c.flops()).isEqualTo(16384 + 2048 + 1024 + 640);
        // gamma + beta [64] fp16, weight [32, 64] fp16, bias [32] fp16; axes, epsilon, mode and dtypes are parameters
        assertThat(c.weightBytes()).isEqualTo(2 * 64 * 2 + 32 * 64 * 2 + 32 * 2);
        // cast 256 in/out, layer_norm 256/256, linear 256/128, gelu, softmax, cast 128/128 elements, at 2 bytes
        assertThat(c.activationBytes()).isEqualTo(2L * (256 + 256 + 256 + 256 + 256 + 128 + 4 * 128 + 2 * 128));
    }

    @Test
    void blockwiseInt8WeightsCountAtPackedSize() throws Exception {
        ProgramCost fp16 = CostCounter.count(fixture("tiny_fp16"));
        ProgramCost int8 = CostCounter.count(fixture("tiny_int8_block32"));
        // int8 data [32, 64] + fp16 scales [32, 2] replace the fp16 weight
        assertThat(int8.weightBytes()).isEqualTo(fp16.weightBytes() - 32 * 64 * 2 + 32 * 64 + 32 * 2 * 2);
        assertThat(int8.flops()).isEqualTo(fp16.flops());
        assertThat(int8.activationBytes()).isEqualTo(fp16.activationBytes());
    }

    @Test
    void affineUint8WithAttributesCountsDataScalesAndZeroPoints() throws Exception {
        // x [1, 4, 64] -> cast -> linear (constexpr_affine_dequantize weight) -> cast
        ProgramCost c = CostCounter.count(fixture("tiny_ios16_affine_uint8"));
        assertThat(c.flops()).isEqualTo(2L * 4 * 32 * 64);
        assertThat(c.weightBytes()).isEqualTo(32 * 64 + 32 * 2 + 32 + 32 * 2); // data, scale, zero point, bias
        assertThat(c.activationBytes()).isEqualTo(2L * (256 + 256 + 256 + 128 + 128 + 128));
    }
}
