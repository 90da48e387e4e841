package io.aneforge.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The parts of a Hugging Face {@code tokenizer.json} the Java tokenizers use. */
record TokenizerJson(Path file, JsonNode root, String modelType, Map<String, Integer> vocab, int padId,
                     int[] prefixIds, int[] suffixIds) {
    static final long MAX_BYTES = 64L << 20;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    static TokenizerJson read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(file, "tokenizer.json is missing");
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new TokenizerException(file, "tokenizer.json is larger than " + MAX_BYTES + " bytes");
        }
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (JacksonException e) {
            throw new TokenizerException(file, "not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode model = root == null ? null : root.get("model");
        if (model == null || !model.isObject() || !model.path("vocab").isObject()) {
            throw new TokenizerException(file, "no 'model' with a 'vocab' object");
        }
        String type = model.path("type").asString("");
        Map<String, Integer> vocab = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : model.get("vocab").properties()) {
            if (!e.getValue().canConvertToInt()) {
                throw new TokenizerException(file, "vocab id for '" + e.getKey() + "' is not an integer");
            }
            vocab.put(e.getKey(), e.getValue().intValue());
        }
        for (JsonNode t : root.path("added_tokens")) {
            vocab.putIfAbsent(t.path("content").asString(""), t.path("id").asInt());
        }
        int padId = root.path("padding").isObject() ? root.path("padding").path("pad_id").asInt(0)
                : vocab.getOrDefault("[PAD]", vocab.getOrDefault("<pad>", 0));
        List<Integer> prefix = new ArrayList<>();
        List<Integer> suffix = new ArrayList<>();
        JsonNode post = root.path("post_processor");
        String postType = post.path("type").asString("");
        if (postType.equals("TemplateProcessing")) {
            boolean before = true;
            for (JsonNode piece : post.path("single")) {
                if (piece.has("Sequence")) {
                    before = false;
                } else if (piece.has("SpecialToken")) {
                    String id = piece.get("SpecialToken").path("id").asString("");
                    JsonNode ids = post.path("special_tokens").path(id).path("ids");
                    if (!ids.isArray() || ids.isEmpty()) {
                        throw new TokenizerException(file, "post_processor special token '" + id + "' has no ids");
                    }
                    for (JsonNode i : ids) {
                        (before ? prefix : suffix).add(i.asInt());
                    }
                }
            }
        } else if (postType.equals("BertProcessing") || postType.equals("RobertaProcessing")) {
            prefix.add(post.path("cls").get(1).asInt());
            suffix.add(post.path("sep").get(1).asInt());
        } else if (!postType.isEmpty() && !postType.equals("ByteLevel")) {
            throw new TokenizerException(file, "post_processor '" + postType + "' is not supported by the Java"
                    + " tokenizer (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel)");
        }
        return new TokenizerJson(file, root, type, vocab, padId,
                prefix.stream().mapToInt(Integer::intValue).toArray(), suffix.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Specials around truncated content: content keeps {@code maxLength - specials} tokens. */
    int[] frame(List<Integer> content, int maxLength) {
        int room = Math.max(0, maxLength - prefixIds.length - suffixIds.length);
        int n = Math.min(room, content.size());
        int[] out = new int[prefixIds.length + n + suffixIds.length];
        System.arraycopy(prefixIds, 0, out, 0, prefixIds.length);
        for (int i = 0; i < n; i++) {
            out[prefixIds.length + i] = content.get(i);
        }
        System.arraycopy(suffixIds, 0, out, prefixIds.length + n, suffixIds.length);
        return out;
    }
}
