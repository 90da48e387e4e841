package io.aneforge.tokenizer;

import io.aneforge.io.BoundedFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamFactory;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The parts of a Hugging Face {@code tokenizer.json} the Java tokenizers use. */
record TokenizerJson(Path file, JsonNode root, String modelType, Map<String, Integer> vocab, int padId,
                     PostProcessor postProcessor, PairTruncation truncation, boolean cutsLeft,
                     java.util.Optional<MaskToken> maskToken) {
    static final long MAX_BYTES = 64L << 20;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /**
     * For {@link #padId}'s streaming read: property names are not canonicalized, since a vocabulary is
     * tens of thousands of names seen once each, and adding every one to the parser's symbol table was
     * most of that read's time.
     */
    private static final JsonMapper STREAM = JsonMapper.builder(
            JsonFactory.builder().disable(TokenStreamFactory.Feature.CANONICALIZE_PROPERTY_NAMES).build()).build();

    static TokenizerJson read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(file, "tokenizer.json is missing");
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new TokenizerException(file, "tokenizer.json is larger than " + MAX_BYTES + " bytes");
        }
        JsonNode root;
        try {
            root = JSON.readTree(BoundedFiles.readAllBytes(file, MAX_BYTES));
        } catch (JacksonException e) {
            throw new TokenizerException(file, "not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode model = root == null ? null : root.get("model");
        String declared = model == null ? "" : model.path("type").asString("");
        if (!declared.isEmpty() && !declared.equals("WordPiece") && !declared.equals("BPE")
                && !declared.equals("Unigram")) {
            throw unsupportedModel(file, declared);
        }
        Map<String, Integer> vocab = new HashMap<>();
        if (declared.equals("Unigram")) {
            // an array of [piece, score] pairs, the id the index; a repeated piece keeps its first id here, as scan()
            // does for the pad id (the Unigram model itself encodes with the last, as Rust does)
            List<String> pieces = UnigramModel.pieces(file, model.path("vocab"));
            for (int i = 0; i < pieces.size(); i++) {
                vocab.putIfAbsent(pieces.get(i), i);
            }
        } else {
            if (model == null || !model.isObject() || !model.path("vocab").isObject()) {
                throw new TokenizerException(file, "no 'model' with a 'vocab' object");
            }
            for (Map.Entry<String, JsonNode> e : model.get("vocab").properties()) {
                if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt()) {
                    throw new TokenizerException(file, "vocab id for '" + e.getKey() + "' is not an integer");
                }
                vocab.put(e.getKey(), tokenId(file, e.getValue().intValue(), "vocab id for '" + e.getKey() + "'"));
            }
        }
        String type = model.path("type").asString("");
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asString("");
            vocab.putIfAbsent(content, tokenId(file, t.path("id").asInt(), "added token id for '" + content + "'"));
        }
        int padId = tokenId(file, root.path("padding").isObject() ? root.path("padding").path("pad_id").asInt(0)
                : vocab.getOrDefault("[PAD]", vocab.getOrDefault("<pad>", 0)), "padding.pad_id");
        PostProcessor post = PostProcessor.parse(file, root.path("post_processor"));
        postProcessorIds(file, root.path("post_processor")); // every special token's ids, not only the templates'
        return new TokenizerJson(file, root, type, vocab, padId, post,
                PairTruncation.parse(file, root.path("truncation")), cutsLeft(file, root.path("truncation")),
                MaskToken.of(root));
    }

    /**
     * A tokenizer model the Java tokenizers do not implement ({@code WordLevel}, for one), with the fix: the native
     * tokenizer (Hugging Face's own, which reads every model).
     */
    static TokenizerException unsupportedModel(Path file, String type) {
        String why = NativeTokenizer.unavailableReason();
        return new TokenizerException(file, "tokenizer model '" + type + "' is not supported by the Java tokenizer,"
                + " which implements WordPiece, byte-level BPE and SentencePiece Unigram: use the native tokenizer"
                + " (Hugging Face's tokenizers through DJL), which reads it: leave -D"
                + Tokenizer.IMPLEMENTATION_PROPERTY + " unset (auto) or set it to native"
                + (why == null ? "" : "; on this host the native library did not load (" + why + "): convert on a host"
                + " where it loads"));
    }

    /**
     * Whether truncation keeps a text's last tokens: {@code truncation.direction} {@code Left} (the reference honours
     * it for one text and for pairs); {@code Right}, the default, keeps the first.
     */
    static boolean cutsLeft(Path file, JsonNode truncation) throws TokenizerException {
        JsonNode direction = truncation.path("direction");
        if (direction.isMissingNode() || direction.isNull()) {
            return false;
        }
        return switch (direction.asString("")) {
            case "Left" -> true;
            case "Right" -> false;
            default -> throw new TokenizerException(file, "truncation.direction " + direction + " is not one Hugging"
                    + " Face's tokenizers know: use Left or Right");
        };
    }

    /** {@code id} when it is a token id (the Rust tokenizers read ids as u32, and refuse negative ones too). */
    private static int tokenId(Path file, int id, String what) throws TokenizerException {
        if (id < 0) {
            throw new TokenizerException(file, what + " is " + id + ": token ids are 0 or more");
        }
        return id;
    }

    /** A post-processor special token's id: an integer, 0 or more. */
    static int specialId(Path file, JsonNode id, String token) throws TokenizerException {
        if (!id.isIntegralNumber() || !id.canConvertToInt()) {
            throw new TokenizerException(file, "post_processor special token '" + token + "' id " + id
                    + " is not an integer");
        }
        return tokenId(file, id.intValue(), "post_processor special token '" + token + "' id");
    }

    /**
     * Every id the post-processor can add: the ids of each {@code TemplateProcessing} special token (not only
     * those of the single-sequence template), {@code cls} and {@code sep} of {@code BertProcessing} and
     * {@code RobertaProcessing}, and those of each processor of a {@code Sequence}. The tokenizer emits these ids
     * as given, whatever the vocabulary holds, so the model must embed them.
     */
    static List<Integer> postProcessorIds(Path file, JsonNode post) throws TokenizerException {
        List<Integer> ids = new ArrayList<>();
        switch (post.path("type").asString("")) {
            case "TemplateProcessing" -> {
                for (Map.Entry<String, JsonNode> token : post.path("special_tokens").properties()) {
                    for (JsonNode id : token.getValue().path("ids")) {
                        ids.add(specialId(file, id, token.getKey()));
                    }
                }
            }
            case "BertProcessing", "RobertaProcessing" -> {
                for (String part : List.of("cls", "sep")) {
                    if (post.has(part)) {
                        ids.add(specialId(file, post.path(part).path(1), part));
                    }
                }
            }
            case "Sequence" -> {
                for (JsonNode processor : post.path("processors")) {
                    ids.addAll(postProcessorIds(file, processor));
                }
            }
            default -> {
                // ByteLevel and no post-processor add no tokens
            }
        }
        return ids;
    }

    /**
     * The pad id {@link #read} would give ({@code padding.pad_id}, else the id of {@code [PAD]}, else of
     * {@code <pad>}, else 0), read with the streaming parser: the native tokenizer needs only this, and
     * building the tree and the vocabulary map of a 30 000-token file was most of a MiniLM import's
     * tokenizer time. Checks what {@link #read} checks first: the file's size, JSON, a {@code model}
     * with a {@code vocab} object (or a Unigram model's {@code vocab} array of {@code [piece, score]} pairs, whose ids
     * are their indices: the native tokenizer reads every model).
     */
    static int padId(Path file) throws IOException {
        return scan(file).padId();
    }

    /**
     * What the streaming read of {@link #padId(Path)} finds: the pad id, the largest id of the file, how it
     * truncates pairs and its mask token ({@link MaskToken#of} of the tree).
     */
    record Scan(int padId, int maxId, PairTruncation truncation, java.util.Optional<MaskToken> maskToken) {
    }

    /**
     * {@link #padId(Path)} and, from the same pass, the largest id of the vocabulary, the added tokens, the
     * post-processor's special tokens and the padding (what {@link #maxId()} gives for the tree). Negative ids
     * are refused with the words {@link #read} uses.
     */
    static Scan scan(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(file, "tokenizer.json is missing");
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new TokenizerException(file, "tokenizer.json is larger than " + MAX_BYTES + " bytes");
        }
        Integer padding = null;
        int maxId = -1;
        PairTruncation truncation = PairTruncation.LONGEST_FIRST;
        boolean paddingObject = false;
        boolean vocabObject = false;
        Map<String, Integer> specials = new HashMap<>(); // "[PAD]" and "<pad>": vocab first, then added_tokens
        Map<String, Integer> added = new HashMap<>();
        MaskToken.Candidates masks = new MaskToken.Candidates();
        try (JsonParser p = STREAM.createParser(BoundedFiles.readAllBytes(file, MAX_BYTES))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new TokenizerException(file, "no 'model' with a 'vocab' object");
            }
            for (String name = p.nextName(); name != null; name = p.nextName()) {
                JsonToken t = p.nextToken();
                switch (name) {
                    case "padding" -> {
                        paddingObject = t == JsonToken.START_OBJECT;
                        if (paddingObject) {
                            for (String field = p.nextName(); field != null; field = p.nextName()) {
                                JsonToken v = p.nextToken();
                                if (field.equals("pad_id") && v == JsonToken.VALUE_NUMBER_INT) {
                                    padding = tokenId(file, p.getIntValue(), "padding.pad_id");
                                } else {
                                    p.skipChildren();
                                }
                            }
                        } else {
                            p.skipChildren();
                        }
                    }
                    case "model" -> {
                        if (t != JsonToken.START_OBJECT) {
                            p.skipChildren();
                            continue;
                        }
                        for (String field = p.nextName(); field != null; field = p.nextName()) {
                            JsonToken v = p.nextToken();
                            if (field.equals("vocab") && v == JsonToken.START_OBJECT) {
                                vocabObject = true;
                                for (String token = p.nextName(); token != null; token = p.nextName()) {
                                    JsonToken id = p.nextToken();
                                    if (id != JsonToken.VALUE_NUMBER_INT) {
                                        throw new TokenizerException(file, "vocab id for '" + token + "' is not an integer");
                                    }
                                    int value = tokenId(file, p.getIntValue(), "vocab id for '" + token + "'");
                                    maxId = Math.max(maxId, value);
                                    masks.token(token, value);
                                    if (token.equals("[PAD]") || token.equals("<pad>")) {
                                        specials.put(token, value);
                                    }
                                }
                            } else if (field.equals("vocab") && v == JsonToken.START_ARRAY) {
                                // a Unigram vocabulary (SentencePiece: XLM-RoBERTa): [piece, score] pairs, the id is
                                // the index
                                vocabObject = true;
                                int index = 0;
                                for (JsonToken entry = p.nextToken(); entry != JsonToken.END_ARRAY; entry = p.nextToken()) {
                                    if (entry != JsonToken.START_ARRAY || p.nextToken() != JsonToken.VALUE_STRING) {
                                        throw new TokenizerException(file, "Unigram vocab entry " + index
                                                + " is not a [piece, score] pair");
                                    }
                                    String piece = p.getString();
                                    p.nextToken();
                                    p.skipChildren(); // the score
                                    if (p.nextToken() != JsonToken.END_ARRAY) {
                                        throw new TokenizerException(file, "Unigram vocab entry " + index
                                                + " is not a [piece, score] pair");
                                    }
                                    if (piece.equals("[PAD]") || piece.equals("<pad>")) {
                                        specials.putIfAbsent(piece, index);
                                    }
                                    masks.token(piece, index);
                                    maxId = Math.max(maxId, index++);
                                }
                            } else {
                                p.skipChildren();
                            }
                        }
                    }
                    case "added_tokens" -> {
                        if (t != JsonToken.START_ARRAY) {
                            p.skipChildren();
                            continue;
                        }
                        for (JsonToken element = p.nextToken(); element != JsonToken.END_ARRAY; element = p.nextToken()) {
                            if (element != JsonToken.START_OBJECT) {
                                p.skipChildren(); // not a token object: read() finds no content there either
                                continue;
                            }
                            String content = "";
                            int id = 0;
                            boolean special = false;
                            for (String field = p.nextName(); field != null; field = p.nextName()) {
                                JsonToken v = p.nextToken();
                                if (field.equals("content") && v == JsonToken.VALUE_STRING) {
                                    content = p.getString();
                                } else if (field.equals("id") && v == JsonToken.VALUE_NUMBER_INT) {
                                    id = p.getIntValue();
                                } else if (field.equals("special") && v.isBoolean()) {
                                    special = v == JsonToken.VALUE_TRUE;
                                } else {
                                    p.skipChildren();
                                }
                            }
                            tokenId(file, id, "added token id for '" + content + "'");
                            added.putIfAbsent(content, id);
                            masks.added(content, id, special);
                            maxId = Math.max(maxId, id);
                        }
                    }
                    case "truncation" -> {
                        JsonNode settings = p.readValueAsTree(); // small: a strategy, a length, a direction
                        truncation = PairTruncation.parse(file, settings);
                        cutsLeft(file, settings); // refused in read()'s words; the native tokenizer honours it itself
                    }
                    case "post_processor" -> {
                        if (t != JsonToken.START_OBJECT) {
                            p.skipChildren();
                            continue;
                        }
                        JsonNode post = p.readValueAsTree(); // small: a few templates and special tokens
                        for (int id : postProcessorIds(file, post)) {
                            maxId = Math.max(maxId, id);
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        } catch (JacksonException e) {
            throw new TokenizerException(file, "not valid JSON: " + e.getOriginalMessage());
        }
        if (!vocabObject) {
            throw new TokenizerException(file, "no 'model' with a 'vocab' object");
        }
        int pad;
        if (paddingObject) {
            pad = padding == null ? 0 : padding;
        } else {
            added.forEach(specials::putIfAbsent);
            pad = specials.getOrDefault("[PAD]", specials.getOrDefault("<pad>", 0));
        }
        return new Scan(pad, Math.max(maxId, pad), truncation, masks.choose());
    }

    /** The largest id of the vocabulary, the added tokens, the post-processor's special tokens and the padding. */
    int maxId() {
        int max = padId;
        for (int id : vocab.values()) {
            max = Math.max(max, id);
        }
        for (JsonNode t : root.path("added_tokens")) {
            max = Math.max(max, t.path("id").asInt());
        }
        try {
            for (int id : postProcessorIds(file, root.path("post_processor"))) {
                max = Math.max(max, id);
            }
        } catch (TokenizerException e) {
            throw new IllegalStateException("read() checked the post-processor's ids", e);
        }
        return max;
    }

    /** Specials around truncated content: content keeps {@code maxLength - specials} tokens (its first, or last). */
    int[] frame(List<Integer> content, int maxLength) {
        int[] prefixIds = postProcessor.prefixIds();
        int[] suffixIds = postProcessor.suffixIds();
        int room = Math.max(0, maxLength - prefixIds.length - suffixIds.length);
        int n = Math.min(room, content.size());
        int from = cutsLeft ? content.size() - n : 0;
        int[] out = new int[prefixIds.length + n + suffixIds.length];
        System.arraycopy(prefixIds, 0, out, 0, prefixIds.length);
        for (int i = 0; i < n; i++) {
            out[prefixIds.length + i] = content.get(from + i);
        }
        System.arraycopy(suffixIds, 0, out, prefixIds.length + n, suffixIds.length);
        return out;
    }

    /** The {@code n} tokens truncation keeps of {@code content}: its first, or its last when {@link #cutsLeft}. */
    private List<Integer> kept(List<Integer> content, int n) {
        return cutsLeft ? content.subList(content.size() - n, content.size()) : content.subList(0, n);
    }

    /**
     * A pair as Hugging Face's tokenizers encode it: both texts truncated by {@link #truncation} to the length less
     * the pair template's special tokens, the template applied (ids and segments), padded to {@code maxLength}.
     */
    Encoding encodePair(List<Integer> first, List<Integer> second, int maxLength) {
        return encodePair(first, second, maxLength, truncation);
    }

    /** Like {@link #encodePair(List, List, int)}, cut by {@code strategy} instead of the file's. */
    Encoding encodePair(List<Integer> first, List<Integer> second, int maxLength, PairTruncation strategy) {
        int specials = PostProcessor.added(postProcessor.pairTemplate(file));
        if (maxLength < specials) {
            throw new IllegalArgumentException("maxLength " + maxLength + " cannot hold the pair template's " + specials
                    + " special tokens");
        }
        int[] keep = strategy.keep(first.size(), second.size(), maxLength - specials);
        int[][] pair = postProcessor.applyPair(file, kept(first, keep[0]), kept(second, keep[1]));
        return Encoding.padded(pair[0], pair[1], maxLength, padId);
    }
}
