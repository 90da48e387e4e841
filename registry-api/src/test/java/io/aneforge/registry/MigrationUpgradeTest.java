package io.aneforge.registry;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** MigrationUpgrade refuses a release that is not a migration number before it names a schema after it. */
class MigrationUpgradeTest {

    @Test
    void aReleaseThatIsNotDigitsIsRefusedNamingTheFix() {
        assertThatThrownBy(() -> MigrationUpgrade.from("V20", st -> { }, st -> { }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("release must be a migration's version number, digits only (\"20\" for V20), not \"V20\"");
        assertThatThrownBy(() -> MigrationUpgrade.from("20; DROP SCHEMA public", st -> { }, st -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("digits only");
    }
}
