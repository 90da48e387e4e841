package io.aneforge.chips;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChipCatalogTest {

    private final ChipCatalog catalog = ChipCatalog.builtIn();
    private final VariantPolicy policy = new VariantPolicy(catalog);

    @Test
    void everyChipAndDeviceHasASource() {
        assertThat(catalog.chips()).hasSizeGreaterThanOrEqualTo(10)
                .allSatisfy(c -> assertThat(c.source()).isNotBlank());
        assertThat(catalog.devices()).allSatisfy(d -> {
            assertThat(d.source()).isNotBlank();
            assertThat(catalog.chip(d.chipId())).isPresent();
        });
    }

    @Test
    void everyChipHasAtLeastOneDevice() {
        for (Chip c : catalog.chips()) {
            assertThat(catalog.devices()).as("devices of " + c.id()).anyMatch(d -> d.chipId().equals(c.id()));
        }
    }

    @Test
    void mapsDeviceIdentifiersToChips() {
        assertThat(catalog.chipOfDevice("iPhone16,1")).map(Chip::id).contains("A17_PRO");
        assertThat(catalog.chipOfDevice("iPhone17,3")).map(Chip::id).contains("A18");
        assertThat(catalog.chipOfDevice("iPad16,3")).map(Chip::id).contains("M4");
        assertThat(catalog.chipOfDevice("Mac14,2")).map(Chip::id).contains("M2");
        assertThat(catalog.chipOfDevice("iPhone99,1")).isEmpty();
        assertThat(catalog.chip("A17_PRO").orElseThrow().w8a8()).isEqualTo(FastPath.YES);
    }

    @Test
    void fallbackStaysOnTheLineAndNeverGoesNewer() {
        assertThat(ids(policy.compatibleChips(catalog.chip("A18").orElseThrow())))
                .containsExactly("A18", "A18_PRO", "A17_PRO", "A16", "A15", "A14");
        assertThat(ids(policy.compatibleChips(catalog.chip("A16").orElseThrow())))
                .containsExactly("A16", "A15", "A14");
        assertThat(ids(policy.compatibleChips(catalog.chip("M2").orElseThrow())))
                .containsExactly("M2", "M1");
        assertThat(ids(policy.compatibleChips(catalog.chip("A14").orElseThrow()))).containsExactly("A14");
    }

    @Test
    void osVersionsCompareInIosNumbering() {
        assertThat(OsVersion.parse("18.2")).isGreaterThan(OsVersion.parse("18"));
        assertThat(OsVersion.parse("17.10")).isGreaterThan(OsVersion.parse("17.9"));
        assertThat(OsVersion.parse("15.1").toIosNumbering(Platform.MACOS)).isEqualTo(OsVersion.parse("18.1"));
        assertThat(OsVersion.parse("26.0").toIosNumbering(Platform.MACOS)).isEqualTo(OsVersion.parse("26.0"));
        assertThatThrownBy(() -> OsVersion.parse("eighteen"))
                .hasMessage("OS version 'eighteen' is not of the form MAJOR[.MINOR[.PATCH]] (e.g. 18.2)");
    }

    @Test
    void rejectsADeviceThatNamesAnUnknownChip() {
        Chip a14 = catalog.chip("A14").orElseThrow();
        assertThatThrownBy(() -> new ChipCatalog(List.of(a14),
                List.of(new Device("iPhone1,1", "A99", "x", Platform.IOS, "test"))))
                .hasMessageContaining("device iPhone1,1 names chip 'A99' which is not in the chip catalog");
    }

    @Test
    void mapsCpuBrandsToChipsAndEveryChipHasOne() {
        assertThat(catalog.chipOfCpuBrand("Apple M2 Pro")).map(Chip::id).contains("M2");
        assertThat(catalog.chipOfCpuBrand("  apple   m4 MAX ")).map(Chip::id).contains("M4");
        assertThat(catalog.chipOfCpuBrand("Apple A17 Pro")).map(Chip::id).contains("A17_PRO");
        assertThat(catalog.chipOfCpuBrand("Apple A17")).isEmpty();
        assertThat(catalog.chipOfCpuBrand("Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz")).isEmpty();
        assertThat(catalog.chipOfCpuBrand(null)).isEmpty();
        assertThat(catalog.cpuBrands()).allSatisfy(b -> assertThat(b.source()).isNotBlank());
        for (Chip c : catalog.chips()) {
            assertThat(catalog.cpuBrands()).as("cpu brands of " + c.id()).anyMatch(b -> b.chipId().equals(c.id()));
        }
    }

    @Test
    void rejectsACpuBrandThatNamesAnUnknownChipOrRepeats() {
        Chip m1 = catalog.chip("M1").orElseThrow();
        assertThatThrownBy(() -> new ChipCatalog(List.of(m1), List.of(), List.of(new CpuBrand("Apple M9", "M9", "test"))))
                .hasMessageContaining("cpu brand 'Apple M9' names chip 'M9' which is not in the chip catalog");
        assertThatThrownBy(() -> new ChipCatalog(List.of(m1), List.of(),
                List.of(new CpuBrand("Apple M1", "M1", "test"), new CpuBrand("apple  M1", "M1", "test"))))
                .hasMessageContaining("cpu brand 'apple  M1' is listed twice");
    }

    private static List<String> ids(List<Chip> chips) {
        return chips.stream().map(Chip::id).toList();
    }
}
