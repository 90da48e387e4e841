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
