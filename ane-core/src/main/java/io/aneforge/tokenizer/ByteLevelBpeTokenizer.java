package io.aneforge.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Pure-Java GPT-2 tokenization: the ByteLevel pre-tokenizer (GPT-2 split regex, each piece's
 * UTF-8 bytes mapped to printable characters), then BPE applying the lowest-ranked merge first.
 */
final class ByteLevelBpeTokenizer extends TemplateFramedTokenizer {
    /** GPT-2's pre-tokenization pattern, as in Hugging Face's ByteLevel pre-tokenizer. */
    private static final Pattern SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);
    private static final char[] BYTE_TO_CHAR = byteToUnicode();

    private final int maxTokenId;
    private final Map<String, Integer> vocab;
    private final Map<String, Integer> mergeRank = new HashMap<>();
    private final boolean addPrefixSpace;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    private final AddedTokens added;

    ByteLevelBpeTokenizer(TokenizerJson json) throws TokenizerException {
        super(json);
        this.maxTokenId = json.maxId();
        this.vocab = json.vocab();
        this.added = new AddedTokens(json.file(), json.root().path("added_tokens"), false); // no normalizer (below)
        JsonNode pre = json.root().path("pre_tokenizer");
        if (!pre.path("type").asString("").equals("ByteLevel")) {
            throw new TokenizerException(json.file(), "BPE without a ByteLevel pre_tokenizer is not supported by the"
                    + " Java tokenizer");
        }
        if (!json.root().path("normalizer").isNull() && !json.root().path("normalizer").isMissingNode()) {
            throw new TokenizerException(json.file(), "BPE with a normalizer is not supported by the Java tokenizer");
        }
        this.addPrefixSpace = pre.path("add_prefix_space").asBoolean(false);
        int rank = 0;
        for (JsonNode m : json.root().path("model").path("merges")) {
            String key;
            if (m.isArray()) {
                key = m.get(0).asString() + " " + m.get(1).asString();
            } else {
                key = m.asString();
            }
            mergeRank.putIfAbsent(key, rank++);
        }
    }

    /** One token is enough: GPT-2's ByteLevel post-processor adds no special token. */
    @Override
    void checkMaxLength(int maxLength) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("maxLength must be positive: " + maxLength);
        }
    }

    @Override
    List<Integer> content(String text) {
        List<Integer> ids = new ArrayList<>();
        added.split(text, segment -> {
            String s = addPrefixSpace && !segment.startsWith(" ") ? " " + segment : segment;
            Matcher m = SPLIT.matcher(s);
            while (m.find()) {
                for (int id : cache.computeIfAbsent(m.group(), this::bpe)) {
                    ids.add(id);
                }
            }
        }, ids::add);
        return ids;
    }

    private int[] bpe(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        List<String> symbols = new ArrayList<>(bytes.length);
        for (byte b : bytes) {
            symbols.add(String.valueOf(BYTE_TO_CHAR[b & 0xFF]));
        }
        while (symbols.size() > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer r = mergeRank.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            // Merge every occurrence of the best pair, left to right, as the reference does.
            String a = symbols.get(best);
            String b = symbols.get(best + 1);
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(a) && symbols.get(i + 1).equals(b)) {
                    merged.add(a + b);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }
        int[] ids = new int[symbols.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = vocab.get(symbols.get(i));
            if (id == null) {
                throw new IllegalStateException(json.file() + ": byte-level symbol '" + symbols.get(i)
                        + "' is not in the vocab (every byte must be)");
            }
            ids[i] = id;
        }
        return ids;
    }

    /** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256 + n. */
    private static char[] byteToUnicode() {
        char[] map = new char[256];
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            direct[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            direct[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            direct[b] = true;
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            map[b] = direct[b] ? (char) b : (char) (256 + n++);
        }
        return map;
    }

    @Override
    public int maxTokenId() {
        return maxTokenId;
    }

    @Override
    public String implementation() {
        return "java byte-level BPE";
    }

    @Override
    public void close() {
        cache.clear();
    }
}
