package io.aneforge.names;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RegistryNamesTest {

    @Test
    void modelNamesAreLowerCaseWordsOfAtMost128Characters() {
        assertThat(RegistryNames.isModel("minilm-l6.v2_a")).isTrue();
        assertThat(RegistryNames.isModel("0" + "a".repeat(127))).isTrue();
        assertThat(RegistryNames.isModel("0" + "a".repeat(128))).isFalse();
        assertThat(RegistryNames.isModel("MiniLM")).isFalse();
        assertThat(RegistryNames.isModel("-minilm")).isFalse();
        assertThat(RegistryNames.isModel("a/b")).isFalse();
        assertThat(RegistryNames.isModel("")).isFalse();
        assertThat(RegistryNames.isModel(null)).isFalse();
    }

    @Test
    void aliasNamesFollowTheSameRuleWithAtMost64Characters() {
        assertThat(RegistryNames.isAlias("prod")).isTrue();
        assertThat(RegistryNames.isAlias("a".repeat(64))).isTrue();
        assertThat(RegistryNames.isAlias("a".repeat(65))).isFalse();
        assertThat(RegistryNames.isAlias(".prod")).isFalse();
        assertThat(RegistryNames.isAlias(null)).isFalse();
    }

    @Test
    void aReasonMustSaySomething() {
        assertThat(RegistryNames.isReason("passed eval")).isTrue();
        assertThat(RegistryNames.isReason(" \t")).isFalse();
        assertThat(RegistryNames.isReason(null)).isFalse();
    }
}
