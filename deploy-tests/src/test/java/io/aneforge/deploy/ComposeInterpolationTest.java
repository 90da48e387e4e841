package io.aneforge.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The compose interpolation the compose checks rely on behaves like Docker Compose's. */
class ComposeInterpolationTest {

    private final ComposeInterpolation interpolation = new ComposeInterpolation(Map.of("SET", "v", "EMPTY", ""));

    @Test
    void defaultsApplyByTheirOwnRule() {
        assertThat(interpolation.apply("${SET:-d}|${UNSET:-d}|${EMPTY:-d}")).isEqualTo("v|d|d");
        assertThat(interpolation.apply("${SET-d}|${UNSET-d}|${EMPTY-d}")).isEqualTo("v|d|");
        assertThat(interpolation.apply("${SET:+alt}|${UNSET:+alt}")).isEqualTo("alt|");
        assertThat(interpolation.variablesWithoutDefault()).isEmpty();
    }

    @Test
    void doubleDollarIsALiteralForTheContainerShell() {
        assertThat(interpolation.apply("mc mb \"local/$${BUCKET}\" costs $$5")).isEqualTo("mc mb \"local/${BUCKET}\" costs $5");
        assertThat(interpolation.variablesWithoutDefault()).isEmpty();
    }

    @Test
    void variablesWithoutADefaultAreReported() {
        assertThat(interpolation.apply("a=${SET} b=$UNSET c=${ALSO_UNSET}")).isEqualTo("a=v b= c=");
        assertThat(interpolation.variablesWithoutDefault()).containsExactly("SET", "UNSET", "ALSO_UNSET");
    }

    @Test
    void requiredVariablesFailWithTheirMessage() {
        assertThatThrownBy(() -> interpolation.apply("${UNSET:?set UNSET to the admin token}"))
                .hasMessage("required variable UNSET is not set: set UNSET to the admin token");
        assertThatThrownBy(() -> interpolation.apply("x ${OPEN"))
                .hasMessageContaining("unclosed ${ at offset 2");
    }
}
