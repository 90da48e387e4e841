package io.aneforge.cli.predict;

import io.aneforge.cli.UsageException;
import io.aneforge.io.BoundedFiles;
import io.aneforge.tokenizer.MaskToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A {@code tokenizer.json}'s token names by id and its mask token, for showing a fill-mask package's predictions as
 * Hugging Face's fill-mask pipeline does ({@code tokenizer.decode([id])}). Only what one token needs: the model's
 * vocabulary, the added tokens, and the decoder's rule for a single token (WordPiece keeps it as written,
 * byte-level BPE maps its characters back to bytes, so RoBERTa's {@code Ġparis} is {@code " paris"}; Metaspace turns
 * {@code ▁} into a space).
 */
public final class TokenVocabulary {
    private static final long MAX_BYTES = 64L << 20;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Map<Integer, String> names;
    private final String decoder;
    private final String maskToken;
    private final int maskId;

    private TokenVocabulary(Map<Integer, String> names, String decoder, String maskToken, int maskId) {
        this.names = names;
        this.decoder = decoder;
        this.maskToken = maskToken;
        this.maskId = maskId;
    }

    /**
     * Reads {@code tokenizerJson} (one the tokenizer has loaded already).
     *
     * @throws UsageException when it has no mask token ({@code [MASK]} or {@code <mask>})
     */
    public static TokenVocabulary read(Path tokenizerJson) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(BoundedFiles.readAllBytes(tokenizerJson, MAX_BYTES));
        } catch (JacksonException e) {
            throw new UsageException("cannot read " + tokenizerJson + ": " + e.getOriginalMessage());
        }
        Map<Integer, String> names = new HashMap<>();
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (var e : vocab.properties()) {
                names.put(e.getValue().asInt(), e.getKey());
            }
        } else if (vocab.isArray()) { // Unigram: [token, score] pairs, the id is the index
            for (int i = 0; i < vocab.size(); i++) {
                names.put(i, vocab.get(i).path(0).asString());
            }
        }
        for (JsonNode t : root.path("added_tokens")) {
            names.put(t.path("id").asInt(), t.path("content").asString());
        }
        String decoder = root.path("decoder").path("type").asString("");
        // the rule the tokenizers apply too (Tokenizer.maskToken), so predict and the golden samples agree
        MaskToken mask = MaskToken.of(root).orElseThrow(() -> new UsageException(tokenizerJson + " has no mask token ("
                + String.join(" or ", MaskToken.TEXTS) + "), which a fill-mask package predicts: pass the"
                + " tokenizer.json of the package's model (--tokenizer or --source)"));
        return new TokenVocabulary(names, decoder, mask.text(), mask.id());
    }

    /** The text of the mask token ({@code [MASK]}, {@code <mask>}) to write where a word is to be predicted. */
    public String maskToken() {
        return maskToken;
    }

    public int maskId() {
        return maskId;
    }

    /** Token {@code id} as {@code tokenizer.decode([id])} gives it; {@code [id]} for an id with no name. */
    public String decode(int id) {
        String token = names.get(id);
        if (token == null) {
            return "[" + id + "]";
        }
        return switch (decoder) {
            case "ByteLevel" -> byteLevel(token);
            case "Metaspace" -> token.replace('\u2581', ' ').stripLeading();
            default -> token; // WordPiece: a single token is kept as written (its ## too)
        };
    }

    /** GPT-2's printable characters back to the bytes they stand for (bytes_to_unicode inverted), read as UTF-8. */
    private static String byteLevel(String token) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < token.length(); i++) {
            Integer b = BYTE_OF.get(token.charAt(i));
            if (b == null) {
                return token; // an added token written as plain text
            }
            bytes.write(b);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static final Map<Character, Integer> BYTE_OF = bytesOfChars();

    private static Map<Character, Integer> bytesOfChars() {
        Map<Character, Integer> m = new HashMap<>();
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF;
            m.put((char) (printable ? b : 256 + n++), b);
        }
        return m;
    }
}
