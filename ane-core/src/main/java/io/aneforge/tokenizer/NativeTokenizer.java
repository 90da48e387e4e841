package io.aneforge.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Hugging Face tokenizers (Rust) through DJL, whose jar bundles the native library: the reference. */
public final class NativeTokenizer implements Tokenizer {
    private static volatile Boolean available;
    /** The smallest valid tokenizer.json: loading it proves the native library works here. */
    private static final String PROBE = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
            + "\"added_tokens\":[],\"normalizer\":null,\"pre_tokenizer\":null,\"post_processor\":null,"
            + "\"decoder\":null,\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":0},\"unk_token\":\"a\"}}";

    private final Path file;
    private final int padId;
    private final Map<Integer, HuggingFaceTokenizer> byLength = new ConcurrentHashMap<>();

    private NativeTokenizer(Path file, int padId) {
        this.file = file;
        this.padId = padId;
    }

    public static NativeTokenizer load(Path tokenizerJson) throws IOException {
        NativeTokenizer t = new NativeTokenizer(tokenizerJson, TokenizerJson.padId(tokenizerJson));
        t.forLength(8); // Fail now, not at first encode, if the file or the native library is broken.
        return t;
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
                available = false;
            }
        }
        return available;
    }

    private HuggingFaceTokenizer forLength(int maxLength) throws IOException {
        HuggingFaceTokenizer t = byLength.get(maxLength);
        if (t == null) {
            try {
                t = HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "true", "padding", "false",
                        "truncation", "true", "maxLength", String.valueOf(maxLength)));
            } catch (RuntimeException e) {
                throw new TokenizerException(file, "the native tokenizer cannot read this file: " + e.getMessage());
            }
            byLength.put(maxLength, t);
        }
        return t;
    }

    @Override
    public Encoding encode(String text, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2: " + maxLength);
        }
        try {
            long[] ids = forLength(maxLength).encode(text, true, false).getIds();
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = Math.toIntExact(ids[i]);
            }
            return Encoding.padded(out, maxLength, padId);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public String implementation() {
        return "huggingface-tokenizers (DJL native)";
    }

    @Override
    public void close() {
        byLength.values().forEach(HuggingFaceTokenizer::close);
        byLength.clear();
    }
}
