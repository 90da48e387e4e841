package io.aneforge.recipe;

import java.util.HashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * A parsed YAML document plus the line of every node, so that recipe errors can say
 * {@code my.yaml line 12 (variants[2].precision)}: Jackson's tree nodes carry no locations, so a
 * second streaming pass records the line of each JSON pointer.
 */
final class YamlDocument {

    private static final YAMLMapper MAPPER = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final String source;
    private final JsonNode root;
    private final Map<String, Integer> lines;

    private YamlDocument(String source, JsonNode root, Map<String, Integer> lines) {
        this.source = source;
        this.root = root;
        this.lines = lines;
    }

    static YamlDocument parse(String yaml, String source) {
        JsonNode root;
        Map<String, Integer> lines = new HashMap<>();
        try {
            root = MAPPER.readTree(yaml);
            try (JsonParser p = MAPPER.createParser(yaml)) {
                for (JsonToken t; (t = p.nextToken()) != null; ) {
                    String pointer = p.streamReadContext().pathAsPointer().toString();
                    if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                        // The new child context has no entry yet: record the node itself via its parent.
                        pointer = p.streamReadContext().getParent() == null ? ""
                                : p.streamReadContext().getParent().pathAsPointer().toString();
                    }
                    lines.putIfAbsent(pointer, p.currentTokenLocation().getLineNr());
                }
            }
        } catch (JacksonException e) {
            int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
            String at = source + (line > 0 ? " line " + line : "");
            String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
            if (original.startsWith("Duplicate Object property ")) {
                throw new RecipeException(at + ": field " + original.substring("Duplicate Object property ".length())
                        + " is written twice in one mapping: keep one");
            }
            throw new RecipeException(source + (line > 0 ? " line " + line : "") + ": not valid YAML ("
                    + oneLine(e.getOriginalMessage()) + "): fix the syntax");
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new RecipeException(source + ": the recipe is empty: write at least a 'variants:' list");
        }
        return new YamlDocument(source, root, lines);
    }

    /**
     * SnakeYAML messages span several lines (context, "in reader" marks, the source line and a caret);
     * keep the prose lines so that the error stays on one line.
     */
    static String oneLine(String message) {
        StringBuilder b = new StringBuilder();
        for (String line : message.split("\\R")) {
            if (line.isBlank() || Character.isWhitespace(line.charAt(0))) {
                continue;
            }
            if (b.length() > 0) {
                b.append(": ");
            }
            b.append(line.trim());
        }
        return b.length() == 0 ? message.trim() : b.toString();
    }

    JsonNode root() {
        return root;
    }

    /**
     * Where a node is, for messages: {@code source line N (variants[2].precision)}; the path is a JSON
     * pointer ({@code /variants/2/precision}).
     */
    String where(String pointer) {
        Integer line = lines.get(pointer);
        if (line == null) {
            // A missing field: point at its parent.
            int cut = pointer.lastIndexOf('/');
            line = cut > 0 ? lines.get(pointer.substring(0, cut)) : null;
        }
        String field = display(pointer);
        return source + (line != null && line > 0 ? " line " + line : "") + (field.isEmpty() ? "" : " (" + field + ")");
    }

    /** {@code /variants/2/precision} becomes {@code variants[2].precision}. */
    static String display(String pointer) {
        StringBuilder b = new StringBuilder();
        for (String part : pointer.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            if (part.chars().allMatch(Character::isDigit)) {
                b.append('[').append(part).append(']');
            } else {
                if (b.length() > 0) {
                    b.append('.');
                }
                b.append(part.replace("~1", "/").replace("~0", "~"));
            }
        }
        return b.toString();
    }
}
