package io.aneforge.variant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PrecisionSelectorTest {

    private static final Precision W8A8 = Precision.parse("w8a8");
    private static final Precision W8A8_AFFINE = Precision.parse("w8a8-affine");

    @Test
    void aFamilySelectsEveryPrecisionOfItAFullIdExactlyOne() {
        PrecisionSelector int8 = PrecisionSelector.parse("int8");
        assertThat(int8.isFamily()).isTrue();
        assertThat(int8.matches(Precision.INT8_CHANNEL)).isTrue();
        assertThat(int8.matches(Precision.parse("int8-block64-affine-gptq"))).isTrue();
        assertThat(int8.matches(W8A8)).isFalse(); // w8a8 is a family of its own

        PrecisionSelector channel = PrecisionSelector.parse("int8-channel");
        assertThat(channel.matches(Precision.INT8_CHANNEL)).isTrue();
        assertThat(channel.matches(Precision.parse("int8-block32"))).isFalse();
        assertThat(PrecisionSelector.parse(" INT4-Block32-Affine ").name()).isEqualTo("int4-block32-affine");
    }

    /** w8a8 names the family (both modes), as it always did in resolve; w8a8-symmetric the symmetric mode alone. */
    @Test
    void w8a8IsTheFamilyAndW8a8SymmetricTheSymmetricModeAlone() {
        PrecisionSelector family = PrecisionSelector.parse("w8a8");
        assertThat(family.matches(W8A8)).isTrue();
        assertThat(family.matches(W8A8_AFFINE)).isTrue();
        PrecisionSelector symmetric = PrecisionSelector.parse("w8a8-symmetric");
        assertThat(symmetric.matches(W8A8)).isTrue();
        assertThat(symmetric.matches(W8A8_AFFINE)).isFalse();
        PrecisionSelector affine = PrecisionSelector.parse("w8a8-affine");
        assertThat(affine.matches(W8A8_AFFINE)).isTrue();
        assertThat(affine.matches(W8A8)).isFalse();

        assertThat(PrecisionSelector.of(W8A8)).isEqualTo(symmetric);
        assertThat(PrecisionSelector.nameOf(W8A8)).isEqualTo("w8a8-symmetric");
        assertThat(PrecisionSelector.of(W8A8_AFFINE).name()).isEqualTo("w8a8-affine");
        assertThat(PrecisionSelector.of(Precision.FP16)).isEqualTo(PrecisionSelector.parse("fp16"));
    }

    @Test
    void legacyRowsWithoutAFullPrecisionMatchTheirFamilyOnly() {
        assertThat(PrecisionSelector.parse("int4").matches("int4", null)).isTrue();
        assertThat(PrecisionSelector.parse("int4-block32").matches("int4", null)).isFalse();
        assertThat(PrecisionSelector.family("int4").name()).isEqualTo("int4");
    }

    @Test
    void unknownNamesAreRefusedWithTheKnownForms() {
        assertThatThrownBy(() -> PrecisionSelector.parse("fp8"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("'fp8' is not a precision: use a family [fp16, int8, w8a8, int4, fp32]")
                .hasMessageContaining("w8a8-symmetric");
        assertThatThrownBy(() -> PrecisionSelector.parse("w8a8-affine-mse")).hasMessageStartingWith("'w8a8-affine-mse' is not a precision");
        assertThatThrownBy(() -> PrecisionSelector.parse(null)).hasMessageStartingWith("'null' is not a precision");
    }

    /** A known form with a wrong part keeps Precision's message, which names the part and the fix, before the forms. */
    @Test
    void aKnownFormWithAWrongPartSaysWhatToChangeBeforeTheForms() {
        assertThatThrownBy(() -> PrecisionSelector.parse("int8-block32-affine-ffn8"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("'int8-block32-affine-ffn8' is not a precision: the -ffn8 override keeps the FFN input"
                        + " projections of an int4 variant at int8; an int8 variant has them at int8 already, drop -ffn8 (or"
                        + " use int4-block32-affine-ffn8); use a family [fp16, int8, w8a8, int4, fp32]")
                .hasMessageEndingWith("w8a8-symmetric (w8a8 with symmetric activations only)");
        assertThatThrownBy(() -> PrecisionSelector.parse("int4-block16"))
                .hasMessageStartingWith("'int4-block16' is not a precision: block size must be 32, 64 or 128, got 16; use a family");
        assertThatThrownBy(() -> PrecisionSelector.parse("int4-block32-mse-gptq"))
                .hasMessageStartingWith("'int4-block32-mse-gptq' is not a precision: -gptq and -mse are two ways to fit the"
                        + " same scales; pick one; use a family");
    }

    @Test
    void theFormListsNameEveryAcceptedForm() {
        assertThat(PrecisionSelector.EXACT_FORMS).containsExactly("int8-channel",
                "int8-block{32,64,128}[-affine][-mse|-gptq]", "int4-block{32,64,128}[-affine][-mse|-gptq][-ffn8]",
                "w8a8-affine", "w8a8-symmetric");
        for (String name : List.of("int8-channel", "int8-block64-affine-gptq", "int4-block128-mse-ffn8", "w8a8-affine",
                "w8a8-symmetric")) {
            assertThat(PrecisionSelector.parse(name).isFamily()).as(name).isFalse();
        }
        assertThat(PrecisionSelector.FAMILIES).allSatisfy(f -> assertThat(PrecisionSelector.parse(f).isFamily()).isTrue());
    }
}
