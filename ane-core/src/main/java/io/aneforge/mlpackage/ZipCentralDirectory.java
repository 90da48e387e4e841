package io.aneforge.mlpackage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads a zip's central directory ourselves, because {@link java.util.zip.ZipFile} exposes neither the
 * entry count before iterating, nor the Unix mode, nor an entry's local header. Refuses what would make
 * readers disagree about what the archive holds: no end record (a truncated file, or not a zip), a central
 * directory that does not end where the end record is (bytes prepended or inserted: unzip and ZipFile
 * then shift every offset, this reader would not), bytes after the end record, symbolic links, and local
 * headers that name another file than the central directory (a reader walking local headers, such as
 * {@code ZipInputStream}, would see other names than unzip, Python and ZipFile, which list the central
 * directory). Handles zip64 end records and offsets; a central directory over 64 MiB is refused as broken.
 */
final class ZipCentralDirectory {

    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CDH_SIG = 0x02014b50;
    private static final int LOC_SIG = 0x04034b50;
    private static final int LOC_HEADER = 30;
    private static final int ZIP64_EXTRA = 0x0001;
    private static final long U32_MAX = 0xFFFFFFFFL;
    private static final int S_IFMT = 0xF000;
    private static final int S_IFLNK = 0xA000;
    private static final long MAX_CENTRAL_DIRECTORY_BYTES = 64L << 20;

    private ZipCentralDirectory() {
    }

