package io.aneforge.registry.conversion;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.conversion.ConversionViews.Registration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The registration fields the registry hands workers for each planned variant (no Spring, no database). */
class ConversionRegistrationTest {

    @ParameterizedTest
    @CsvSource(nullValues = "-", value = {
        "fp16, IOS16, fp16, -, -, 16.0",
        "int8-channel, IOS16, int8, -, -, 16.0",
        "int8-block32, IOS18, int8, 32, symmetric, 18.0",
        "int8-block32-affine, IOS18, int8, 32, affine, 18.0",
        "int4-block64-affine, IOS18, int4, 64, affine, 18.0",
        "int4-block32-mse, IOS18, int4, 32, symmetric-mse, 18.0",
        "int4-block32-affine-mse, IOS18, int4, 32, affine-mse, 18.0",
        "int4-block32-affine-ffn8, IOS18, int4, 32, affine-ffn8, 18.0",
        "int4-block64-mse-ffn8, IOS18, int4, 64, symmetric-mse-ffn8, 18.0",
    })
    void splitsTheSpecPrecisionIntoTheVariantFields(String spec, String target, String precision, Integer block,
                                                    String quantization, String deploymentTarget) {
        ConversionVariant v = new ConversionVariant();
        v.chip = "A17_PRO";
        v.deploymentTarget = target;
        v.layout = "ane";
        v.precision = spec;
        v.seqLen = 128;
        assertThat(Conversions.registration(v))
                .isEqualTo(new Registration("A17_PRO", deploymentTarget, "ane", precision, block, quantization, 128));
    }
}
