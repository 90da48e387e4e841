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
            new RegistryProperties(null, null, null, null, null, new RegistryProperties.Archive(3, 10_000L), null, null, null, null, null));

    @TempDir
    Path tmp;

    private Path file(byte[] zip) throws Exception {
        return Files.write(Files.createTempFile(tmp, "archive", ".zip"), zip);
    }

    @Test
    void acceptsBothPackageRootLayouts() throws Exception {
        Path nested = file(RegistryTestBase.mlpackage("a"));
        Path flat = file(flat(RegistryTestBase.mlpackage("b")));
        assertThatCode(() -> archive.validate(nested, "x")).doesNotThrowAnyException();
        assertThatCode(() -> archive.validate(flat, "x")).doesNotThrowAnyException();
    }

    /** The same package with its entries at the archive root instead of under Model.mlpackage/. */
    private static byte[] flat(byte[] nested) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (var in = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(nested));
             ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                z.putNextEntry(new ZipEntry(e.getName().substring(e.getName().indexOf('/') + 1)));
                in.transferTo(z);
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void refusesAPackageWhoseModelIsNotACoreMlModel() throws Exception {
        String manifest = new String(unzipped(RegistryTestBase.mlpackage("c"), "Model.mlpackage/Manifest.json"),
                java.nio.charset.StandardCharsets.UTF_8);
        Path garbage = file(RegistryTestBase.zip("Manifest.json", manifest, "Data/com.apple.CoreML/model.mlmodel", "garbage"));
        assertThatThrownBy(() -> archive.validate(garbage, "sha256:x"))
                .hasMessageStartingWith("blob sha256:x is not a zipped .mlpackage: Data/com.apple.CoreML/model.mlmodel is not"
                        + " a Core ML model: ");
        // a manifest with no items names no root model: nothing a reader could load
        Path noItems = file(RegistryTestBase.zip("Manifest.json", "{\"fileFormatVersion\":\"1.0.0\"}",
                "Data/com.apple.CoreML/model.mlmodel", "garbage"));
        assertThatThrownBy(() -> archive.validate(noItems, "sha256:x"))
                .hasMessage("blob sha256:x is not a zipped .mlpackage: Manifest.json: itemInfoEntries is missing");
        Path noModel = file(RegistryTestBase.zip("Manifest.json", manifest));
        assertThatThrownBy(() -> archive.validate(noModel, "sha256:x"))
                .hasMessage("blob sha256:x is not a zipped .mlpackage: 'Data/com.apple.CoreML/model.mlmodel' is missing or"
                        + " not a file: a package holds its model there");
    }

    private static byte[] unzipped(byte[] zip, String name) throws Exception {
        try (var in = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                if (e.getName().equals(name)) return in.readAllBytes();
            }
        }
        throw new IllegalArgumentException(name);
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
