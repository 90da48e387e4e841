package io.aneforge.convert;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The fixed evaluation sentences ({@code samples.txt}: 32 lines, varied lengths and languages) and sentence pairs
 * ({@code sample-pairs.txt}: 32 lines of two texts separated by a tab: questions and passages, premises and
 * hypotheses, paraphrases, translations, an empty first text, pairs longer than short sequence lengths). Models that
 * take {@code token_type_ids} are measured on the pairs ({@link Golden#sampleInputs}).
 */
public final class Samples {
    public static final String RESOURCE = "samples.txt";
    public static final String PAIRS_RESOURCE = "sample-pairs.txt";

    /** A sentence pair: {@code second} is encoded in segment 1 ({@code Tokenizer.encodePair}). */
    public record Pair(String first, String second) {
    }

    private Samples() {
    }

    /** All 32 sentences, in file order. */
    public static List<String> fixed() {
        return lines(RESOURCE);
    }

    /** All 32 sentence pairs, in file order. */
    public static List<Pair> pairs() {
        return pairs(PAIRS_RESOURCE);
    }

    /** The pairs of a resource of this package: each non-blank line is the first text, a tab, the second text. */
    static List<Pair> pairs(String resource) {
        List<Pair> out = new java.util.ArrayList<>();
        for (String line : lines(resource)) {
            int tab = line.indexOf('\t');
            if (tab < 0 || line.indexOf('\t', tab + 1) >= 0) {
                throw new IllegalStateException("resource io/aneforge/convert/" + resource + ": a line must be two texts"
                        + " separated by one tab: " + line);
            }
            out.add(new Pair(line.substring(0, tab), line.substring(tab + 1)));
        }
        return List.copyOf(out);
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
