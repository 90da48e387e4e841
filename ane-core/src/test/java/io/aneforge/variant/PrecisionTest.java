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
        "int8-channel, int8, 0, -",
        "int8-block32, int8, 32, symmetric",
        "int8-block32-affine, int8, 32, affine",
        "int4-block64, int4, 64, symmetric",
        "int4-block128-affine, int4, 128, affine",
    })
    void splitsIntoTheRegistryFieldsAndBack(String id, String family, int blockSize, String quantization) {
        Precision p = Precision.parse(id);
        assertThat(p.id()).isEqualTo(id);
        assertThat(p.family()).isEqualTo(family);
        assertThat(p.blockSize()).isEqualTo(blockSize);
        assertThat(p.blockQuantization()).isEqualTo(quantization);
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
