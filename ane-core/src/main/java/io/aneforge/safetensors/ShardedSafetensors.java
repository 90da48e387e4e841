package io.aneforge.safetensors;

import io.aneforge.io.BoundedFiles;
import io.aneforge.tensor.FloatTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A sharded checkpoint: {@code model.safetensors.index.json} whose {@code weight_map} maps each
 * tensor to a shard file next to it. Checks that shards stay in the directory, that every
 * mapped tensor is in its shard, and that no shard holds a tensor the index does not list.
 */
public final class ShardedSafetensors implements TensorReader {
    public static final String INDEX_FILE = "model.safetensors.index.json";
    /**
     * The largest index read. Real indexes hold a shard file name per tensor and stay under 1 MB even for models
     * of thousands of tensors; 16 MiB leaves room for any of them and refuses a huge or endless file (a 3 GB
     * sparse file took 32 s to read before running out of memory) before reading it.
     */
    public static final long MAX_INDEX_BYTES = 16L << 20;
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final Map<String, SafetensorsFile> shardOf;
    private final List<SafetensorsFile> shards;

    private ShardedSafetensors(Map<String, SafetensorsFile> shardOf, List<SafetensorsFile> shards) {
        this.shardOf = shardOf;
        this.shards = shards;
    }

    public static ShardedSafetensors open(Path index) throws IOException {
        Path dir = index.toAbsolutePath().getParent();
        JsonNode root;
        try {
            root = JSON.readTree(BoundedFiles.readString(index, MAX_INDEX_BYTES));
        } catch (BoundedFiles.Refused e) {
            throw new SafetensorsException(index, null, e.notRegular() ? "index is not a regular file"
                    : "index is " + e.size() + " bytes, more than the limit of " + MAX_INDEX_BYTES
                    + " (real ones are under 1 MB: a file name per tensor): the file is damaged or not an index");
        } catch (JacksonException e) {
            throw new SafetensorsException(index, null, "index is not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new SafetensorsException(index, null, "index has no 'weight_map' object");
        }
        Map<String, String> fileOf = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isString()) {
                throw new SafetensorsException(index, e.getKey(), "weight_map value must be a file name");
            }
            String file = e.getValue().stringValue();
            Path resolved = dir.resolve(file).normalize();
            if (!resolved.getParent().equals(dir.normalize()) || !file.endsWith(".safetensors")) {
                throw new SafetensorsException(index, e.getKey(), "shard '" + file
                        + "' must be a .safetensors file in the same directory as the index");
            }
            fileOf.put(e.getKey(), file);
        }
        Map<String, SafetensorsFile> opened = new HashMap<>();
        List<SafetensorsFile> shards = new ArrayList<>();
        try {
            for (String file : new TreeSet<>(fileOf.values())) {
                Path p = dir.resolve(file);
                if (!Files.isRegularFile(p)) {
                    throw new SafetensorsException(index, null, "shard '" + file + "' listed in weight_map is missing");
                }
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.put(file, f);
                shards.add(f);
            }
            Map<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : fileOf.entrySet()) {
                SafetensorsFile f = opened.get(e.getValue());
                if (f.info(e.getKey()).isEmpty()) {
                    throw new SafetensorsException(f.path(), e.getKey(), "tensor listed in " + INDEX_FILE
                            + " is not in this shard");
                }
                shardOf.put(e.getKey(), f);
            }
            for (SafetensorsFile f : shards) {
                for (TensorInfo t : f.tensors()) {
                    if (shardOf.get(t.name()) != f) {
                        throw new SafetensorsException(f.path(), t.name(), "tensor is not mapped to this shard by "
                                + INDEX_FILE + " (duplicate across shards or unlisted)");
                    }
                }
            }
            return new ShardedSafetensors(shardOf, shards);
        } catch (IOException | RuntimeException e) {
            shards.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    @Override
    public List<TensorInfo> tensors() {
        List<TensorInfo> out = new ArrayList<>();
        for (SafetensorsFile f : shards) {
            out.addAll(f.tensors());
        }
        return out;
    }

    @Override
    public FloatTensor readFloat(String name) throws SafetensorsException {
        SafetensorsFile f = shardOf.get(name);
        if (f == null) {
            throw new SafetensorsException(shards.get(0).path().resolveSibling(INDEX_FILE), name,
                    "no such tensor in weight_map");
        }
        return f.readFloat(name);
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