    /**
     * Checks the structure of {@code zip} (above); refuses an archive with more than {@code maxEntries} entries
     * before reading them. {@code archive} names the file in messages ("archive x.zip").
     */
    static void check(Path zip, String archive, int maxEntries) throws IOException {
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
                throw broken(archive, "no end-of-central-directory record (the file is truncated, or not a zip)");
            }
            long eocdAt = size - tailLen + eocd;
            int commentLen = Short.toUnsignedInt(tail.getShort(eocd + 20));
            if (eocdAt + 22 + commentLen != size) {
                throw broken(archive, "the end-of-central-directory record at " + eocdAt + " and its " + commentLen
                        + "-byte comment do not end the " + size + "-byte file");
            }
            long entries = Short.toUnsignedInt(tail.getShort(eocd + 10));
            long cdSize = Integer.toUnsignedLong(tail.getInt(eocd + 12));
            long cdOffset = Integer.toUnsignedLong(tail.getInt(eocd + 16));
            long cdEnd = eocdAt;
            if ((cdOffset == U32_MAX || entries == 0xFFFF || cdSize == U32_MAX) && eocd >= 20
                    && tail.getInt(eocd - 20) == ZIP64_LOCATOR_SIG) {
                long zip64Eocd = tail.getLong(eocd - 20 + 8);
                if (zip64Eocd < 0 || zip64Eocd + 56 > eocdAt - 20) {
                    throw broken(archive, "zip64 end record outside the file");
                }
                ByteBuffer z = read(ch, zip64Eocd, 56);
                if (z.getInt(0) != ZIP64_EOCD_SIG) {
                    throw broken(archive, "broken zip64 end-of-central-directory record");
                }
                entries = z.getLong(32);
                cdSize = z.getLong(40);
                cdOffset = z.getLong(48);
                cdEnd = zip64Eocd;
            }
            if (cdSize < 0 || cdOffset < 0 || cdSize > MAX_CENTRAL_DIRECTORY_BYTES || cdOffset + cdSize != cdEnd) {
                throw broken(archive, "central directory of " + cdSize + " bytes at " + cdOffset
                        + " does not end at the end record (" + cdEnd + "): bytes were added to or cut from the archive");
            }
            if (entries < 0 || entries > maxEntries) {
                throw new PackageArchive.LimitExceeded(PackageArchive.Limit.ENTRIES, archive + " has "
                        + Long.toUnsignedString(entries) + " entries, more than the limit of " + maxEntries + "; refused as unsafe");
            }
            ByteBuffer cd = read(ch, cdOffset, (int) cdSize);
            int p = 0;
            for (long i = 0; i < entries; i++) {
                if (p + 46 > cd.limit() || cd.getInt(p) != CDH_SIG) {
                    throw broken(archive, "central directory entry " + i + " is broken");
                }
                int nameLen = Short.toUnsignedInt(cd.getShort(p + 28));
                int extraLen = Short.toUnsignedInt(cd.getShort(p + 30));
                int entryCommentLen = Short.toUnsignedInt(cd.getShort(p + 32));
                int mode = cd.getInt(p + 38) >>> 16;
                if (p + 46 + nameLen + extraLen + entryCommentLen > cd.limit()) {
                    throw broken(archive, "central directory entry " + i + " is truncated");
                }
                byte[] nameBytes = new byte[nameLen];
                cd.get(p + 46, nameBytes);
                String name = new String(nameBytes, StandardCharsets.UTF_8);
                // Whatever host the entry claims: Info-ZIP's unzip makes links for entries from Unix, VMS, Atari,
                // BeOS and AtheOS hosts, other readers decide differently, and no package needs a link.
                if ((mode & S_IFMT) == S_IFLNK) {
                    throw new MlPackageException(archive + " contains symbolic link entry '" + name
                            + "': links are refused; archive the package with real files");
                }
                long localAt = localHeaderOffset(cd, p, archive, name);
                if (localAt + LOC_HEADER + nameLen > cdOffset) {
                    throw broken(archive, "entry '" + name + "' has its local header at " + localAt
                            + ", past the start of the central directory (" + cdOffset + ")");
                }
                ByteBuffer local = read(ch, localAt, LOC_HEADER + nameLen);
                if (local.getInt(0) != LOC_SIG) {
                    throw broken(archive, "entry '" + name + "' has no local header at " + localAt);
                }
                int localNameLen = Short.toUnsignedInt(local.getShort(26));
                byte[] localName = new byte[Math.min(localNameLen, nameLen)];
                local.get(LOC_HEADER, localName);
                if (localNameLen != nameLen || !Arrays.equals(localName, nameBytes)) {
                    throw new MlPackageException(archive + " entry '" + name + "': its local header names '"
                            + new String(localName, StandardCharsets.UTF_8) + (localNameLen > nameLen ? "…" : "")
                            + "' instead; refused because readers would disagree about what the archive holds"
                            + " (re-create it with a standard zip tool)");
                }
                p += 46 + nameLen + extraLen + entryCommentLen;
            }
            if (p != cd.limit()) {
                // ZipFile lists every entry the central directory holds, whatever the end record counts.
                throw broken(archive, "the central directory has " + (cd.limit() - p) + " bytes after the " + entries
                        + " entries its end record counts");
            }
        }
    }

    /** The local header offset of the central-directory entry at {@code p}: its own field, or the zip64 extra field's. */
    private static long localHeaderOffset(ByteBuffer cd, int p, String archive, String name) {
        long offset = Integer.toUnsignedLong(cd.getInt(p + 42));
        if (offset != U32_MAX) {
            return offset;
        }
        int nameLen = Short.toUnsignedInt(cd.getShort(p + 28));
        int extraEnd = p + 46 + nameLen + Short.toUnsignedInt(cd.getShort(p + 30));
        for (int x = p + 46 + nameLen; x + 4 <= extraEnd; ) {
            int id = Short.toUnsignedInt(cd.getShort(x));
            int len = Short.toUnsignedInt(cd.getShort(x + 2));
            if (id == ZIP64_EXTRA) {
                // The zip64 field holds, in this order, only the values whose 32-bit fields are all ones.
                int at = x + 4;
                if (Integer.toUnsignedLong(cd.getInt(p + 24)) == U32_MAX) at += 8;
                if (Integer.toUnsignedLong(cd.getInt(p + 20)) == U32_MAX) at += 8;
                if (at + 8 <= Math.min(x + 4 + len, extraEnd)) {
                    long zip64 = cd.getLong(at);
                    if (zip64 >= 0) return zip64;
                }
                break;
            }
            x += 4 + len;
        }
        throw broken(archive, "entry '" + name + "' has no valid zip64 local header offset");
    }

    private static MlPackageException broken(String archive, String why) {
        return new MlPackageException(archive + " is not a valid zip: " + why);
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
