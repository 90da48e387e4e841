package io.aneforge.mlpackage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a zip's central directory ourselves, because {@link java.util.zip.ZipEntry} exposes neither
 * the entry count before iterating nor the Unix mode: a symbolic link is an entry made on Unix (host 3)
 * or macOS (host 19) whose mode {@code external_attributes >>> 16} has type {@code S_IFLNK}.
 * Handles zip64 end records; a central directory over 64 MiB is refused as broken.
 */
final class ZipCentralDirectory {

    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CDH_SIG = 0x02014b50;
    private static final int S_IFMT = 0xF000;
    private static final int S_IFLNK = 0xA000;
    private static final long MAX_CENTRAL_DIRECTORY_BYTES = 64L << 20;

    private ZipCentralDirectory() {
    }

    /**
     * The names of the symbolic-link entries; refuses an archive with more than {@code maxEntries} entries
     * before reading them. {@code archive} names the file in messages ("archive x.zip").
     */
    static List<String> symlinks(Path zip, String archive, int maxEntries) throws IOException {
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
                throw new MlPackageException(archive + " is not a valid zip: no end-of-central-directory record");
            }
            long entries = Short.toUnsignedInt(tail.getShort(eocd + 10));
            long cdSize = Integer.toUnsignedLong(tail.getInt(eocd + 12));
            long cdOffset = Integer.toUnsignedLong(tail.getInt(eocd + 16));
            if ((cdOffset == 0xFFFFFFFFL || entries == 0xFFFF || cdSize == 0xFFFFFFFFL) && eocd >= 20
                    && tail.getInt(eocd - 20) == ZIP64_LOCATOR_SIG) {
                long zip64Eocd = tail.getLong(eocd - 20 + 8);
                if (zip64Eocd < 0 || zip64Eocd + 56 > size) {
                    throw new MlPackageException(archive + " is not a valid zip: zip64 end record outside the file");
                }
                ByteBuffer z = read(ch, zip64Eocd, 56);
                if (z.getInt(0) != ZIP64_EOCD_SIG) {
                    throw new MlPackageException(archive + " is not a valid zip: broken zip64 end-of-central-directory record");
                }
                entries = z.getLong(32);
                cdSize = z.getLong(40);
                cdOffset = z.getLong(48);
            }
            if (cdSize < 0 || cdOffset < 0 || cdSize > MAX_CENTRAL_DIRECTORY_BYTES || cdOffset + cdSize > size) {
                throw new MlPackageException(archive + " is not a valid zip: central directory of " + cdSize
                        + " bytes at " + cdOffset + " does not fit a " + size + "-byte file");
            }
            if (entries < 0 || entries > maxEntries) {
                throw new MlPackageException(archive + " has " + Long.toUnsignedString(entries)
                        + " entries, more than the limit of " + maxEntries + "; refused as unsafe");
            }
            ByteBuffer cd = read(ch, cdOffset, (int) cdSize);
            List<String> links = new ArrayList<>();
            int p = 0;
            for (long i = 0; i < entries; i++) {
                if (p + 46 > cd.limit() || cd.getInt(p) != CDH_SIG) {
                    throw new MlPackageException(archive + " is not a valid zip: central directory entry " + i + " is broken");
                }
                int madeByHost = Short.toUnsignedInt(cd.getShort(p + 4)) >>> 8;
                int nameLen = Short.toUnsignedInt(cd.getShort(p + 28));
                int extraLen = Short.toUnsignedInt(cd.getShort(p + 30));
                int commentLen = Short.toUnsignedInt(cd.getShort(p + 32));
                int mode = cd.getInt(p + 38) >>> 16;
                if (p + 46 + nameLen > cd.limit()) {
                    throw new MlPackageException(archive + " is not a valid zip: central directory entry " + i + " is truncated");
                }
                byte[] nameBytes = new byte[nameLen];
                cd.get(p + 46, nameBytes);
                if ((madeByHost == 3 || madeByHost == 19) && (mode & S_IFMT) == S_IFLNK) {
                    links.add(new String(nameBytes, StandardCharsets.UTF_8));
                }
                p += 46 + nameLen + extraLen + commentLen;
            }
            return List.copyOf(links);
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
