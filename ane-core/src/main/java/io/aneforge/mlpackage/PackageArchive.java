package io.aneforge.mlpackage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Deterministic zip of a package directory (entries sorted by path, fixed timestamps,
 * no directory entries, a fixed compression method per entry, so the same package gives
 * the same bytes and sha256) and a
 * safe unzip (no absolute paths, no {@code ..}, no duplicates, bounded sizes counted
 * while extracting rather than trusted from headers).
 */
public final class PackageArchive {
    /** DOS epoch: the earliest time a zip entry can carry; written in local-time form so no time zone leaks in. */
    static final LocalDateTime FIXED_TIME = LocalDateTime.of(1980, 1, 1, 0, 0);

    private PackageArchive() {
    }

    /** Bounds for {@link #unzip}: entry count, bytes per entry, total bytes. */
    public record Limits(int maxEntries, long maxEntryBytes, long maxTotalBytes) {
        public Limits {
            if (maxEntries <= 0 || maxEntryBytes <= 0 || maxTotalBytes <= 0) {
                throw new IllegalArgumentException("limits must be positive");
            }
        }

        /** 64 entries, 4 GiB per entry and in total: enough for any model this project converts. */
        public static Limits defaults() {
            return new Limits(64, 4L << 30, 4L << 30);
        }
    }

    /**
     * Zips {@code packageDir} with entries named {@code <dirName>/<relative path>} using '/'
     * separators, sorted lexicographically. Weight files ({@code .../weights/*}) are STORED,
     * everything else deflated (level 6). FP16 and INT8 weights are close to incompressible
     * (all-MiniLM-L6-v2: deflate saves 7.6 % of the fp16 weight.bin and 4.5 % of the
     * int8-block32 one) while deflating them took about half of a conversion's time
     * (25 MB/s at level 6, 70-90 MB/s Huffman-only, on this project's build machine);
     * stored, they cost a CRC-32. {@code model.mlmodel} and the manifest deflate by 90 %.
     */
    public static void zip(Path packageDir, OutputStream out) {
        String root = packageDir.getFileName().toString();
        List<Path> files;
        try (Stream<Path> s = Files.walk(packageDir)) {
            files = new ArrayList<>(s.filter(Files::isRegularFile).toList());
        } catch (IOException e) {
            throw new MlPackageException("cannot list package " + packageDir + ": " + e.getMessage(), e);
        }
        List<String> names = new ArrayList<>();
        for (Path f : files) {
            names.add(root + "/" + packageDir.relativize(f).toString().replace('\\', '/'));
        }
        names.sort(String::compareTo);
        try {
            ZipOutputStream zip = new ZipOutputStream(out);
            zip.setLevel(6);
            for (String name : names) {
                Path file = packageDir.resolve(name.substring(root.length() + 1));
                ZipEntry e = new ZipEntry(name);
                e.setTimeLocal(FIXED_TIME);
                if (isWeightFile(name)) {
                    // A STORED entry needs its size and CRC in the local header, before the data.
                    e.setMethod(ZipEntry.STORED);
                    long size = Files.size(file);
                    e.setSize(size);
                    e.setCompressedSize(size);
                    e.setCrc(crc32(file));
                }
                zip.putNextEntry(e);
                Files.copy(file, zip);
                zip.closeEntry();
            }
            zip.finish();
            zip.flush();
        } catch (IOException e) {
            throw new MlPackageException("cannot zip package " + packageDir + ": " + e.getMessage(), e);
        }
    }

    /** Weight files sit in the package's {@code weights} directory ({@code Data/com.apple.CoreML/weights/weight.bin}). */
    static boolean isWeightFile(String entryName) {
        return entryName.contains("/" + Manifest.WEIGHTS_NAME + "/");
    }

    private static long crc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        }
        return crc.getValue();
    }

    /**
     * Extracts a zip into {@code destination} (created if needed), refusing entries that
     * would escape it or exceed the limits. Returns the extracted files.
     */
    public static List<Path> unzip(InputStream in, Path destination, Limits limits) {
        List<Path> written = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        long total = 0;
        try {
            Path dest = Files.createDirectories(destination).toRealPath();
            ZipInputStream zip = new ZipInputStream(in);
            byte[] buf = new byte[1 << 16];
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                String name = e.getName();
                if (seen.size() >= limits.maxEntries()) {
                    throw new MlPackageException("archive has more than " + limits.maxEntries() + " entries");
                }
                checkName(name);
                if (!seen.add(name)) {
                    throw new MlPackageException("archive entry '" + name + "' appears twice");
                }
                Path target = dest.resolve(name).normalize();
                if (!target.startsWith(dest)) {
                    throw new MlPackageException("archive entry '" + name + "' would be written outside " + dest);
                }
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                    continue;
                }
                Files.createDirectories(target.getParent());
                long entryBytes = 0;
                try (OutputStream out = Files.newOutputStream(target)) {
                    for (int n; (n = zip.read(buf)) > 0; ) {
                        entryBytes += n;
                        total += n;
                        if (entryBytes > limits.maxEntryBytes()) {
                            throw new MlPackageException("archive entry '" + name + "' is larger than the limit of " + limits.maxEntryBytes() + " bytes");
                        }
                        if (total > limits.maxTotalBytes()) {
                            throw new MlPackageException("archive expands to more than the limit of " + limits.maxTotalBytes() + " bytes");
                        }
                        out.write(buf, 0, n);
                    }
                }
                written.add(target);
            }
            return written;
        } catch (IOException e) {
            throw new MlPackageException("cannot unzip into " + destination + ": " + e.getMessage(), e);
        }
    }

    private static void checkName(String name) {
        if (name.isEmpty() || name.startsWith("/") || name.startsWith("\\") || name.contains("\\") || name.contains("\0")
                || (name.length() > 1 && name.charAt(1) == ':')) {
            throw new MlPackageException("archive entry '" + name + "' has an absolute or non-portable path; entries must be relative with '/' separators");
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw new MlPackageException("archive entry '" + name + "' contains '..'; entries must stay inside the archive root");
            }
        }
    }
}
