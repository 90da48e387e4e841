package io.aneforge.agent.cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Unpacks an archive we did not make. Refused: absolute names, drive letters, backslashes,
 * {@code ..} segments, NUL bytes, duplicate names, symbolic links, and archives over the
 * {@link UnzipLimits}. Sizes are counted as bytes are written, not trusted from headers.
 *
 * <p>{@link ZipEntry} does not expose the Unix mode, so symbolic links are found by reading
 * the central directory ourselves ({@link #symlinkNames}): an entry made on Unix (host 3) or
 * macOS (host 19) whose mode {@code external_attributes >>> 16} has type {@code S_IFLNK}.
 *
 * <p>Duplicates the safe unzip being written in {@code io.aneforge.mlpackage}; to be merged.
 */
final class SafeUnzip {

    static final String MACOS_METADATA_DIR = "__MACOSX/";

    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CDH_SIG = 0x02014b50;
    private static final int S_IFMT = 0xF000;
    private static final int S_IFLNK = 0xA000;
    private static final long MAX_CENTRAL_DIRECTORY_BYTES = 64L << 20;

    private SafeUnzip() {}

    /** Extracts {@code zip} into the empty directory {@code dest}; skips Finder's {@code __MACOSX/}. */
    static void unzip(Path zip, Path dest, UnzipLimits limits) throws IOException {
        Set<String> symlinks = symlinkNames(zip, limits);
        if (!symlinks.isEmpty()) {
            throw new ArtifactCacheException("archive " + zip.getFileName() + " contains symbolic link entry '"
                    + symlinks.iterator().next() + "': links are refused; archive the package with real files");
        }
        Path root = dest.toAbsolutePath().normalize();
        long total = 0;
        int count = 0;
        Set<String> seen = new HashSet<>();
        byte[] buf = new byte[64 * 1024];
        try (ZipFile zf = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> entries = zf.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (++count > limits.maxEntries()) {
                    throw new ArtifactCacheException("archive " + zip.getFileName() + " has more than "
                            + limits.maxEntries() + " entries; refused as unsafe");
                }
                String name = e.getName();
                checkName(zip, name);
                if (!seen.add(name)) {
                    throw new ArtifactCacheException("archive " + zip.getFileName() + " has entry '" + name
                            + "' twice; refused because the two copies could differ");
                }
                if (name.startsWith(MACOS_METADATA_DIR)) {
                    continue;
                }
                Path target = root.resolve(name).normalize();
                if (!target.startsWith(root)) {
                    throw new ArtifactCacheException("archive " + zip.getFileName() + " entry '" + name
                            + "' resolves outside the destination; refused");
                }
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                    continue;
                }
                Files.createDirectories(target.getParent());
                long written = 0;
                try (InputStream in = zf.getInputStream(e);
                        OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW)) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        written += n;
                        total += n;
                        if (written > limits.maxEntryBytes()) {
                            throw new ArtifactCacheException("archive " + zip.getFileName() + " entry '" + name
                                    + "' unpacks to more than " + limits.maxEntryBytes() + " bytes; refused");
                        }
                        if (total > limits.maxTotalBytes()) {
                            throw new ArtifactCacheException("archive " + zip.getFileName()
                                    + " unpacks to more than " + limits.maxTotalBytes()
                                    + " bytes; refused (raise the unzip limit if the model is really that large)");
                        }
                        out.write(buf, 0, n);
                    }
                }
            }
        } catch (ZipException e) {
            throw new ArtifactCacheException("archive " + zip.getFileName() + " is not a valid zip: " + e.getMessage(), e);
        }
    }

    static void checkName(Path zip, String name) {
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
            throw new ArtifactCacheException("archive " + zip.getFileName() + " entry '" + name.replace("\0", "\\0")
                    + "' " + why + "; refused as unsafe");
        }
    }

    /** Names of the central-directory entries whose Unix mode says symbolic link. */
    static Set<String> symlinkNames(Path zip, UnzipLimits limits) throws IOException {
        try (FileChannel ch = FileChannel.open(zip, StandardOpenOption.READ)) {
            long size = ch.size();
            int tailLen = (int) Math.min(size, 22 + 65535);
            ByteBuffer tail = read(ch, size - tailLen, tailLen);
            int eocd = -1;
            for (int i = tailLen - 22; i >= 0; i--) {
                if (tail.getInt(i) == EOCD_SIG) {
                    eocd = i;
                    break;
                }
            }
            if (eocd < 0) {
                throw new ArtifactCacheException("archive " + zip.getFileName()
                        + " is not a valid zip: no end-of-central-directory record");
            }
            long entries = Short.toUnsignedInt(tail.getShort(eocd + 10));
            long cdSize = Integer.toUnsignedLong(tail.getInt(eocd + 12));
            long cdOffset = Integer.toUnsignedLong(tail.getInt(eocd + 16));
            if ((cdOffset == 0xFFFFFFFFL || entries == 0xFFFF || cdSize == 0xFFFFFFFFL) && eocd >= 20
                    && tail.getInt(eocd - 20) == ZIP64_LOCATOR_SIG) {
                long zip64Eocd = tail.getLong(eocd - 20 + 8);
                ByteBuffer z = read(ch, zip64Eocd, 56);
                if (z.getInt(0) != ZIP64_EOCD_SIG) {
                    throw new ArtifactCacheException("archive " + zip.getFileName()
                            + " is not a valid zip: broken zip64 end-of-central-directory record");
                }
                entries = z.getLong(32);
                cdSize = z.getLong(40);
                cdOffset = z.getLong(48);
            }
            if (entries > limits.maxEntries()) {
                throw new ArtifactCacheException("archive " + zip.getFileName() + " has " + entries
                        + " entries, more than the limit of " + limits.maxEntries() + "; refused as unsafe");
            }
            if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES || cdOffset + cdSize > size) {
                throw new ArtifactCacheException("archive " + zip.getFileName()
                        + " is not a valid zip: central directory of " + cdSize + " bytes at " + cdOffset
                        + " does not fit a " + size + "-byte file");
            }
            ByteBuffer cd = read(ch, cdOffset, (int) cdSize);
            Set<String> links = new HashSet<>();
            int p = 0;
            for (long i = 0; i < entries; i++) {
                if (p + 46 > cd.limit() || cd.getInt(p) != CDH_SIG) {
                    throw new ArtifactCacheException("archive " + zip.getFileName()
                            + " is not a valid zip: central directory entry " + i + " is broken");
                }
                int madeByHost = Short.toUnsignedInt(cd.getShort(p + 4)) >>> 8;
                int nameLen = Short.toUnsignedInt(cd.getShort(p + 28));
                int extraLen = Short.toUnsignedInt(cd.getShort(p + 30));
                int commentLen = Short.toUnsignedInt(cd.getShort(p + 32));
                int mode = cd.getInt(p + 38) >>> 16;
                if (p + 46 + nameLen > cd.limit()) {
                    throw new ArtifactCacheException("archive " + zip.getFileName()
                            + " is not a valid zip: central directory entry " + i + " is truncated");
                }
                byte[] nameBytes = new byte[nameLen];
                cd.get(p + 46, nameBytes);
                String name = new String(nameBytes, java.nio.charset.StandardCharsets.UTF_8);
                if ((madeByHost == 3 || madeByHost == 19) && (mode & S_IFMT) == S_IFLNK) {
                    links.add(name);
                }
                p += 46 + nameLen + extraLen + commentLen;
            }
            return links;
        }
    }

    private static ByteBuffer read(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, position + b.position()) < 0) {
                throw new IOException("unexpected end of file at " + (position + b.position()));
            }
        }
        return b.flip();
    }
}
