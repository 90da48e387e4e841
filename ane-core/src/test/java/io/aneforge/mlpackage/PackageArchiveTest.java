package io.aneforge.mlpackage;

import static io.aneforge.testsupport.archives.Zips.renamedInCentralDirectory;
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
import java.util.Arrays;
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

    /** Offset of the first central-directory header (PK 1 2) or of the end record (PK 5 6). */
    private static int signature(byte[] zip, int third) {
        for (int i = 0; i + 4 <= zip.length; i++) {
            if (zip[i] == 0x50 && zip[i + 1] == 0x4b && zip[i + 2] == third && zip[i + 3] == third + 1) {
                return i;
            }
        }
        throw new IllegalArgumentException("no signature PK " + third);
    }

    @Test
    void unzipRefusesLocalHeadersThatNameAnotherFile() throws Exception {
        // A streaming reader sees Manifest.json; unzip, Python and ZipFile see ../../evil.xy.
        byte[] escaping = renamedInCentralDirectory(zipOf("Manifest.json", "{}"), "Manifest.json", "../../evil.xy");
        assertThatThrownBy(() -> unzip(escaping, "e", PackageArchive.Limits.defaults()))
                .hasMessageContaining("entry '../../evil.xy': its local header names 'Manifest.json' instead; refused"
                        + " because readers would disagree about what the archive holds");
        // Harmless names too: the two views of the archive must be the same one.
        byte[] swapped = renamedInCentralDirectory(zipOf("M.mlpackage/Manifest.json", "{}", "M.mlpackage/Data/x.bin", "x"),
                "M.mlpackage/Data/x.bin", "M.mlpackage/Data/y.bin");
        assertThatThrownBy(() -> unzip(swapped, "s", PackageArchive.Limits.defaults()))
                .hasMessageContaining("entry 'M.mlpackage/Data/y.bin': its local header names 'M.mlpackage/Data/x.bin'");
        assertThat(tmp.resolve("e")).doesNotExist();
        assertThat(tmp.resolve("s")).doesNotExist();
    }

    @Test
    void unzipRefusesSymbolicLinksWhateverHostTheEntryNames() throws Exception {
        for (int host : new int[] {0, 2, 5, 19}) {
            byte[] linked = symlinked(zipOf("M.mlpackage/Manifest.json", "{}", "M.mlpackage/Data", "/etc"));
            int last = -1;
            for (int i = 0; i + 4 <= linked.length; i++) {
                if (linked[i] == 0x50 && linked[i + 1] == 0x4b && linked[i + 2] == 1 && linked[i + 3] == 2) {
                    last = i;
                }
            }
            linked[last + 5] = (byte) host;
            assertThatThrownBy(() -> unzip(linked, "h" + host, PackageArchive.Limits.defaults()))
                    .as("host %d", host)
                    .hasMessageContaining("contains symbolic link entry 'M.mlpackage/Data': links are refused");
        }
    }

    @Test
    void unzipRefusesTruncatedPaddedAndMiscountedArchives() throws Exception {
        byte[] z = zipOf("M.mlpackage/Manifest.json", "{}", "M.mlpackage/Data/x.bin", "0123456789");
        byte[] cut = Arrays.copyOf(z, signature(z, 1));
        assertThatThrownBy(() -> unzip(cut, "cut", PackageArchive.Limits.defaults()))
                .hasMessageContaining("is not a valid zip: no end-of-central-directory record (the file is truncated, or not a zip)");
        assertThatThrownBy(() -> unzip(Arrays.copyOf(z, 133), "head", PackageArchive.Limits.defaults()))
                .hasMessageContaining("no end-of-central-directory record");

        byte[] prefixed = new byte[z.length + 7];
        System.arraycopy(z, 0, prefixed, 7, z.length);
        assertThatThrownBy(() -> unzip(prefixed, "prefixed", PackageArchive.Limits.defaults()))
                .hasMessageContaining("does not end at the end record");
        byte[] trailing = Arrays.copyOf(z, z.length + 3);
        assertThatThrownBy(() -> unzip(trailing, "trailing", PackageArchive.Limits.defaults()))
                .hasMessageContaining("-byte comment do not end the " + trailing.length + "-byte file");

        // The end record counts one entry; ZipFile would list both.
        byte[] miscounted = z.clone();
        int eocd = signature(miscounted, 5);
        miscounted[eocd + 8] = 1;
        miscounted[eocd + 10] = 1;
        assertThatThrownBy(() -> unzip(miscounted, "count", PackageArchive.Limits.defaults()))
                .hasMessageContaining("bytes after the 1 entries its end record counts");
        for (String dir : List.of("cut", "head", "prefixed", "trailing", "count")) {
            assertThat(tmp.resolve(dir)).doesNotExist();
        }
    }

    @Test
    void unzipRefusesAnEntryWhoseBytesDoNotMatchItsRecord() throws Exception {
        byte[] z = zipOf("a", "0123456789");
        z[signature(z, 1) + 16] ^= 1; // the central directory's CRC-32
        assertThatThrownBy(() -> unzip(z, "crc", PackageArchive.Limits.defaults()))
                .hasMessageContaining("entry 'a' unpacks to 10 bytes with CRC-32")
                .hasMessageContaining("refused as corrupt");
    }

    @Test
    void checkAppliesTheUnzipRulesWithoutWriting() throws Exception {
        byte[] z = zipOf("M.mlpackage/Manifest.json", "{}", "__MACOSX/M.mlpackage/._Manifest.json", "x");
        assertThat(PackageArchive.check(file(z), "the archive", PackageArchive.Limits.defaults()))
                .containsExactly("M.mlpackage/Manifest.json", "__MACOSX/M.mlpackage/._Manifest.json");

        byte[] bomb = zipOf("a", "0".repeat(10_000));
        assertThatThrownBy(() -> PackageArchive.check(file(bomb), "the archive", new PackageArchive.Limits(10, 100_000, 5000)))
                .isInstanceOfSatisfying(PackageArchive.LimitExceeded.class,
                        e -> assertThat(e.limit()).isEqualTo(PackageArchive.Limit.TOTAL_BYTES))
                .hasMessageStartingWith("the archive unpacks to more than 5000 bytes");
        assertThatThrownBy(() -> PackageArchive.check(file(zipOf("a", "1", "b", "2")), "the archive", new PackageArchive.Limits(1, 10, 10)))
                .isInstanceOfSatisfying(PackageArchive.LimitExceeded.class,
                        e -> assertThat(e.limit()).isEqualTo(PackageArchive.Limit.ENTRIES));
        assertThatThrownBy(() -> PackageArchive.check(file(zipOf("../x", "1")), "the archive", PackageArchive.Limits.defaults()))
                .hasMessage("the archive entry '../x' contains a '..' segment; refused as unsafe (entries must be relative"
                        + " paths with '/' separators inside the archive root)");
        // A deflate stream cut short by its record's compressed size.
        byte[] cut = zipOf("a", "some text that deflates ".repeat(100));
        int cd = signature(cut, 1);
        cut[cd + 20] = 2;
        cut[cd + 21] = 0;
        cut[cd + 22] = 0;
        cut[cd + 23] = 0;
        assertThatThrownBy(() -> PackageArchive.check(file(cut), "the archive", PackageArchive.Limits.defaults()))
                .isInstanceOf(MlPackageException.class)
                .hasMessage("cannot read the archive: Unexpected end of ZLIB input stream");
    }

    @Test
    void zip64EndRecordsAndOffsetsAreRead() throws Exception {
        // Over 65535 entries: ZipOutputStream writes zip64 end records.
        ByteArrayOutputStream many = new ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(many)) {
            for (int i = 0; i < 65_540; i++) {
                z.putNextEntry(new ZipEntry("e" + i));
                z.closeEntry();
            }
        }
        assertThat(PackageArchive.check(file(many.toByteArray()), "the archive", new PackageArchive.Limits(70_000, 10, 10)))
                .hasSize(65_540);

        // A local header offset in a zip64 extra field (as for entries past 4 GiB): rebuild a one-entry zip with it.
        byte[] z = zipOf("a", "0123456789");
        int cd = signature(z, 1);
        int eocd = signature(z, 5);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(z.length + 12).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(z, 0, cd + 46 + 1); // everything before the central directory, its one header and name "a"
        b.putShort(cd + 30, (short) 12).putInt(cd + 42, -1);
        b.putShort((short) 1).putShort((short) 8).putLong(0); // zip64 extra: the local header is at 0
        b.put(z, eocd, z.length - eocd);
        b.putInt(eocd + 12 + 12, eocd - cd + 12); // the end record's central directory size
        Path zip64 = file(b.array());
        assertThat(PackageArchive.check(zip64, "the archive", PackageArchive.Limits.defaults())).containsExactly("a");
        assertThat(PackageArchive.unzip(zip64, tmp.resolve("z64"), PackageArchive.Limits.defaults())).hasSize(1);
        assertThat(Files.readString(tmp.resolve("z64/a"))).isEqualTo("0123456789");
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
