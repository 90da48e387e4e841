package io.aneforge.mlpackage;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * {@code Manifest.json} of a package: format version {@code "1.0.0"}, the root model
 * identifier and the item entries. Identifiers are name-based UUIDs of the items' content
 * ({@link #forProgram}), so the same model always gets the same manifest.
 */
public record Manifest(String rootModelIdentifier, Map<String, Item> items) {
    public static final String FILE_FORMAT_VERSION = "1.0.0";
    public static final String AUTHOR = "com.apple.CoreML";
    public static final String MODEL_NAME = "model.mlmodel";
    public static final String MODEL_DESCRIPTION = "CoreML Model Specification";
    public static final String WEIGHTS_NAME = "weights";
    public static final String WEIGHTS_DESCRIPTION = "CoreML Model Weights";
    /**
     * The root model item's path (relative to {@code Data/}) in every Core ML package: coremltools writes no other,
     * and only a file of this name is held to the reader's model bound while a package is unzipped.
     */
    public static final String ROOT_MODEL_PATH = AUTHOR + "/" + MODEL_NAME;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** One item entry; {@code path} is relative to {@code Data/}. */
    public record Item(String author, String description, String name, String path) {
    }

    public Manifest {
        items = new TreeMap<>(items);
    }

    /**
     * The two-item manifest of an ML Program package, with ids derived from the content: the model's from
     * the sha256 of {@code model.mlmodel}; the weights' from that sha256 (the program places every blob),
     * the size and the CRC-32 of {@code weight.bin}. Core ML uses the ids only to find the items within
     * the package (coremltools makes them random); deriving them from content keeps packages
     * reproducible, and the archive's sha256 identifies the artifact. A sha256 of {@code weight.bin} for
     * this would hash every weight byte a second time (7 % of a default MiniLM convert's CPU).
     */
    public static Manifest forProgram(String modelSha256, long weightBytes, long weightCrc32) {
        String modelId = UUID.nameUUIDFromBytes(("model.mlmodel:" + modelSha256).getBytes(StandardCharsets.UTF_8)).toString();
        String weightsId = UUID.nameUUIDFromBytes(("weights:" + modelSha256 + ":" + weightBytes + ":"
                + Long.toHexString(weightCrc32)).getBytes(StandardCharsets.UTF_8)).toString();
        return new Manifest(modelId, Map.of(
                modelId, new Item(AUTHOR, MODEL_DESCRIPTION, MODEL_NAME, AUTHOR + "/" + MODEL_NAME),
                weightsId, new Item(AUTHOR, WEIGHTS_DESCRIPTION, WEIGHTS_NAME, AUTHOR + "/" + WEIGHTS_NAME)));
    }

    public Item rootModel() {
        return items.get(rootModelIdentifier);
    }

    /** The weights item (author com.apple.CoreML, name weights), or null. */
    public Item weights() {
        return items.values().stream().filter(i -> AUTHOR.equals(i.author()) && WEIGHTS_NAME.equals(i.name())).findFirst().orElse(null);
    }

    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("fileFormatVersion", FILE_FORMAT_VERSION);
        ObjectNode entries = root.putObject("itemInfoEntries");
        items.forEach((id, item) -> {
            ObjectNode e = entries.putObject(id);
            e.put("author", item.author());
            e.put("description", item.description());
            e.put("name", item.name());
            e.put("path", item.path());
        });
        root.put("rootModelIdentifier", rootModelIdentifier);
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    }

    /**
     * The path {@code json}'s root model item names, read without any other check: empty unless {@code json} is an
     * object whose {@code rootModelIdentifier} is a string naming an item entry with a string {@code path}. For the
     * unzip, which looks at the root model before unpacking; a manifest this cannot read is refused by
     * {@link #parse} with its own words.
     */
    static Optional<String> rootModelPath(byte[] json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
        return root == null ? Optional.empty() : rootModelPath(root);
    }

    /**
     * The one reading of a manifest's root model, for {@link #parse} and the unzip's look before unpacking alike, so
     * the two cannot see different models: {@code rootModelIdentifier} must be a string (Core ML's ids are; a number
     * is not taken as its text) naming an item entry whose {@code path} is a string.
     */
    private static Optional<String> rootModelPath(JsonNode root) {
        JsonNode id = root.path("rootModelIdentifier");
        if (!id.isString()) {
            return Optional.empty();
        }
        JsonNode path = root.path("itemInfoEntries").path(id.asString()).path("path");
        return path.isString() ? Optional.of(path.asString()) : Optional.empty();
    }

    /** Parses and checks a manifest; {@code file} names it in messages. */
    public static Manifest parse(byte[] json, String file) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (tools.jackson.core.JacksonException e) { // its own message adds a second line, "at [Source: ...]"
            throw new MlPackageException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (RuntimeException e) {
            throw new MlPackageException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        String version = root.path("fileFormatVersion").asString("");
        if (!FILE_FORMAT_VERSION.equals(version)) {
            throw new MlPackageException(file + ": fileFormatVersion is '" + version + "', expected '" + FILE_FORMAT_VERSION + "'");
        }
        JsonNode entries = root.path("itemInfoEntries");
        if (!entries.isObject()) {
            throw new MlPackageException(file + ": itemInfoEntries is missing");
        }
        Map<String, Item> items = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : entries.properties()) {
            JsonNode n = e.getValue();
            for (String f : new String[]{"author", "description", "name", "path"}) {
                if (!n.path(f).isString()) {
                    throw new MlPackageException(file + ": item " + e.getKey() + " lacks the required field '" + f + "'");
                }
            }
            items.put(e.getKey(), new Item(n.get("author").asString(), n.get("description").asString(), n.get("name").asString(),
                    n.get("path").asString()));
        }
        JsonNode rootId = root.path("rootModelIdentifier");
        if (!rootId.isString()) {
            throw new MlPackageException(file + ": rootModelIdentifier is " + (rootId.isMissingNode() ? "missing" : rootId.toString())
                    + ", not a string: it must be the id (a string) of one of the item entries " + items.keySet());
        }
        if (rootModelPath(root).isEmpty()) {
            throw new MlPackageException(file + ": rootModelIdentifier '" + rootId.asString() + "' is not one of the item entries "
                    + items.keySet());
        }
        Manifest m = new Manifest(rootId.asString(), items);
        if (m.weights() == null) {
            throw new MlPackageException(file + " has no weights item (author " + AUTHOR + ", name " + WEIGHTS_NAME
                    + ", path " + AUTHOR + "/" + WEIGHTS_NAME + "); Core ML cannot find weight.bin without it - add the item");
        }
        return m;
    }
}
