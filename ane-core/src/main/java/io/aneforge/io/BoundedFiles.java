package io.aneforge.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Reads a whole file that a user or an upload names, refusing what would not fit a sane limit before
 * anything is allocated: {@code Files.readAllBytes} of {@code /dev/zero}, of a named pipe or of a
 * multi-gigabyte (sparse) file allocates until the JVM runs out of memory.
 */
public final class BoundedFiles {
    private BoundedFiles() {
    }

    /**
     * The file is not a regular file or is over the limit. The message is a complete clause
     * ({@code <file> is 3221225472 bytes, more than the limit of 16777216}); callers put it after their own
     * "cannot read X:" or in their own words using {@link #size()} and {@link #limit()}.
     */
    public static final class Refused extends IOException {
        private final long size;
        private final long limit;

        Refused(String message, long size, long limit) {
            super(message);
            this.size = size;
            this.limit = limit;
        }

        /** The file's size, or -1 when it is not a regular file. */
        public long size() {
            return size;
        }

        public long limit() {
            return limit;
        }

        public boolean notRegular() {
            return size < 0;
        }
    }

    /**
     * The bytes of {@code file} (symbolic links followed), which must be a regular file of at most
     * {@code maxBytes} bytes.
     */
    public static byte[] readAllBytes(Path file, long maxBytes) throws IOException {
        if (maxBytes < 0 || maxBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxBytes must be in 0.." + (Integer.MAX_VALUE - 8) + ", got " + maxBytes);
        }
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        if (!a.isRegularFile()) {
            throw new Refused(file + " is " + kind(a) + ", not a regular file", -1, maxBytes);
        }
        if (a.size() > maxBytes) {
            throw new Refused(file + " is " + a.size() + " bytes, more than the limit of " + maxBytes, a.size(), maxBytes);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes((int) maxBytes + 1); // a file that grows after the size check stops here
            if (b.length > maxBytes) {
                throw new Refused(file + " grew past the limit of " + maxBytes + " bytes while being read", b.length, maxBytes);
            }
            return b;
        }
    }

    /**
     * {@link #readAllBytes} decoded as UTF-8; malformed input is a {@link java.nio.charset.CharacterCodingException}
     * (as with {@code Files.readString}), which {@link IoProblems} describes.
     */
    public static String readString(Path file, long maxBytes) throws IOException {
        byte[] b = readAllBytes(file, maxBytes);
        return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString();
    }

    private static String kind(BasicFileAttributes a) {
        if (a.isDirectory()) {
            return "a directory";
        }
        return a.isOther() ? "a device, pipe or socket" : "a special file";
    }
}
