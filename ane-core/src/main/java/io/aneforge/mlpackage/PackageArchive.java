package io.aneforge.mlpackage;

import io.aneforge.io.IoProblems;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Deterministic zip of a package directory (entries sorted by path, fixed timestamps,
 * no directory entries, a fixed compression method per entry, so the same package gives
 * the same bytes and sha256) and a safe unzip for archives from elsewhere (no absolute
 * paths, no {@code ..}, no duplicates, nor two names that differ only in case (one file on macOS), no file
 * whose name another entry needs as a directory ({@code a} and {@code a/x} or {@code A/x}), no symbolic
 * links, bounded entry count and sizes: refused from the central directory's declared sizes before anything is
 * written, and counted while extracting, since headers can lie). The disk an archive may take is bounded by
 * those {@link Limits}. On top of them, a {@code model.mlmodel} or {@code Manifest.json} entry (in any case, as a
 * case-insensitive file system would open it) is held to the package reader's own bound for it
 * ({@link MlPackage#MAX_MODEL_BYTES}, {@link MlPackage#MAX_MANIFEST_BYTES}), with the reader's words, so
 * a package the reader would refuse is refused while it is unpacked; for the same reason a package manifest naming
 * its root model at another path than {@code Data/com.apple.CoreML/model.mlmodel}, which the reader refuses, is
 * refused before anything is unpacked. Every unzip of a package (the
 * reference runtime's load of a zip, the device agent's artifact cache, {@code aneforge pull}, the
 * registry's upload check and cost estimate) goes through here.
 */
public final class PackageArchive {
    /** DOS epoch: the earliest time a zip entry can carry; written in local-time form so no time zone leaks in. */
    static final LocalDateTime FIXED_TIME = LocalDateTime.of(1980, 1, 1, 0, 0);
    /** Finder's resource-fork metadata, added by "Compress" on macOS; never part of a package. */
    public static final String MACOS_METADATA_DIR = "__MACOSX/";

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
        List<Path> files;
        try (Stream<Path> s = Files.walk(packageDir)) {
            files = s.filter(Files::isRegularFile).toList();
        } catch (IOException e) {
            throw new MlPackageException("cannot list package " + packageDir + ": " + IoProblems.describe(e, packageDir), e);
        }
        List<Entry> entries = new ArrayList<>();
        try {
            for (Path f : files) {
                String name = entryPath(packageDir, f);
                // A STORED entry's header carries the CRC, so weight files are read once for it and once for the data.
                entries.add(new Entry(name, Files.size(f), isWeightFile("/" + name) ? crc32(f) : -1, out2 -> copy(f, out2)));
            }
        } catch (IOException e) {
            throw new MlPackageException("cannot read package " + packageDir + ": " + IoProblems.describe(e, packageDir), e);
        }
        zip(packageDir.getFileName().toString(), entries, out);
    }

    /**
     * One file of a package to zip: its path relative to the package directory ('/' separators), its
     * size, its CRC-32 (-1 when not known; weight files are stored, so theirs must be known before
     * their data goes out) and what writes its bytes.
     */
    record Entry(String path, long size, long crc32, Content content) {
        /** A file of {@code packageDir} whose bytes are in memory (deflated, so its CRC-32 is the zip stream's). */
        static Entry of(Path packageDir, Path file, byte[] bytes) {
            return new Entry(entryPath(packageDir, file), bytes.length, -1, out -> writeInPieces(bytes, out));
        }
    }

    /** {@code file}'s path relative to {@code packageDir}, with '/' separators: its entry name below the root. */
    static String entryPath(Path packageDir, Path file) {
        return packageDir.relativize(file).toString().replace('\\', '/');
    }

    /**
     * Writes one entry's bytes, in pieces of at most {@link #PIECE} whatever their source, so a file on disk and
     * the same bytes from memory reach the deflater in the same calls.
     */
    interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Zips {@code entries} as the files of a package directory named {@code root}: the one place that
     * decides names, order, times and methods, for directories on disk and packages just written from
     * memory ({@link MlPackage#write(io.aneforge.mil.Program, Path, OutputStream)}) alike.
     */
    static void zip(String root, List<Entry> entries, OutputStream out) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing(e -> root + "/" + e.path()));
        try {
            ZipOutputStream zip = new ZipOutputStream(out);
            zip.setLevel(6);
            for (Entry entry : sorted) {
                String name = root + "/" + entry.path();
                ZipEntry e = new ZipEntry(name);
                e.setTimeLocal(FIXED_TIME);
                if (isWeightFile(name)) {
                    // A STORED entry needs its size and CRC in the local header, before the data; the zip
                    // stream recomputes the CRC of the bytes it copies and fails the entry if they differ.
                    e.setMethod(ZipEntry.STORED);
                    e.setSize(entry.size());
                    e.setCompressedSize(entry.size());
                    e.setCrc(entry.crc32());
                }
                zip.putNextEntry(e);
                entry.content().writeTo(zip);
                zip.closeEntry();
            }
            zip.finish();
            zip.flush();
        } catch (IOException e) {
            throw new MlPackageException("cannot zip package " + root + ": " + IoProblems.describe(e), e);
        }
    }

    /** Weight files sit in the package's {@code weights} directory ({@code Data/com.apple.CoreML/weights/weight.bin}). */
    static boolean isWeightFile(String entryName) {
        return entryName.contains("/" + Manifest.WEIGHTS_NAME + "/");
    }

    /** Pieces handed to the zip stream: large enough that buffered streams below pass them straight through. */
    private static final int PIECE = 1 << 20;

    /** Copies in {@link #PIECE}s (not {@code Files.copy}'s 8 KiB) so buffered streams below pass them straight through. */
    private static void copy(Path file, OutputStream out) throws IOException {
        byte[] buf = new byte[(int) Math.min(PIECE, Math.max(1, Files.size(file)))];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.readNBytes(buf, 0, buf.length)) > 0; ) {
                out.write(buf, 0, n);
            }
        }
    }

    private static void writeInPieces(byte[] bytes, OutputStream out) throws IOException {
        for (int off = 0; off < bytes.length; off += PIECE) {
            out.write(bytes, off, Math.min(PIECE, bytes.length - off));
        }
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

    /** Which of the {@link Limits} an archive is over. */
    public enum Limit { ENTRIES, ENTRY_BYTES, TOTAL_BYTES }

    /** An archive over one of the {@link Limits}: {@link #limit()} lets a caller name the setting that raises it. */
    public static final class LimitExceeded extends MlPackageException {
        private final Limit limit;

        LimitExceeded(Limit limit, String message) {
            super(message);
            this.limit = limit;
        }

        public Limit limit() {
            return limit;
        }
    }

    /**
     * Extracts the zip file {@code zip} into {@code destination} (created if needed) and returns the
     * extracted files. Made for archives we did not make, so it refuses, before writing anything where
     * it can: a malformed layout, symbolic-link entries and local headers that disagree with the central
     * directory (see {@link ZipCentralDirectory}), more entries than the limit, unsafe names
     * ({@link #checkName}), duplicate names (also those differing only in case), a file entry whose name is also
     * a directory of another entry ({@code a} and {@code a/x}, or {@code A/x}), and entries or totals whose declared sizes are over the limits (or
     * over the reader's bound for a model.mlmodel or manifest: a {@link MlPackageException.Kind#CONTENT} failure,
     * not a {@link LimitExceeded}, since no setting raises it); and while extracting: paths that resolve outside
     * {@code destination}, files that already exist, the same size bounds counted as bytes are written (declared
     * sizes can lie), and entries whose bytes do not match the size and CRC-32 the central directory records.
     * Finder's {@code __MACOSX/} metadata is not written. Entries are read through the central directory, the same list the checks read, so local headers cannot smuggle in anything they did not see.
     */
    public static List<Path> unzip(Path zip, Path destination, Limits limits) {
        String archive = "archive " + zip.getFileName();
        List<Path> written = new ArrayList<>();
        try {
            ZipCentralDirectory.check(zip, archive, limits.maxEntries());
            Path dest;
            try {
                dest = Files.createDirectories(destination).toRealPath();
            } catch (IOException e) {
                throw MlPackageException.localIo("cannot unzip " + archive + " into " + destination + ": "
                        + IoProblems.describe(e, destination), e);
            }
            byte[] buf = new byte[1 << 16];
            readEntries(zip, archive, limits, (e, data) -> {
                String name = e.getName();
                if (name.startsWith(MACOS_METADATA_DIR)) {
                    return;
                }
                Path target = dest.resolve(name).normalize();
                if (!target.startsWith(dest)) {
                    throw new MlPackageException(archive + " entry '" + name + "' resolves outside " + dest + "; refused");
                }
                // Reading the entry fails on the archive's bytes; writing it fails on this machine's disk.
                try {
                    if (e.isDirectory()) {
                        Files.createDirectories(target);
                        return;
                    }
                    Files.createDirectories(target.getParent());
                } catch (IOException io) {
                    throw MlPackageException.localIo("cannot unzip " + archive + " into " + destination + ": "
                            + IoProblems.describe(io, target), io);
                }
                // CREATE_NEW: never write through a file or link that is already there.
                OutputStream out;
                try {
                    out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW);
                } catch (java.nio.file.FileAlreadyExistsException io) {
                    throw io; // a duplicate or colliding entry name: the archive's fault
                } catch (IOException io) {
                    throw MlPackageException.localIo("cannot unzip " + archive + " into " + destination + ": "
                            + IoProblems.describe(io, target), io);
                }
                try (out) {
                    for (int n; (n = data.read(buf)) > 0; ) {
                        try {
                            out.write(buf, 0, n);
                        } catch (IOException io) {
                            throw MlPackageException.localIo("cannot unzip " + archive + " into " + destination + ": "
                                    + IoProblems.describe(io, target), io);
                        }
                    }
                }
                written.add(target);
            });
            return written;
        } catch (ZipException e) {
            throw new MlPackageException(archive + " is not a valid zip: " + describe(e), e);
        } catch (IOException e) {
            throw new MlPackageException("cannot unzip " + archive + " into " + destination + ": " + IoProblems.describe(e), e);
        }
    }

    /**
     * Applies every check of {@link #unzip(Path, Path, Limits)} to the zip file {@code zip} without writing
     * anything (each entry is inflated to count and verify its bytes) and returns the entry names in
     * central-directory order, {@code __MACOSX/} ones included. {@code archive} names the file in messages
     * ("archive x.zip", "the archive").
     */
    public static List<String> check(Path zip, String archive, Limits limits) {
        List<String> names = new ArrayList<>();
        try {
            ZipCentralDirectory.check(zip, archive, limits.maxEntries());
            readEntries(zip, archive, limits, (e, data) -> names.add(e.getName()));
            return names;
        } catch (ZipException e) {
            throw new MlPackageException(archive + " is not a valid zip: " + describe(e), e);
        } catch (IOException e) {
            // The file is local: a read failure is almost always a broken entry (a deflate stream cut short).
            throw new MlPackageException("cannot read " + archive + ": " + describe(e), e);
        }
    }

    /** Receives one entry of {@link #readEntries} and as much of its inflated bytes as it wants. */
    private interface EntryVisitor {
        void visit(ZipEntry entry, InputStream data) throws IOException;
    }

    /**
     * Reads the entries of {@code zip} through {@link ZipFile} (the central directory) and hands each to
     * {@code visitor}. First, before any entry is inflated: more than the limit, unsafe names, duplicates, a file
     * where another entry needs a directory, and
     * sizes the central directory declares over a limit are refused, so an archive that says it holds a 4 GiB
     * model.mlmodel writes nothing. Then, while inflating, the bytes are counted against the same limits (declared
     * sizes can lie) and verified; what the visitor leaves unread is read here, so every entry is checked.
     */
    private static void readEntries(Path zip, String archive, Limits limits, EntryVisitor visitor) throws IOException {
        try (ZipFile zf = new ZipFile(zip.toFile())) {
            List<ZipEntry> entries = checkEntries(zf, archive, limits);
            checkRootModels(zf, entries, archive, limits);
            long total = 0;
            for (ZipEntry e : entries) {
                try (EntryData data = new EntryData(zf.getInputStream(e), archive, e.getName(), limits, total)) {
                    visitor.visit(e, data);
                    data.transferTo(OutputStream.nullOutputStream());
                    data.verify(e);
                    total = data.total;
                }
            }
        }
    }

    /** The checks of {@link #readEntries} that need only the central directory: count, names, declared sizes. */
    private static List<ZipEntry> checkEntries(ZipFile zf, String archive, Limits limits) {
        List<ZipEntry> entries = new ArrayList<>();
        // Names as a case-insensitive file system sees them (macOS): two entries that are one file there are refused.
        Map<String, String> seen = new HashMap<>();
        long declaredTotal = 0;
        Enumeration<? extends ZipEntry> all = zf.entries();
        while (all.hasMoreElements()) {
            ZipEntry e = all.nextElement();
            String name = e.getName();
            if (seen.size() >= limits.maxEntries()) {
                throw new LimitExceeded(Limit.ENTRIES, archive + " has more than " + limits.maxEntries()
                        + " entries; refused as unsafe");
            }
            checkName(archive, name);
            String earlier = seen.putIfAbsent(MlPackage.caseFolded(name), name);
            if (earlier != null && earlier.equals(name)) {
                throw new MlPackageException(archive + " has entry '" + name
                        + "' twice; refused because the two copies could differ");
            }
            if (earlier != null) {
                throw new MlPackageException(archive + " has entries '" + earlier + "' and '" + name + "', whose names"
                        + " differ only in case: on a case-insensitive file system (macOS's default) they are one file;"
                        + " refused because the two could differ");
            }
            long declared = e.getSize(); // -1 where the central directory does not say
            if (declared > 0) {
                String file = fileName(name);
                long readLimit = MlPackage.readLimit(file);
                if (readLimit >= 0 && declared > readLimit) {
                    throw new MlPackageException(archive + " entry '" + name + "' is " + declared + " bytes, more than "
                            + MlPackage.overLimit(file));
                }
                if (declared > limits.maxEntryBytes()) {
                    throw entryOverLimit(archive, name, limits);
                }
                declaredTotal += declared;
                if (declaredTotal > limits.maxTotalBytes()) {
                    throw totalOverLimit(archive, limits);
                }
            }
            entries.add(e);
        }
        checkFilesAreNotDirectories(entries, archive);
        return entries;
    }

    /**
     * A file entry ({@code a}) and an entry below a directory of the same name, or of a name differing only in case
     * ({@code a/x}, {@code A/x}, {@code a/}) cannot both be unpacked: whichever comes second fails halfway through
     * the unzip, and as a local write error rather than as the archive's fault. Refused before anything is written.
     * Names are compared as a case-insensitive file system sees them, like duplicates; Finder's {@code __MACOSX/}
     * entries, which are not unpacked, are left out.
     */
    private static void checkFilesAreNotDirectories(List<ZipEntry> entries, String archive) {
        Map<String, String> files = new HashMap<>();
        for (ZipEntry e : entries) {
            if (!e.getName().endsWith("/") && !e.getName().startsWith(MACOS_METADATA_DIR)) {
                files.put(MlPackage.caseFolded(e.getName()), e.getName());
            }
        }
        for (ZipEntry e : entries) {
            String name = e.getName();
            if (name.startsWith(MACOS_METADATA_DIR)) {
                continue;
            }
            for (int slash = name.indexOf('/'); slash > 0; slash = name.indexOf('/', slash + 1)) {
                String file = files.get(MlPackage.caseFolded(name.substring(0, slash)));
                if (file != null) {
                    throw new MlPackageException(archive + " has file entry '" + file + "' and entry '" + name
                            + "', which needs a directory of that name" + (file.equals(name.substring(0, slash)) ? ""
                            : " (the names differ only in case: on a case-insensitive file system, macOS's default,"
                            + " they are one)") + "; refused before anything was unpacked, because the two cannot"
                            + " both be unpacked");
                }
            }
        }
    }

    /**
     * Before any entry is inflated for the visitor: a package manifest ({@code Manifest.json} at the top of the
     * archive or one directory down, where package roots are) that names its root model at another path than
     * {@link Manifest#ROOT_MODEL_PATH} is refused, as the reader would refuse it (the same reading of the manifest,
     * {@link Manifest#rootModelPath}), but before its model file, which no bound by name covers, is unpacked. This
     * keeps the unzip and the reader in step; it does not bound the disk: a file the manifest does not name at all
     * unpacks within the unzip {@link Limits}, which are that bound. The manifest is read here with the same bounds
     * as when it is unpacked (the reader's 1 MiB, the unzip limits, its size and CRC-32); one that names no root
     * model at all is left to the reader, which refuses it in its own words.
     */
    private static void checkRootModels(ZipFile zf, List<ZipEntry> entries, String archive, Limits limits)
            throws IOException {
        for (ZipEntry e : entries) {
            if (!isPackageManifest(e.getName())) {
                continue;
            }
            byte[] json;
            try (EntryData data = new EntryData(zf.getInputStream(e), archive, e.getName(), limits, 0)) {
                json = data.readAllBytes();
                data.verify(e);
            }
            Optional<String> root = Manifest.rootModelPath(json);
            if (root.isPresent() && !root.get().equals(Manifest.ROOT_MODEL_PATH)) {
                throw new MlPackageException(archive + " entry '" + e.getName() + "' " + MlPackage.wrongRootModel(root.get())
                        + "; refused before anything was unpacked");
            }
        }
    }

    /**
     * {@code Manifest.json} or {@code <dir>/Manifest.json}: a manifest where the package readers look for one (in any
     * case: {@code manifest.json} is the one they read on a case-insensitive file system).
     */
    private static boolean isPackageManifest(String name) {
        int slash = name.indexOf('/');
        String manifest = MlPackage.caseFolded(MlPackage.MANIFEST);
        return MlPackage.caseFolded(name).equals(manifest) || (slash > 0 && !name.startsWith(MACOS_METADATA_DIR)
                && MlPackage.caseFolded(name.substring(slash + 1)).equals(manifest));
    }

    /** The last segment of an entry's name: what the package reader knows a file by ("" for a directory entry). */
    private static String fileName(String entryName) {
        return entryName.substring(entryName.lastIndexOf('/') + 1);
    }

    private static LimitExceeded entryOverLimit(String archive, String name, Limits limits) {
        return new LimitExceeded(Limit.ENTRY_BYTES, archive + " entry '" + name + "' unpacks to more than "
                + limits.maxEntryBytes() + " bytes; refused");
    }

    private static LimitExceeded totalOverLimit(String archive, Limits limits) {
        return new LimitExceeded(Limit.TOTAL_BYTES, archive + " unpacks to more than " + limits.maxTotalBytes()
                + " bytes; refused (raise the unzip limit if the model is really that large)");
    }

    /**
     * One entry's inflated bytes, counted against the limits as they are read (a zip bomb's headers may say
     * anything) and checked at the end against the size and CRC-32 of its central-directory record.
     */
    private static final class EntryData extends FilterInputStream {
        private final String archive;
        private final String name;
        private final Limits limits;
        /** The package reader's own bound for this file ({@link MlPackage#readLimit}), -1 for none. */
        private final long readLimit;
        private final CRC32 crc = new CRC32();
        private long bytes;
        long total;

        EntryData(InputStream in, String archive, String name, Limits limits, long totalBefore) {
            super(in);
            this.archive = archive;
            this.name = name;
            this.limits = limits;
            this.readLimit = MlPackage.readLimit(fileName(name));
            this.total = totalBefore;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                bytes += n;
                total += n;
                if (readLimit >= 0 && bytes > readLimit) {
                    // a content verdict, not a limit a setting raises: the reader would refuse the file at any size above
                    throw new MlPackageException(archive + " entry '" + name + "' unpacks to more than "
                            + MlPackage.overLimit(fileName(name)));
                }
                if (bytes > limits.maxEntryBytes()) {
                    throw entryOverLimit(archive, name, limits);
                }
                if (total > limits.maxTotalBytes()) {
                    throw totalOverLimit(archive, limits);
                }
                crc.update(b, off, n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // Skipped bytes are read all the same, so they are counted and checksummed.
            byte[] buf = new byte[(int) Math.min(Math.max(n, 0), 8192)];
            int r = buf.length == 0 ? -1 : read(buf, 0, buf.length);
            return Math.max(r, 0);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        void verify(ZipEntry e) {
            if ((e.getSize() >= 0 && bytes != e.getSize()) || (e.getCrc() >= 0 && crc.getValue() != e.getCrc())) {
                throw new MlPackageException(archive + " entry '" + name + "' unpacks to " + bytes + " bytes with CRC-32 "
                        + Long.toHexString(crc.getValue()) + " but the central directory records " + e.getSize()
                        + " bytes with CRC-32 " + Long.toHexString(e.getCrc()) + "; refused as corrupt");
            }
        }
    }

    /** An exception's message, or its type when it has none (an EOFException's usually has none). */
    static String describe(Exception e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /**
     * {@link #unzip(Path, Path, Limits)} for an archive that arrives as a stream: the checks need the
     * central directory at the end of the archive, so the stream is first copied to a temporary file
     * (deleted afterwards). The copy stops at what a zip within the limits can measure: the data
     * (deflate grows incompressible data by well under 1/64) plus 128 MiB of headers.
     */
    public static List<Path> unzip(InputStream in, Path destination, Limits limits) {
        long maxArchiveBytes = limits.maxTotalBytes() + limits.maxTotalBytes() / 64 + (128L << 20);
        Path spool = null;
        try {
            spool = Files.createTempFile("aneforge-unzip-", ".zip");
            long n = 0;
            byte[] buf = new byte[1 << 16];
            try (OutputStream out = Files.newOutputStream(spool)) {
                for (int r; (r = in.read(buf)) > 0; ) {
                    n += r;
                    if (n > maxArchiveBytes) {
                        throw new MlPackageException("archive is longer than " + maxArchiveBytes + " bytes, more than a zip"
                                + " within the unzip limit of " + limits.maxTotalBytes() + " bytes can be; refused");
                    }
                    out.write(buf, 0, r);
                }
            }
            return unzip(spool, destination, limits);
        } catch (IOException e) {
            throw MlPackageException.localIo("cannot unzip into " + destination + ": " + IoProblems.describe(e, destination), e);
        } finally {
            if (spool != null) {
                try {
                    Files.deleteIfExists(spool);
                } catch (IOException ignored) {
                    // a leftover temporary file is not worth failing the unzip for
                }
            }
        }
    }

    /** Refuses entry names that are not plain relative paths with '/' separators inside the archive root. */
    static void checkName(String archive, String name) {
        String why = null;
        if (name.isEmpty()) {
            why = "is empty";
        } else if (name.indexOf('\0') >= 0) {
            why = "contains a NUL byte";
        } else if (name.startsWith("/")) {
            why = "is an absolute path";
        } else if (name.indexOf('\\') >= 0) {
            why = "contains a backslash";
        } else if (name.length() >= 2 && name.charAt(1) == ':') {
            why = "starts with a drive letter";
        } else {
            for (String segment : name.split("/")) {
                if (segment.equals("..")) {
                    why = "contains a '..' segment";
                    break;
                }
            }
        }
        if (why != null) {
            throw new MlPackageException(archive + " entry '" + name.replace("\0", "\\0") + "' " + why
                    + "; refused as unsafe (entries must be relative paths with '/' separators inside the archive root)");
        }
    }
}
