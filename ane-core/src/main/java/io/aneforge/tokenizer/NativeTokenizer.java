package io.aneforge.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Hugging Face tokenizers (Rust) through DJL, whose jar bundles the native library: the reference. */
public final class NativeTokenizer implements Tokenizer {
    private static volatile Boolean available;
    /** Why the native library did not load (the first failure's class and message), null while it loads or is unchecked. */
    private static volatile String unavailableReason;
    /** The smallest valid tokenizer.json: loading it proves the native library works here. */
    private static final String PROBE = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
            + "\"added_tokens\":[],\"normalizer\":null,\"pre_tokenizer\":null,\"post_processor\":null,"
            + "\"decoder\":null,\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":0},\"unk_token\":\"a\"}}";

    private final Path file;
    private final int padId;
    private final int maxTokenId;
    /** tokenizer.json's {@code truncation.strategy}, for pairs (DJL's truncation options would replace it). */
    private final PairTruncation pairTruncation;
    /** The file's mask token, from the same streaming read ({@link TokenizerJson#scan}). */
    private final java.util.Optional<MaskToken> maskToken;
    /**
     * Encodes without truncation: a text whose encoding fits the requested length gets exactly the ids a
     * truncating tokenizer gives it, from the one instance {@link #load} parsed (each instance parses the
     * whole tokenizer.json in Rust: 15-20 ms for a BERT vocabulary, 2-4 % of a default convert's CPU).
     */
    private final HuggingFaceTokenizer whole;
    /**
     * Truncating instances by strategy and length, made for the first text longer than their length: Hugging Face's
     * own truncation.
     */
    private final Map<String, HuggingFaceTokenizer> byLength = new ConcurrentHashMap<>();
    /** {@link #pairSpecials}, counted at the first pair longer than its length (-1 until then). */
    private volatile int pairSpecials = -1;

    private NativeTokenizer(Path file, TokenizerJson.Scan scan) throws IOException {
        this.file = file;
        this.padId = scan.padId();
        this.maxTokenId = scan.maxId();
        this.pairTruncation = scan.truncation();
        this.maskToken = scan.maskToken();
        this.whole = newInstance(file, Map.of("addSpecialTokens", "true", "padding", "false", "truncation", "false"));
    }

    /** Parses the file once, now: a broken file or native library fails here, not at the first encode. */
    public static NativeTokenizer load(Path tokenizerJson) throws IOException {
        return new NativeTokenizer(tokenizerJson, TokenizerJson.scan(tokenizerJson));
    }

    /** True when the native library loads on this host (checked once). */
    public static boolean isAvailable() {
        if (available == null) {
            try {
                HuggingFaceTokenizer.newInstance(new java.io.ByteArrayInputStream(PROBE.getBytes(
                        java.nio.charset.StandardCharsets.UTF_8)), Map.of()).close();
                available = true;
            } catch (Throwable e) {
                // Linkage errors and unsupported platforms alike mean: use the Java tokenizer.
                unavailableReason = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
                available = false;
            }
        }
        return available;
    }

    /** Why {@link #isAvailable} is false (the load failure), or null when the library loads or was never tried. */
    static String unavailableReason() {
        return unavailableReason;
    }

    /**
     * The instance truncating to {@code maxLength} by {@code strategy} (single texts: always longest first). Stride 0:
     * DJL otherwise keeps tokenizer.json's {@code truncation.stride} (128 in files saved after a question-answering
     * preprocessing call), and Rust's {@code Encoding::truncate} asserts {@code stride < max_len}: a panic that
     * crosses JNI and aborts the whole JVM for any text cut to that room or less. aneforge never reads the overflowing
     * pieces the stride shapes, so 0 changes no id.
     */
    private HuggingFaceTokenizer forLength(int maxLength, PairTruncation strategy) throws IOException {
        String key = strategy.optionValue() + "@" + maxLength;
        HuggingFaceTokenizer t = byLength.get(key);
        if (t == null) {
            t = newInstance(file, Map.of("addSpecialTokens", "true", "padding", "false",
                    "truncation", strategy.optionValue(), "maxLength", String.valueOf(maxLength), "stride", "0"));
            HuggingFaceTokenizer raced = byLength.putIfAbsent(key, t);
            if (raced != null) {
                t.close();
                t = raced;
            }
        }
        return t;
    }

    private static HuggingFaceTokenizer newInstance(Path file, Map<String, String> options) throws IOException {
        try {
            return HuggingFaceTokenizer.newInstance(file, options);
        } catch (RuntimeException e) {
            throw new TokenizerException(file, "the native tokenizer cannot read this file: " + e.getMessage());
        }
    }

    @Override
    public Encoding encode(String text, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2: " + maxLength);
        }
        try {
            long[] ids = whole.encode(text, true, false).getIds();
            if (ids.length > maxLength) {
                ids = forLength(maxLength, PairTruncation.LONGEST_FIRST).encode(text, true, false).getIds();
            }
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = Math.toIntExact(ids[i]);
            }
            return Encoding.padded(out, maxLength, padId);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The pair through the same instances as {@link #encode}: Hugging Face's template and the file's truncation strategy. */
    @Override
    public Encoding encodePair(String first, String second, int maxLength) {
        return encodePair(first, second, maxLength, pairTruncation);
    }

    @Override
    public Encoding encodePairLongestFirst(String first, String second, int maxLength) {
        return encodePair(first, second, maxLength, PairTruncation.LONGEST_FIRST);
    }

    private Encoding encodePair(String first, String second, int maxLength, PairTruncation strategy) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2: " + maxLength);
        }
        try {
            ai.djl.huggingface.tokenizers.Encoding e = whole.encode(first, second, true, false);
            if (e.getIds().length > maxLength) {
                // Rust subtracts the template's specials from the length unsigned: below them it wraps, truncates
                // nothing and the padding then cuts the whole pair to a prefix without its [SEP] or second text.
                int specials = pairSpecials();
                if (maxLength < specials) {
                    throw new IllegalArgumentException("maxLength " + maxLength + " cannot hold the pair template's "
                            + specials + " special tokens");
                }
                HuggingFaceTokenizer truncating = forLength(maxLength, strategy);
                try {
                    e = truncating.encode(first, second, true, false);
                } catch (RuntimeException refused) {
                    // only_first/only_second with a text too short to cut
                    throw new IllegalArgumentException("the pair does not fit in " + maxLength + " tokens with"
                            + " tokenizer.json's truncation strategy " + strategy.optionValue() + ": "
                            + refused.getMessage(), refused);
                }
            }
            long[] ids = e.getIds();
            long[] types = e.getTypeIds();
            int[] outIds = new int[ids.length];
            int[] outTypes = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                outIds[i] = Math.toIntExact(ids[i]);
                outTypes[i] = Math.toIntExact(types[i]);
            }
            return Encoding.padded(outIds, outTypes, maxLength, padId);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The special tokens the pair template adds: the encoding of two empty texts is nothing else. */
    private int pairSpecials() {
        int n = pairSpecials;
        if (n < 0) {
            n = whole.encode("", "", true, false).getIds().length;
            pairSpecials = n;
        }
        return n;
    }

    @Override
    public int maxTokenId() {
        return maxTokenId;
    }

    @Override
    public java.util.Optional<MaskToken> maskToken() {
        return maskToken;
    }

    @Override
    public String implementation() {
        return "huggingface-tokenizers (DJL native)";
    }

    @Override
    public void close() {
        whole.close();
        byLength.values().forEach(HuggingFaceTokenizer::close);
        byLength.clear();
    }
}
