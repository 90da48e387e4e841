package io.aneforge.source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A model directory laid out like a Hub snapshot: {@code config.json}, weights (see
 * {@link WeightsFormat}) and {@code tokenizer.json}.
 *
 * @param commit the 40-hex commit it was pinned to, or null for a local directory of unknown origin
 * @param weights the weights file: {@code model.safetensors}, the shard index, or {@code onnx/model.onnx}
 */
public record ModelSnapshot(Path directory, String commit, Path configJson, Path tokenizerJson,
                            WeightsFormat format, Path weights) {
    public static final String CONFIG = "config.json";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String SAFETENSORS = "model.safetensors";
    public static final String SAFETENSORS_INDEX = "model.safetensors.index.json";
    public static final String ONNX = "onnx/model.onnx";
    /** Pickle-based formats: loading them can run arbitrary code, so they are never read. */
    public static final List<String> PICKLE_SUFFIXES = List.of(".bin", ".pt", ".pth", ".ckpt", ".pkl");

    public ModelSnapshot {
        if (directory == null || configJson == null || tokenizerJson == null || format == null || weights == null) {
            throw new IllegalStateException("snapshot fields are required");
        }
        if (commit != null && !commit.matches("[0-9a-f]{40}")) {
            throw new IllegalStateException("commit must be 40 hex digits: " + commit);
        }
    }

    public Optional<String> commitSha() {
        return Optional.ofNullable(commit);
    }

    /** Validates {@code dir} as a snapshot; the commit is recorded as given (null when unknown). */
    public static ModelSnapshot of(Path dir, String commit) throws IOException {
        requireDirectory(dir);
        Path config = dir.resolve(CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new ModelSourceException(dir + ": config.json is missing; a model directory needs config.json,"
                    + " weights (model.safetensors, a sharded index, or onnx/model.onnx) and tokenizer.json");
        }
        WeightsFormat format;
        Path weights;
        if (Files.isRegularFile(dir.resolve(SAFETENSORS))) {
            format = WeightsFormat.SAFETENSORS;
            weights = dir.resolve(SAFETENSORS);
        } else if (Files.isRegularFile(dir.resolve(SAFETENSORS_INDEX))) {
            format = WeightsFormat.SHARDED_SAFETENSORS;
            weights = dir.resolve(SAFETENSORS_INDEX);
        } else if (Files.isRegularFile(dir.resolve(ONNX))) {
            format = WeightsFormat.ONNX;
            weights = dir.resolve(ONNX);
        } else {
            Optional<String> pickle = pickledFile(dir);
            if (pickle.isPresent()) {
                throw new ModelSourceException(dir + ": only pickled PyTorch weights ('" + pickle.get()
                        + "') found; pickles can execute code and are never loaded. Use a revision that has"
                        + " model.safetensors (e.g. the Hub's refs/pr/N safetensors conversion)");
            }
            throw new ModelSourceException(dir + ": no weights found; expected model.safetensors,"
                    + " model.safetensors.index.json or onnx/model.onnx");
        }
        return new ModelSnapshot(dir, commit, config, tokenizerIn(dir), format, weights);
    }

    /** The {@code tokenizer.json} of a local model directory, without requiring the rest of a snapshot. */
    public static Path tokenizerOf(Path dir) throws IOException {
        requireDirectory(dir);
        return tokenizerIn(dir);
    }

    private static void requireDirectory(Path dir) throws ModelSourceException {
    if (!Files.isDirectory(dir)) {
        throw new ModelSourceException("model source '" + dir + "' is not a directory (use a snapshot"
                + " directory or hf:org/name[@revision])" + (!Files.exists(dir) && isHubRepoId(dir)
                ? "; no such directory exists: for the Hugging Face Hub model, write hf:" + dir : ""));
    }
    }

    private static Path tokenizerIn(Path dir) throws IOException {
        Path tokenizer = dir.resolve(TOKENIZER);
        if (!Files.isRegularFile(tokenizer)) {
            List<String> slow;
            try (Stream<Path> files = Files.list(dir)) {
                slow = slowTokenizerFiles(files.map(p -> p.getFileName().toString()).toList());
            }
            throw new ModelSourceException(dir + ": tokenizer.json is missing" + missingTokenizerFix(slow,
                    "AutoTokenizer.from_pretrained(\"" + dir + "\").save_pretrained(\"" + dir + "\")"));
        }
        return tokenizer;
    }

    /**
     * Files of a "slow" (Python-only) tokenizer: many Hub repos, older BERT fine-tunes above all, ship only these.
     * The converter reads the fast tokenizer's tokenizer.json, which transformers writes from them.
     */
    static final List<String> SLOW_TOKENIZER_FILES = List.of("vocab.txt", "vocab.json", "merges.txt", "spiece.model",
            "sentencepiece.bpe.model", "tokenizer.model");

    static List<String> slowTokenizerFiles(List<String> files) {
        return SLOW_TOKENIZER_FILES.stream().filter(files::contains).toList();
    }

    /**
     * The end of a missing-tokenizer.json message: which slow tokenizer files there are, and how to write
     * tokenizer.json with transformers ({@code conversion}, the call for this source).
     */
    static String missingTokenizerFix(List<String> slowFiles, String conversion) {
        return (slowFiles.isEmpty() ? "" : " (there is only " + String.join(", ", slowFiles) + ", a slow tokenizer's"
                + " files)") + ": the converter reads the fast tokenizer's tokenizer.json; write it with transformers, "
                + conversion + ", and convert the directory that holds it with config.json and the weights";
    }

    /**
     * {@code org/name[@revision]} as Hugging Face tools take it ({@code from_pretrained}, {@code huggingface-cli}):
     * what a Hub user types for --source, where this project wants {@code hf:org/name}.
     */
    private static boolean isHubRepoId(Path dir) {
        if (dir.isAbsolute() || dir.getNameCount() != 2) {
            return false;
        }
        try {
            ModelSource.parseHubSource(ModelSource.HUB_PREFIX + dir);
            return true;
        } catch (ModelSourceException e) {
            return false;
        }
    }

    static boolean isPickle(String fileName) {
        return PICKLE_SUFFIXES.stream().anyMatch(fileName::endsWith);
    }

    private static Optional<String> pickledFile(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(ModelSnapshot::isPickle).sorted().findFirst();
        }
    }
}
