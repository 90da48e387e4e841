package io.aneforge.tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * SentencePiece's {@code precompiled_charsmap}, the {@code Precompiled} normalizer of a tokenizer.json (XLM-RoBERTa's
 * and CamemBERT's {@code nmt_nfkc} rules), read and applied as Hugging Face's tokenizers do (the {@code spm_precompiled}
 * crate, which emulates SentencePiece's normalizer).
 *
 * <p>The blob, base64 in the JSON, is: a little-endian u32, the size in bytes of the trie; the trie, that many bytes of
 * little-endian u32 units of a Darts-clone double array keyed by UTF-8 bytes; then the normalized strings, each ended by
 * a NUL byte. A key's value is the byte offset of its replacement in those strings. A unit holds: bits 0-7 the label
 * (the byte that leads to it) with bit 31 set on value units so no byte matches them, bit 8 "has a value" (the value
 * unit is the child of label 0, at the node's base itself), bits 10-30 the offset from the unit's position to its
 * children's base, shifted left by 8 more when bit 9 is set; a value unit's bits 0-30 are the value.
 *
 * <p>Normalization walks the text by extended grapheme cluster, not by character: a cluster of fewer than 6 UTF-8
 * bytes is looked up whole, and when any prefix of it is a key, the cluster becomes the replacement of the
 * <em>shortest</em> such prefix (the rest of the cluster is dropped: a full-width letter with a combining accent loses
 * the accent); otherwise, and for longer clusters, each character is looked up alone and kept when it is no key.
 * Hugging Face's own comment calls this weird and keeps it because it matches SentencePiece on XNLI; so does this
 * class. Clusters are Unicode 16.0's, as the native tokenizer's unicode-segmentation crate draws them: Java's
 * {@code \X} (Unicode 13 on Java 17) mended by {@link GraphemeClusters}.
 */
final class PrecompiledCharsmap {
    /** Clusters of fewer UTF-8 bytes than this are looked up whole ({@code spm_precompiled}'s {@code len() < 6}). */
    private static final int WHOLE_CLUSTER_BYTES = 6;
    /**
     * The longest replacement accepted, in UTF-8 bytes: {@code nmt_nfkc}'s longest is about 33. A longer one is
     * refused, as is a value Rust would panic on, so that a hostile charsmap cannot make each lookup scan a huge region.
     */
    static final int MAX_REPLACEMENT_BYTES = 256;

    private final int[] units;
    /** Each value of the trie (a byte offset into the normalized strings) and its replacement, decoded once. */
    private final Map<Integer, String> replacements;

    private PrecompiledCharsmap(int[] units, Map<Integer, String> replacements) {
        this.units = units;
        this.replacements = replacements;
    }

    /** Decodes the {@code precompiled_charsmap} string of a {@code Precompiled} normalizer. */
    static PrecompiledCharsmap decode(Path file, String base64) throws TokenizerException {
        if (base64.length() % 4 != 0) {
            // Java's decoder accepts missing padding; Rust's (base64 STANDARD) refuses it
            throw new TokenizerException(file, "normalizer Precompiled's precompiled_charsmap is not padded base64 ("
                    + base64.length() + " characters, not a multiple of 4), which Hugging Face's tokenizers refuse");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new TokenizerException(file, "normalizer Precompiled's precompiled_charsmap is not base64: "
                    + e.getMessage());
        }
        return parse(file, blob);
    }

    /** Reads the binary form (trie size, trie units, NUL-ended normalized strings); refuses what Rust refuses. */
    static PrecompiledCharsmap parse(Path file, byte[] blob) throws TokenizerException {
        ByteBuffer in = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        if (in.remaining() < 4) {
            throw new TokenizerException(file, "normalizer Precompiled's precompiled_charsmap has " + blob.length
                    + " bytes, fewer than its 4-byte trie size: it is not a SentencePiece charsmap");
        }
        long trieBytes = Integer.toUnsignedLong(in.getInt());
        long count = trieBytes / 4;
        if (count == 0 || count * 4 > in.remaining()) {
            throw new TokenizerException(file, "normalizer Precompiled's precompiled_charsmap declares a trie of "
                    + trieBytes + " bytes but " + in.remaining() + " follow (an empty trie has no root): it is not a"
                    + " SentencePiece charsmap");
        }
        int[] units = new int[(int) count];
        for (int i = 0; i < units.length; i++) {
            units[i] = in.getInt();
        }
        byte[] normalized = new byte[in.remaining()];
        in.get(normalized);
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(normalized));
        } catch (CharacterCodingException e) {
            throw new TokenizerException(file, "normalizer Precompiled's normalized strings are not UTF-8: it is not a"
                    + " SentencePiece charsmap");
        }
        return new PrecompiledCharsmap(units, replacements(file, units, normalized));
    }

    /**
     * The replacement of every value the trie can yield, checked once here instead of at each lookup. A lookup reads a
     * value at {@code p ^ offset(units[p])} of a unit {@code p} with "has a value" set, reached by a byte label (so bit
     * 31 clear); every such unit is checked, reachable or not, which costs one pass over the array. Refused, as not
     * a charsmap SentencePiece writes: a value unit past the array, a value past the strings or inside a UTF-8
     * character (Rust panics on both), a replacement without its NUL or longer than {@link #MAX_REPLACEMENT_BYTES}.
     */
    private static Map<Integer, String> replacements(Path file, int[] units, byte[] normalized)
            throws TokenizerException {
        Map<Integer, String> out = new HashMap<>();
        for (int p = 1; p < units.length; p++) { // the root (0) is no key's node: its value is never read
            int unit = units[p];
            if (unit < 0 || !hasValue(unit)) {
                continue;
            }
            long at = p ^ offset(unit);
            if (at >= units.length) {
                throw malformed(file, "trie unit " + p + " has its value at unit " + at + ", past the trie's "
                        + units.length + " units");
            }
            int value = units[(int) at] & 0x7FFFFFFF;
            if (out.containsKey(value)) {
                continue;
            }
            if (value >= normalized.length) {
                throw malformed(file, "trie unit " + p + " has the value " + value + ", past the "
                        + normalized.length + " bytes of normalized strings");
            }
            if ((normalized[value] & 0xC0) == 0x80) {
                throw malformed(file, "the value " + value + " of trie unit " + p + " is inside a UTF-8 character of"
                        + " the normalized strings, not at the start of one");
            }
            int end = value;
            int limit = (int) Math.min(normalized.length, (long) value + MAX_REPLACEMENT_BYTES + 1);
            while (end < limit && normalized[end] != 0) {
                end++;
            }
            if (end == normalized.length) {
                throw malformed(file, "the replacement at byte " + value + " of the normalized strings has no NUL"
                        + " after it");
            }
            if (normalized[end] != 0) {
                throw malformed(file, "the replacement at byte " + value + " of the normalized strings is longer than "
                        + MAX_REPLACEMENT_BYTES + " bytes");
            }
            out.put(value, new String(normalized, value, end - value, StandardCharsets.UTF_8));
        }
        return out;
    }

    private static TokenizerException malformed(Path file, String problem) {
        return new TokenizerException(file, "normalizer Precompiled's precompiled_charsmap is malformed: " + problem
                + "; the Java tokenizer refuses it (use the native tokenizer, -D" + Tokenizer.IMPLEMENTATION_PROPERTY
                + "=native, if Hugging Face's tokenizers read this file)");
    }

    /** {@code text} normalized cluster by cluster, as described above. */
    String normalize(String text) {
        return normalize(text, GraphemeClusters::of);
    }

    /**
     * {@code text} normalized over the clusters {@code clusters} draws: a test's way to show that other clusters (Java
     * 17's own {@code \X}) would normalize a probe otherwise.
     */
    String normalize(String text, Function<String, List<String>> clusters) {
        StringBuilder out = new StringBuilder(text.length());
        for (String cluster : clusters.apply(text)) {
            byte[] bytes = cluster.getBytes(StandardCharsets.UTF_8);
            if (bytes.length < WHOLE_CLUSTER_BYTES) {
                String replacement = transform(bytes);
                if (replacement != null) {
                    out.append(replacement);
                    continue;
                }
            }
            for (int i = 0; i < cluster.length(); ) {
                int c = cluster.codePointAt(i);
                int n = Character.charCount(c);
                String replacement = transform(cluster.substring(i, i + n).getBytes(StandardCharsets.UTF_8));
                if (replacement == null) {
                    out.appendCodePoint(c);
                } else {
                    out.append(replacement);
                }
                i += n;
            }
        }
        return out.toString();
    }

    /** The replacement of the shortest key that is a prefix of {@code key}, or null when none is. */
    String transform(byte[] key) {
        int value = firstValue(key);
        return value < 0 ? null : replacements.get(value); // every value found is in the map (see replacements)
    }

    /**
     * Darts-clone's common prefix search, stopped at its first result (the shortest key): -1 when no prefix of
     * {@code key} (up to a NUL byte, where the search stops) is a key.
     */
    private int firstValue(byte[] key) {
        int position = offset(units[0]);
        for (byte b : key) {
            int c = b & 0xFF;
            if (c == 0) {
                return -1;
            }
            position ^= c;
            if (position >= units.length) {
                return -1; // past the array: no key continues here (Rust would panic on a malformed trie)
            }
            int unit = units[position];
            if (label(unit) != c) {
                return -1;
            }
            position ^= offset(unit);
            if (hasValue(unit)) {
                return position < units.length ? units[position] & 0x7FFFFFFF : -1;
            }
        }
        return -1;
    }

    private static boolean hasValue(int unit) {
        return ((unit >>> 8) & 1) == 1;
    }

    private static int label(int unit) {
        return unit & ((1 << 31) | 0xFF);
    }

    /** Bits 10-30, shifted left by 8 more when bit 9 is set (bit 31 is clear on the units read here). */
    private static int offset(int unit) {
        return ((unit >>> 10) & 0x1FFFFF) << ((unit & (1 << 9)) >>> 6);
    }
}
