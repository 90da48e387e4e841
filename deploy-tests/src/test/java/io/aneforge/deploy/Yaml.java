package io.aneforge.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** YAML as Jackson trees: one document, or the multi-document stream `helm template` prints. */
final class Yaml {

    /** A key twice in one mapping is an error, not "the last one wins": a ConfigMap must not carry one. */
    private static final YAMLMapper MAPPER = YAMLMapper.builder()
            .enable(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private Yaml() {
    }

    static JsonNode parse(String text) {
        return MAPPER.readTree(text);
    }

    static List<JsonNode> parseAll(String text) {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = MAPPER.readerFor(JsonNode.class).readValues(text)) {
            while (it.hasNextValue()) {
                JsonNode doc = it.nextValue();
                if (doc != null && doc.isObject() && doc.size() > 0) {
                    docs.add(doc);
                }
            }
        }
        return docs;
    }

    /**
     * Flattens a tree into Spring-style keys: {@code a.b[0].c -> value}. Scalars only; an empty
     * map or list becomes a key with an empty value.
     */
    static Map<String, String> flatten(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        flatten("", node, out);
        return out;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node.isObject()) {
            if (node.size() == 0) {
                out.put(prefix, "");
            }
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (node.isArray()) {
            if (node.size() == 0) {
                out.put(prefix, "");
            }
            for (int i = 0; i < node.size(); i++) {
                flatten(prefix + "[" + i + "]", node.get(i), out);
            }
        } else {
            out.put(prefix, node.isNull() ? "" : node.asString());
        }
    }
}
