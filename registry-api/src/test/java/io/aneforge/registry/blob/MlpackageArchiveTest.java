package io.aneforge.registry.blob;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.RegistryTestBase;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive limits, with small limits so the test stays small. */
class MlpackageArchiveTest {

    private final MlpackageArchive archive = new MlpackageArchive(null,
            new RegistryProperties(null, null, null, null, null, new RegistryProperties.Archive(3, 10_000L), null, null));

    @TempDir
    Path tmp;

    private Path file(byte[] zip) throws Exception {
        return Files.write(Files.createTempFile(tmp, "archive", ".zip"), zip);
    }

    @Test
    void acceptsBothPackageRootLayouts() throws Exception {
        Path nested = file(RegistryTestBase.mlpackage("a"));
        Path flat = file(RegistryTestBase.zip("Manifest.json", "{}"));
        assertThatCode(() -> archive.validate(nested, "x")).doesNotThrowAnyException();
        assertThatCode(() -> archive.validate(flat, "x")).doesNotThrowAnyException();
    }

    @Test
    void refusesAManifestInsideANonPackageDirectory() throws Exception {
        Path zip = file(RegistryTestBase.zip("stuff/Manifest.json", "{}"));
        assertThatThrownBy(() -> archive.validate(zip, "x")).hasMessageContaining("no Manifest.json at the package root");
    }

    @Test
    void refusesTooManyEntries() throws Exception {
        Path zip = file(RegistryTestBase.zip("Manifest.json", "{}", "a", "1", "b", "2", "c", "3"));
        assertThatThrownBy(() -> archive.validate(zip, "sha256:x"))
                .hasMessage("blob sha256:x is not a zipped .mlpackage: the archive has 4 entries, more than the limit of 3;"
                        + " refused as unsafe; the registry's limit is aneforge.archive.max-entries");
    }

    @Test
    void refusesAZipBombByCountingInflatedBytes() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            z.putNextEntry(new ZipEntry("Manifest.json"));
            z.write(new byte[20_000]); // compresses to a few dozen bytes
            z.closeEntry();
        }
        Path zip = file(bytes.toByteArray());
        assertThatThrownBy(() -> archive.validate(zip, "sha256:x"))
                .hasMessage("blob sha256:x is not a zipped .mlpackage: the archive entry 'Manifest.json' unpacks to more than"
                        + " 10000 bytes; refused; the registry's limit is aneforge.archive.max-uncompressed-size");
    }

    @Test
    void refusesAnEmptyArchive() throws Exception {
        Path zip = file(RegistryTestBase.zip());
        assertThatThrownBy(() -> archive.validate(zip, "sha256:x"))
                .hasMessage("blob sha256:x is not a zipped .mlpackage: the archive has no entries");
    }
}
