package io.aneforge.registry.blob;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.RegistryTestBase;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

/** The archive limits, with small limits so the test stays small. */
class MlpackageArchiveTest {

    private final MlpackageArchive archive = new MlpackageArchive(null,
            new RegistryProperties(null, null, null, null, null, new RegistryProperties.Archive(3, 10_000), null, null));

    @Test
    void acceptsBothPackageRootLayouts() {
        assertThatCode(() -> archive.validate(new ByteArrayInputStream(RegistryTestBase.mlpackage("a")), "x")).doesNotThrowAnyException();
        assertThatCode(() -> archive.validate(new ByteArrayInputStream(RegistryTestBase.zip("Manifest.json", "{}")), "x"))
                .doesNotThrowAnyException();
    }

    @Test
    void refusesAManifestInsideANonPackageDirectory() {
        assertThatThrownBy(() -> archive.validate(new ByteArrayInputStream(RegistryTestBase.zip("stuff/Manifest.json", "{}")), "x"))
                .hasMessageContaining("no Manifest.json at the package root");
    }

    @Test
    void refusesTooManyEntries() {
        byte[] zip = RegistryTestBase.zip("Manifest.json", "{}", "a", "1", "b", "2", "c", "3");
        assertThatThrownBy(() -> archive.validate(new ByteArrayInputStream(zip), "sha256:x"))
                .hasMessage("blob sha256:x is not a zipped .mlpackage: it has more than 3 entries (aneforge.archive.max-entries)");
    }

    @Test
    void refusesAZipBombByCountingInflatedBytes() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            z.putNextEntry(new ZipEntry("Manifest.json"));
            z.write(new byte[20_000]); // compresses to a few dozen bytes
            z.closeEntry();
        }
        assertThatThrownBy(() -> archive.validate(new ByteArrayInputStream(bytes.toByteArray()), "sha256:x"))
                .hasMessageContaining("it inflates to more than 10000 bytes");
    }
}
