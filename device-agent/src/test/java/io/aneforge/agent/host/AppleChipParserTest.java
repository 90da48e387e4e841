package io.aneforge.agent.host;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AppleChipParserTest {

    @ParameterizedTest
    @CsvSource({
        "Apple M1, M1",
        "Apple M1 Pro, M1",
        "Apple M1 Max, M1",
        "Apple M1 Ultra, M1",
        "Apple M2, M2",
        "Apple M2 Pro, M2",
        "Apple M2 Max, M2",
        "Apple M3, M3",
        "Apple M3 Max, M3",
        "Apple M4, M4",
        "Apple M4 Pro, M4",
        "apple m4 max, M4",
        "'  Apple M2 Ultra  ', M2",
        "Apple A14 Bionic, A14",
        "Apple A15 Bionic, A15",
        "Apple A16 Bionic, A16",
        "Apple A17 Pro, A17_PRO",
        "Apple A18, A18",
        "Apple A18 Pro, A18_PRO",
    })
    void mapsAppleBrandsToChipFamilies(String brand, String chip) {
        assertThat(AppleChipParser.chipFromBrand(brand)).contains(chip);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz",
        "AMD EPYC 7B13 64-Core Processor",
        "Apple M5",          // newer than the catalog: no chip until the catalog knows it
        "Apple A13 Bionic",  // older than the supported range
        "Apple A17",         // the A17 exists only as A17 Pro
        "Apple M2 Bionic",
        "Apple A16 Max",
        "Mac14,2",
        "",
    })
    void nonAppleOrUnknownBrandsHaveNoChip(String brand) {
        assertThat(AppleChipParser.chipFromBrand(brand)).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({"'Mac14,2', M2", "' Macmini9,1 ', M1", "'iPhone16,1', A17_PRO"})
    void mapsModelIdentifiersThroughTheDeviceTable(String model, String chip) {
        assertThat(AppleChipParser.chipFromModel(model)).contains(chip);
    }

    @ParameterizedTest
    @ValueSource(strings = {"MacBookPro16,1", "Mac99,9", ""})
    void unknownModelIdentifiersHaveNoChip(String model) {
        assertThat(AppleChipParser.chipFromModel(model)).isEmpty();
    }

    @Test
    void everyCatalogChipIsKnownAndNothingElse() {
        for (Chip c : ChipCatalog.builtIn().chips()) {
            assertThat(AppleChipParser.isKnownChip(c.id())).as(c.id()).isTrue();
        }
        assertThat(AppleChipParser.isKnownChip("M5")).isFalse();
        assertThat(AppleChipParser.isKnownChip("A17")).isFalse();
    }
}
