package io.aneforge.registry.blob;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One byte range of a {@code Range: bytes=...} header, resolved against the blob size.
 * Multiple ranges are not served (RFC 9110 lets a server ignore Range and send the whole body).
 */
record ByteRange(long start, long endInclusive) {

    private static final Pattern SINGLE = Pattern.compile("bytes=(\\d*)-(\\d*)");

    long length() {
        return endInclusive - start + 1;
    }

    /** Why a range cannot be served: {@link #parse} throws it and the controller answers 416. */
    static final class Unsatisfiable extends RuntimeException {
        Unsatisfiable(String message) {
            super(message);
        }
    }

    /** @return null when the whole body should be sent (no header, or a form we do not serve) */
    static ByteRange parse(String header, long size) {
        if (header == null) return null;
        Matcher m = SINGLE.matcher(header.trim());
        if (!m.matches()) return null;
        String a = m.group(1), b = m.group(2);
        if (a.isEmpty() && b.isEmpty()) return null;
        try {
            if (a.isEmpty()) { // suffix: the last N bytes
                long n = Long.parseLong(b);
                if (n == 0 || size == 0) throw new Unsatisfiable("suffix range of 0 bytes");
                return new ByteRange(Math.max(0, size - n), size - 1);
            }
            long start = Long.parseLong(a);
            if (start >= size) throw new Unsatisfiable("range starts at " + start + " but the blob has " + size + " bytes");
            long end = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
            if (end < start) return null; // syntactically invalid: ignore the header
            return new ByteRange(start, end);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
