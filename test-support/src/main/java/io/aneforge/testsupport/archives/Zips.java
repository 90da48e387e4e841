package io.aneforge.testsupport.archives;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Hand-made zip archives for the tests of code that unpacks archives it did not make. */
public final class Zips {

    private Zips() {
    }

    /** A zip with one entry per map entry, in the map's iteration order. */
    public static byte[] zip(Map<String, byte[]> files) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                z.putNextEntry(new ZipEntry(f.getKey()));
                z.write(f.getValue());
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Marks the last central-directory entry of {@code zip} as a Unix symlink (host 3, mode 0120777),
     * as {@code zip -y} writes it; the entry's bytes become the link target. Changes {@code zip} in place.
     */
    public static byte[] symlinked(byte[] zip) {
        int last = -1;
        for (int i = 0; i + 4 <= zip.length; i++) {
            if (zip[i] == 0x50 && zip[i + 1] == 0x4b && zip[i + 2] == 0x01 && zip[i + 3] == 0x02) {
                last = i;
            }
        }
        zip[last + 5] = 3;
        int attrs = 0120777 << 16;
        for (int k = 0; k < 4; k++) {
            zip[last + 38 + k] = (byte) (attrs >>> (8 * k));
        }
        return zip;
    }

    /**
     * Renames entry {@code from} to {@code to} in the central directory only; its local header keeps
     * {@code from}. The names must have the same length, so no offset moves. unzip, Python's zipfile and
     * {@code java.util.zip.ZipFile} list {@code to}; a reader that walks local headers
     * ({@code ZipInputStream}) sees {@code from}. Changes {@code zip} in place.
     */
    public static byte[] renamedInCentralDirectory(byte[] zip, String from, String to) {
        byte[] a = from.getBytes(StandardCharsets.UTF_8);
        byte[] b = to.getBytes(StandardCharsets.UTF_8);
        if (a.length != b.length) {
            throw new IllegalArgumentException("'" + from + "' and '" + to + "' differ in length");
        }
        for (int i = 0; i + 46 + a.length <= zip.length; i++) {
            boolean central = zip[i] == 0x50 && zip[i + 1] == 0x4b && zip[i + 2] == 0x01 && zip[i + 3] == 0x02;
            int nameLength = central ? (zip[i + 28] & 0xff) | (zip[i + 29] & 0xff) << 8 : -1;
            if (nameLength == a.length && Arrays.equals(zip, i + 46, i + 46 + a.length, a, 0, a.length)) {
                System.arraycopy(b, 0, zip, i + 46, b.length);
                return zip;
            }
        }
        throw new IllegalArgumentException("no central-directory entry named '" + from + "'");
    }
}
