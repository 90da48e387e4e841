package io.aneforge.mlpackage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PackageArchiveTest {

    static byte[] zipOf(String... namesAndContents) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            for (int i = 0; i < namesAndContents.length; i += 2) {
                z.putNextEntry(new ZipEntry(namesAndContents[i]));
                z.write(namesAndContents[i + 1].getBytes());
                z.closeEntry();
            }
        }
        return out.toByteArray();
    }

    @Test
    void zipHasSortedEntriesWithFixedTimestamps(@TempDir Path tmp) throws Exception {
        Path pkg = tmp.resolve("M.mlpackage");
        Files.createDirectories(pkg.resolve("Data/b"));
        Files.writeString(pkg.resolve("Manifest.json"), "{}");
        Files.writeString(pkg.resolve("Data/b/z.bin"), "z");
        Files.writeString(pkg.resolve("Data/a.txt"), "a");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PackageArchive.zip(pkg, out);
        List<String> names = new ArrayList<>();
        try (ZipInputStream z = new ZipInputStream(new ByteArrayInputStream(out.toByteArray()))) {
            for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
                names.add(e.getName());
                assertThat(e.getTimeLocal()).isEqualTo(PackageArchive.FIXED_TIME);
            }
        }
        assertThat(names).containsExactly("M.mlpackage/Data/a.txt", "M.mlpackage/Data/b/z.bin", "M.mlpackage/Manifest.json");
    }

    @Test
    void weightFilesAreStoredAndTheRestDeflated(@TempDir Path tmp) throws Exception {
        Path pkg = tmp.resolve("M.mlpackage");
        Path weights = pkg.resolve("Data/com.apple.CoreML/weights");
        Files.createDirectories(weights);
        String repetitive = "abcd".repeat(5000);
        Files.writeString(weights.resolve("weight.bin"), repetitive);
        Files.writeString(pkg.resolve("Data/com.apple.CoreML/model.mlmodel"), repetitive);
        Files.writeString(pkg.resolve("Manifest.json"), "{}");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PackageArchive.zip(pkg, out);
        java.util.Map<String, ZipEntry> entries = new java.util.HashMap<>();
        try (java.util.zip.ZipFile z = zipFile(tmp, out.toByteArray())) {
            z.stream().forEach(e -> entries.put(e.getName(), e));
        }
        ZipEntry weight = entries.get("M.mlpackage/Data/com.apple.CoreML/weights/weight.bin");
        assertThat(weight.getMethod()).isEqualTo(ZipEntry.STORED);
        assertThat(weight.getCompressedSize()).isEqualTo(20000L);
        ZipEntry model = entries.get("M.mlpackage/Data/com.apple.CoreML/model.mlmodel");
        assertThat(model.getMethod()).isEqualTo(ZipEntry.DEFLATED);
        assertThat(model.getCompressedSize()).isLessThan(200L);
        // Streaming readers (the registry, unzip) get the stored entry's size and CRC from its local header.
        PackageArchive.unzip(new ByteArrayInputStream(out.toByteArray()), tmp.resolve("x"), PackageArchive.Limits.defaults());
        assertThat(Files.readString(tmp.resolve("x/M.mlpackage/Data/com.apple.CoreML/weights/weight.bin"))).isEqualTo(repetitive);
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        PackageArchive.zip(pkg, again);
        assertThat(again.toByteArray()).isEqualTo(out.toByteArray());
    }

    private static java.util.zip.ZipFile zipFile(Path tmp, byte[] bytes) throws Exception {
        Path f = tmp.resolve("a.zip");
        Files.write(f, bytes);
        return new java.util.zip.ZipFile(f.toFile());
    }

    @Test
    void unzipRejectsEscapingAndAbsolutePaths(@TempDir Path tmp) throws Exception {
        assertThatThrownBy(() -> PackageArchive.unzip(new ByteArrayInputStream(zipOf("a/../../evil", "x")), tmp, PackageArchive.Limits.defaults()))
                .hasMessage("archive entry 'a/../../evil' contains '..'; entries must stay inside the archive root");
        assertThatThrownBy(() -> PackageArchive.unzip(new ByteArrayInputStream(zipOf("/etc/passwd", "x")), tmp, PackageArchive.Limits.defaults()))
                .hasMessageContaining("archive entry '/etc/passwd' has an absolute or non-portable path");
        assertThat(Files.exists(tmp.getParent().resolve("evil"))).isFalse();
    }

    @Test
    void unzipEnforcesLimitsWhileExtracting(@TempDir Path tmp) throws Exception {
        byte[] z = zipOf("a", "0123456789", "b", "0123456789");
        assertThatThrownBy(() -> PackageArchive.unzip(new ByteArrayInputStream(z), tmp.resolve("1"), new PackageArchive.Limits(10, 5, 100)))
                .hasMessage("archive entry 'a' is larger than the limit of 5 bytes");
        assertThatThrownBy(() -> PackageArchive.unzip(new ByteArrayInputStream(z), tmp.resolve("2"), new PackageArchive.Limits(10, 100, 15)))
                .hasMessage("archive expands to more than the limit of 15 bytes");
        assertThatThrownBy(() -> PackageArchive.unzip(new ByteArrayInputStream(z), tmp.resolve("3"), new PackageArchive.Limits(1, 100, 100)))
                .hasMessage("archive has more than 1 entries");
        assertThat(PackageArchive.unzip(new ByteArrayInputStream(z), tmp.resolve("4"), PackageArchive.Limits.defaults())).hasSize(2);
        assertThat(Files.readString(tmp.resolve("4/b"))).isEqualTo("0123456789");
    }
}
