package io.aneforge.convert;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The fixed evaluation sentences ({@code samples.txt}: 32 lines, varied lengths and languages). */
public final class Samples {
    public static final String RESOURCE = "samples.txt";

    private Samples() {
    }

    /** All 32 sentences, in file order. */
    public static List<String> fixed() {
        return lines(RESOURCE);
    }

    /** The non-blank lines of a text resource of this package (UTF-8), in file order. */
    static List<String> lines(String resource) {
        try (InputStream in = Samples.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource io/aneforge/convert/" + resource + " is missing from ane-core");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
