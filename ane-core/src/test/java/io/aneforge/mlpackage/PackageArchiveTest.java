package io.aneforge.mlpackage;

import static io.aneforge.testsupport.archives.Zips.symlinked;
import static io.aneforge.testsupport.archives.Zips.zip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackageArchiveTest {

    @TempDir
    Path tmp;

    static byte[] zipOf(String... namesAndContents) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i < namesAndContents.length; i += 2) {
            files.put(namesAndContents[i], namesAndContents[i + 1].getBytes());
        }
        return zip(files);
    }

    private Path file(byte[] zip) throws Exception {
        return Files.write(Files.createTempFile(tmp, "archive", ".zip"), zip);
    }

    private List<Path> unzip(byte[] zip, String dest, PackageArchive.Limits limits) throws Exception {
        return PackageArchive.unzip(file(zip), tmp.resolve(dest), limits);
    }

    @Test
    void zipHasSortedEntriesWithFixedTimestamps() throws Exception {
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
    void weightFilesAreStoredAndTheRestDeflated(@TempDir Path dir) throws Exception {
        Path pkg = dir.resolve("M.mlpackage");
        Path weights = pkg.resolve("Data/com.apple.CoreML/weights");
        Files.createDirectories(weights);
        String repetitive = "abcd".repeat(5000);
        Files.writeString(weights.resolve("weight.bin"), repetitive);
        Files.writeString(pkg.resolve("Data/com.apple.CoreML/model.mlmodel"), repetitive);
        Files.writeString(pkg.resolve("Manifest.json"), "{}");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PackageArchive.zip(pkg, out);
        java.util.Map<String, ZipEntry> entries = new java.util.HashMap<>();
        try (java.util.zip.ZipFile z = zipFile(dir, out.toByteArray())) {
            z.stream().forEach(e -> entries.put(e.getName(), e));
        }
        ZipEntry weight = entries.get("M.mlpackage/Data/com.apple.CoreML/weights/weight.bin");
        assertThat(weight.getMethod()).isEqualTo(ZipEntry.STORED);
        assertThat(weight.getCompressedSize()).isEqualTo(20000L);
        ZipEntry model = entries.get("M.mlpackage/Data/com.apple.CoreML/model.mlmodel");
        assertThat(model.getMethod()).isEqualTo(ZipEntry.DEFLATED);
        assertThat(model.getCompressedSize()).isLessThan(200L);
        // Streaming readers (the registry, unzip) get the stored entry's size and CRC from its local header.
        PackageArchive.unzip(new ByteArrayInputStream(out.toByteArray()), dir.resolve("x"), PackageArchive.Limits.defaults());
        assertThat(Files.readString(dir.resolve("x/M.mlpackage/Data/com.apple.CoreML/weights/weight.bin"))).isEqualTo(repetitive);
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
    void unzipRejectsEscapingAndAbsolutePaths() throws Exception {
        PackageArchive.Limits limits = PackageArchive.Limits.defaults();
        assertThatThrownBy(() -> unzip(zipOf("a/../../evil", "x"), "out", limits))
                .isInstanceOf(MlPackageException.class)
                .hasMessageContaining("entry 'a/../../evil' contains a '..' segment; refused as unsafe (entries must be"
                        + " relative paths with '/' separators inside the archive root)");
        assertThatThrownBy(() -> unzip(zipOf("../evil", "x"), "out", limits)).hasMessageContaining("entry '../evil' contains a '..' segment");
        assertThatThrownBy(() -> unzip(zipOf("/etc/passwd", "x"), "out", limits)).hasMessageContaining("entry '/etc/passwd' is an absolute path");
        assertThatThrownBy(() -> unzip(zipOf("C:/evil", "x"), "out", limits)).hasMessageContaining("starts with a drive letter");
        assertThatThrownBy(() -> unzip(zipOf("a\\b", "x"), "out", limits)).hasMessageContaining("contains a backslash");
        assertThatThrownBy(() -> unzip(zipOf("a\0b", "x"), "out", limits)).hasMessageContaining("entry 'a\\0b' contains a NUL byte");
        assertThat(tmp.resolve("evil")).doesNotExist();
        assertThat(tmp.getParent().resolve("evil")).doesNotExist();
    }

    @Test
    void unzipRefusesSymbolicLinksBeforeWritingAnything() throws Exception {
        byte[] linked = symlinked(zipOf("M.mlpackage/Manifest.json", "{}", "M.mlpackage/Data", "/etc"));
        assertThatThrownBy(() -> unzip(linked, "out", PackageArchive.Limits.defaults()))
                .isInstanceOf(MlPackageException.class)
                .hasMessageContaining("contains symbolic link entry 'M.mlpackage/Data': links are refused");
        assertThat(tmp.resolve("out")).doesNotExist();
    }

    @Test
    void unzipRefusesDuplicatesExistingFilesAndNonZips() throws Exception {
        // ZipOutputStream refuses duplicate names, so rename the second entry in place (same length).
        byte[] twice = zipOf("a", "1", "b", "2");
        for (int i = 0; i + 4 <= twice.length; i++) {
            boolean localOrCentral = twice[i] == 0x50 && twice[i + 1] == 0x4b && (twice[i + 2] == 3 || twice[i + 2] == 1);
            int nameAt = twice[i + 2] == 3 ? i + 30 : i + 46;
            if (localOrCentral && nameAt < twice.length && twice[nameAt] == 'b') {
                twice[nameAt] = 'a';
            }
        }
        assertThatThrownBy(() -> unzip(twice, "dup", PackageArchive.Limits.defaults()))
                .hasMessageContaining("has entry 'a' twice; refused because the two copies could differ");

        Files.createDirectories(tmp.resolve("full"));
        Files.writeString(tmp.resolve("full/a"), "mine");
        assertThatThrownBy(() -> unzip(zipOf("a", "theirs"), "full", PackageArchive.Limits.defaults()))
                .hasMessageContaining("cannot unzip");
        assertThat(Files.readString(tmp.resolve("full/a"))).isEqualTo("mine");

        assertThatThrownBy(() -> unzip("not a zip".getBytes(), "junk", PackageArchive.Limits.defaults()))
                .hasMessageContaining("is not a valid zip: no end-of-central-directory record");
    }

    @Test
    void unzipSkipsFinderMetadata() throws Exception {
        List<Path> files = unzip(zipOf("M.mlpackage/Manifest.json", "{}", "__MACOSX/M.mlpackage/._Manifest.json", "x"),
                "mac", PackageArchive.Limits.defaults());
        assertThat(files).containsExactly(tmp.resolve("mac/M.mlpackage/Manifest.json").toRealPath());
        try (Stream<Path> s = Files.list(tmp.resolve("mac"))) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("M.mlpackage");
        }
    }

    @Test
    void unzipEnforcesLimitsWhileExtracting() throws Exception {
        byte[] z = zipOf("a", "0123456789", "b", "0123456789");
        assertThatThrownBy(() -> unzip(z, "1", new PackageArchive.Limits(10, 5, 100)))
                .hasMessageEndingWith("entry 'a' unpacks to more than 5 bytes; refused");
        assertThatThrownBy(() -> unzip(z, "2", new PackageArchive.Limits(10, 100, 15)))
                .hasMessageContaining("unpacks to more than 15 bytes; refused (raise the unzip limit");
        assertThatThrownBy(() -> unzip(z, "3", new PackageArchive.Limits(1, 100, 100)))
                .hasMessageEndingWith("has 2 entries, more than the limit of 1; refused as unsafe");
        assertThat(tmp.resolve("3")).doesNotExist();
        assertThat(unzip(z, "4", PackageArchive.Limits.defaults())).hasSize(2);
        assertThat(Files.readString(tmp.resolve("4/b"))).isEqualTo("0123456789");
    }

    @Test
    void aStreamIsUnzippedThroughATemporaryFileThatIsBoundedByTheLimits() throws Exception {
        byte[] z = zipOf("a", "0123456789");
        assertThat(PackageArchive.unzip(new ByteArrayInputStream(z), tmp.resolve("s"), PackageArchive.Limits.defaults()))
                .containsExactly(tmp.resolve("s/a").toRealPath());
        assertThatThrownBy(() -> PackageArchive.unzip(new ByteArrayInputStream(symlinked(zipOf("a", "/etc"))), tmp.resolve("l"),
                PackageArchive.Limits.defaults())).hasMessageContaining("contains symbolic link entry 'a'");
        // an endless stream stops at the data limit plus room for headers
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                return 0;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return len;
            }
        };
        assertThatThrownBy(() -> PackageArchive.unzip(endless, tmp.resolve("e"), new PackageArchive.Limits(1, 64, 64)))
                .hasMessageContaining("archive is longer than " + (64 + 1 + (128L << 20)) + " bytes");
    }
}
