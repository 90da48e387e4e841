package io.aneforge.variant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PrecisionTest {

    @ParameterizedTest
    @CsvSource(nullValues = "-", value = {
        "fp32, fp32, 0, -",
        "fp16, fp16, 0, -",
        "w8a8, w8a8, 0, -",
        "w8a8-affine, w8a8, 0, affine",
        "int8-channel, int8, 0, -",
        "int8-block32, int8, 32, symmetric",
        "int8-block32-affine, int8, 32, affine",
        "int4-block64, int4, 64, symmetric",
        "int4-block128-affine, int4, 128, affine",
        "int4-block32-mse, int4, 32, symmetric-mse",
        "int4-block32-affine-mse, int4, 32, affine-mse",
        "int8-block64-mse, int8, 64, symmetric-mse",
        "int4-block32-ffn8, int4, 32, symmetric-ffn8",
        "int4-block32-affine-ffn8, int4, 32, affine-ffn8",
        "int4-block64-mse-ffn8, int4, 64, symmetric-mse-ffn8",
        "int4-block32-affine-mse-ffn8, int4, 32, affine-mse-ffn8",
        "int4-block32-gptq, int4, 32, symmetric-gptq",
        "int4-block32-affine-gptq, int4, 32, affine-gptq",
        "int8-block64-gptq, int8, 64, symmetric-gptq",
        "int4-block32-affine-gptq-ffn8, int4, 32, affine-gptq-ffn8",
    })
    void splitsIntoTheRegistryFieldsAndBack(String id, String family, int blockSize, String quantization) {
        Precision p = Precision.parse(id);
        assertThat(p.id()).isEqualTo(id);
        assertThat(p.family()).isEqualTo(family);
        assertThat(p.blockSize()).isEqualTo(blockSize);
        assertThat(p.registryQuantization()).isEqualTo(quantization);
        assertThat(p.blockQuantization()).isEqualTo(blockSize == 0 ? null : quantization); // w8a8-affine has no blocks
        assertThat(Precision.ofRegistry(family, blockSize == 0 ? null : blockSize, quantization)).isEqualTo(p);
    }

    @Test
    void mseSuffixAsksForTheClipSearchAndOnlyOnBlocks() {
        Precision p = Precision.parse(" INT4-Block32-Affine-MSE ");
        assertThat(p).isEqualTo(new Precision(Precision.Scheme.INT4_BLOCK, 32, true, true));
        assertThat(p.mse()).isTrue();
        assertThat(p.affine()).isTrue();
        assertThat(Precision.parse("int4-block32")).isEqualTo(new Precision(Precision.Scheme.INT4_BLOCK, 32, false));
        assertThat(Precision.parse("int4-block32").mse()).isFalse();
        assertThat(Precision.parse("int4-block32-mse")).isNotEqualTo(Precision.parse("int4-block32"));
        assertThat(p.minimumTarget()).isEqualTo(io.aneforge.mil.Target.IOS18);
        // the suffix order is fixed: mode, then fit
        assertThatThrownBy(() -> Precision.parse("int4-block32-mse-affine"))
                .hasMessageContaining("unknown precision 'int4-block32-mse-affine'")
                .hasMessageContaining("int4-block{32,64,128}[-affine][-mse|-gptq]");
        assertThatThrownBy(() -> Precision.parse("int8-channel-mse")).hasMessageContaining("unknown precision");
        assertThatThrownBy(() -> new Precision(Precision.Scheme.FP16, 0, false, true))
                .hasMessageContaining("-mse clip search applies to block-wise int8/int4 only");
        assertThatThrownBy(() -> Precision.ofRegistry("int4", 32, "mse"))
                .hasMessageContaining("must be symmetric, affine, symmetric-mse, affine-mse, symmetric-gptq or affine-gptq");
        assertThatThrownBy(() -> Precision.ofRegistry("int4", null, "affine"))
                .hasMessageContaining("needs a block size");
    }

    @Test
    void gptqSuffixAsksForErrorCompensationInPlaceOfTheClipSearch() {
        Precision p = Precision.parse("int4-block32-affine-gptq");
        assertThat(p).isEqualTo(new Precision(Precision.Scheme.INT4_BLOCK, 32, true, false, false, true));
        assertThat(p.gptq()).isTrue();
        assertThat(p.mse()).isFalse();
        assertThat(p).isNotEqualTo(Precision.parse("int4-block32-affine"));
        assertThat(Precision.parse("int4-block32-gptq-ffn8").ffnInput()).isEqualTo(Precision.parse("int8-block32-gptq"));
        assertThatThrownBy(() -> Precision.parse("int4-block32-mse-gptq"))
                .hasMessageContaining("-gptq and -mse are two ways to fit the same scales; pick one");
        assertThatThrownBy(() -> Precision.parse("int4-block32-gptq-gptq")).hasMessageContaining("names its scale fit twice");
        assertThatThrownBy(() -> Precision.parse("int4-block32-gptq-affine")).hasMessageContaining("unknown precision");
        assertThatThrownBy(() -> new Precision(Precision.Scheme.INT4_BLOCK, 32, true, true, false, true))
                .hasMessageContaining("-gptq and -mse are two ways to fit the same scales");
        assertThatThrownBy(() -> new Precision(Precision.Scheme.INT8_CHANNEL, 0, true, false, false, true))
                .hasMessageContaining("applies to block-wise int8/int4 only");
    }

    @Test
    void ffn8SuffixKeepsTheFfnInputsAtInt8OnInt4Only() {
        Precision p = Precision.parse("int4-block32-affine-mse-ffn8");
        assertThat(p).isEqualTo(new Precision(Precision.Scheme.INT4_BLOCK, 32, true, true, true));
        assertThat(p.ffn8()).isTrue();
        assertThat(p).isNotEqualTo(Precision.parse("int4-block32-affine-mse"));
        assertThat(Precision.parse("int4-block32-affine").ffn8()).isFalse();
        assertThat(p.minimumTarget()).isEqualTo(io.aneforge.mil.Target.IOS18);
        // the FFN inputs: int8 with the same block size, mode and fit, no override of their own
        assertThat(p.ffnInput()).isEqualTo(Precision.parse("int8-block32-affine-mse"));
        assertThat(Precision.parse("int4-block64-ffn8").ffnInput()).isEqualTo(Precision.parse("int8-block64"));
        Precision plain = Precision.parse("int4-block32-affine");
        assertThat(plain.ffnInput()).isSameAs(plain);
        // -ffn8 comes last
        assertThatThrownBy(() -> Precision.parse("int4-block32-ffn8-affine"))
                .hasMessageContaining("unknown precision 'int4-block32-ffn8-affine'")
                .hasMessageContaining("int4-block{32,64,128}[-affine][-mse|-gptq][-ffn8]");
        assertThatThrownBy(() -> Precision.parse("int8-block32-affine-ffn8"))
                .hasMessageContaining("an int8 variant has them at int8 already")
                .hasMessageContaining("int4-block32-affine-ffn8");
        assertThatThrownBy(() -> Precision.parse("fp16-ffn8")).hasMessageContaining("unknown precision");
        assertThatThrownBy(() -> new Precision(Precision.Scheme.INT8_BLOCK, 32, true, false, true))
                .hasMessageContaining("applies to int4 block-wise precisions only");
        assertThatThrownBy(() -> new Precision(Precision.Scheme.FP16, 0, false, false, true))
                .hasMessageContaining("applies to int4 block-wise precisions only");
        assertThatThrownBy(() -> Precision.ofRegistry("int8", 32, "affine-ffn8"))
                .hasMessageContaining("applies to int4 only, not int8");
        assertThatThrownBy(() -> Precision.ofRegistry("int4", 32, "ffn8"))
                .hasMessageContaining("for int4 optionally with -ffn8");
        assertThatThrownBy(() -> Precision.ofRegistry("int4", 32, "affine-ffn8-mse"))
                .hasMessageContaining("must be symmetric, affine, symmetric-mse, affine-mse, symmetric-gptq or affine-gptq");
    }

    @Test
    void w8a8AffineHasZeroPointsInItsActivationsAndQuantizationAffineInTheRegistry() {
        Precision p = Precision.parse(" W8A8-Affine ");
        assertThat(p).isEqualTo(new Precision(Precision.Scheme.W8A8, 0, true)).isNotEqualTo(Precision.parse("w8a8"));
        assertThat(p.id()).isEqualTo("w8a8-affine");
        assertThat(p.family()).isEqualTo("w8a8");
        assertThat(p.blockQuantization()).isNull();
        assertThat(p.calibrated()).isTrue();
        assertThat(p.minimumTarget()).isEqualTo(io.aneforge.mil.Target.IOS17);
        // V35: the registry tells the two modes apart by quantization, without a block size
        assertThat(p.registryQuantization()).isEqualTo("affine");
        assertThat(Precision.parse("w8a8").registryQuantization()).isNull();
        assertThat(Precision.ofRegistry("w8a8", null, null)).isEqualTo(Precision.parse("w8a8"));
        assertThat(Precision.ofRegistry("w8a8", null, "affine")).isEqualTo(p);
        assertThatThrownBy(() -> Precision.ofRegistry("w8a8", null, "symmetric"))
                .hasMessageContaining("quantization 'symmetric' of w8a8 must be affine").hasMessageContaining("or absent");
        assertThatThrownBy(() -> Precision.ofRegistry("w8a8", null, "affine-mse")).hasMessageContaining("of w8a8 must be affine");
        assertThatThrownBy(() -> Precision.ofRegistry("fp16", null, "affine"))
                .hasMessageContaining("quantization 'affine' needs a block size (without one, only w8a8 takes a quantization");
        assertThatThrownBy(() -> Precision.ofRegistry("int8", null, "affine")).hasMessageContaining("needs a block size");
        assertThatThrownBy(() -> Precision.ofRegistry("w8a8", 32, "affine")).hasMessageContaining("unknown precision");
        assertThatThrownBy(() -> Precision.parse("w8a8-mse")).hasMessageContaining("or w8a8[-affine]");
        assertThatThrownBy(() -> Precision.parse("w8a8-affine-ffn8")).hasMessageContaining("unknown precision");
    }

    @Test
    void affineAndSymmetricBlocksAreDifferentPrecisions() {
        assertThat(Precision.parse("int8-block32-affine")).isNotEqualTo(Precision.parse("int8-block32"));
        assertThatThrownBy(() -> Precision.parse("int8-block16"))
                .hasMessageContaining("block size must be 32, 64 or 128, got 16");
        assertThatThrownBy(() -> Precision.parse("int8-affine"))
                .hasMessageContaining("unknown precision 'int8-affine'");
    }
}
