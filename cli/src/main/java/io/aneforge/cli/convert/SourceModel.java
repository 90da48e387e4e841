package io.aneforge.cli.convert;

import io.aneforge.cli.CommandFailure;
import io.aneforge.hub.HttpHubClient;
import io.aneforge.hub.HubClient;
import io.aneforge.hub.HubConfig;
import io.aneforge.io.IoProblems;
import io.aneforge.model.HeadChoice;
import io.aneforge.model.AbsentHeadException;
import io.aneforge.model.HeadChoiceException;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.MissingHeadTensorsException;
import io.aneforge.model.ModelImportException;
import io.aneforge.model.ModelImporter;
import io.aneforge.onnx.OnnxFormatException;
import io.aneforge.safetensors.SafetensorsException;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.source.ModelSource;
import io.aneforge.source.ModelSourceException;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.tokenizer.TokenizerException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A {@code --source} opened for conversion: the snapshot (downloaded when it is {@code hf:}), the
 * imported FP32 weights and the tokenizer. The tokenizer loads on a thread of its own while the
 * weights import (20 ms of a warm default convert's serial start otherwise); {@link #open} waits for
 * it and checks that its ids fit the model's vocabulary, so a source whose config, weights or
 * tokenizer is unusable is refused before anything is written.
 */
public final class SourceModel implements AutoCloseable {

    private final String source;
    private final ModelSnapshot snapshot;
    /** Not final: {@link #takeTokenTypes} replaces it once, before anything reads it concurrently. */
    private ImportedModel model;
    private final java.util.concurrent.CompletableFuture<Tokenizer> tokenizer;

    private SourceModel(String source, ModelSnapshot snapshot, ImportedModel model,
                        java.util.concurrent.CompletableFuture<Tokenizer> tokenizer) {
        this.source = source;
        this.snapshot = snapshot;
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * Opens a local snapshot directory or {@code hf:org/name[@revision]} (Hub settings from the
     * environment: {@code HF_TOKEN}, {@code HF_HOME}, {@code HF_HUB_OFFLINE}, ...), imports its weights and
     * loads its tokenizer.
     *
     * @throws ModelSourceException when the source is not a usable model (user error): the snapshot is
     *     incomplete, config.json or the weights break a rule of their format or of a supported
     *     architecture, or tokenizer.json cannot be loaded or has ids beyond the model's vocab_size; the
     *     message names the file, the problem and the fix
     */
    public static SourceModel open(String source, Map<String, String> env) throws ModelSourceException {
        return open(source, env, HeadChoice.DEFAULT);
    }

    /**
     * Like {@link #open(String, Map)}, importing the task head {@code head} picks ({@code convert --head}; the
     * checkpoint's other heads are dropped and named). A choice the config does not allow (two head kinds without a
     * choice, a kind it does not name) is a {@link ModelSourceException} naming the {@code --head} values to pass, one
     * the weights do not allow (the next-sentence head of a masked LM) one naming the missing tensors; either has the
     * importer's exception as its cause.
     */
    public static SourceModel open(String source, Map<String, String> env, HeadChoice head)
            throws ModelSourceException {
        ModelSnapshot snapshot;
        try {
            snapshot = ModelSource.open(source, hub(source, env));
        } catch (ModelSourceException e) {
            throw e;
        } catch (IOException | UncheckedIOException e) {
            throw new CommandFailure("cannot fetch model source '" + source + "': " + IoProblems.describe(e), e);
        }
        java.util.concurrent.CompletableFuture<Tokenizer> tokenizer = new java.util.concurrent.CompletableFuture<>();
        Thread loader = new Thread(() -> {
            try {
                tokenizer.complete(Tokenizer.load(snapshot.tokenizerJson()));
            } catch (IOException | RuntimeException | Error e) {
                tokenizer.completeExceptionally(e);
            }
        }, "aneforge-tokenizer");
        loader.setDaemon(true);
        loader.start();
        ImportedModel model;
        try {
            model = ModelImporter.importWeights(snapshot, head);
        } catch (HeadChoiceException | MissingHeadTensorsException | AbsentHeadException e) {
            // the model files may be fine: the message names the choice's ways out, and the cause lets eval reword them
            tokenizer.thenAccept(Tokenizer::close);
            throw new ModelSourceException(e.getMessage(), e);
        } catch (ModelImportException | SafetensorsException | OnnxFormatException e) {
            tokenizer.thenAccept(Tokenizer::close); // not handed out: closed once loaded
            throw new ModelSourceException(e.getMessage() + ": fix the model files or pass another --source");
        } catch (IOException e) {
            tokenizer.thenAccept(Tokenizer::close);
            throw new CommandFailure("cannot import the weights of '" + source + "': " + IoProblems.describe(e), e);
        } catch (RuntimeException | Error e) {
            tokenizer.thenAccept(Tokenizer::close);
            throw e;
        }
        Path tokenizerJson = snapshot.tokenizerJson();
        Tokenizer tok;
        try {
            tok = tokenizer.join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof Error err) {
                throw err;
            }
            throw new ModelSourceException("cannot load " + (cause instanceof TokenizerException ? cause.getMessage()
                    : tokenizerJson + ": " + IoProblems.describe(cause, tokenizerJson))
                    + ": fix tokenizer.json or pass a --source whose tokenizer.json loads");
        }
        SourceModel opened = new SourceModel(source, snapshot, model, tokenizer);
        int vocab = model.config().vocabSize();
        if (tok.maxTokenId() >= vocab) {
            opened.close();
            throw new ModelSourceException(tokenizerJson + " has token ids up to " + tok.maxTokenId()
                    + ", but the model embeds only ids below " + vocab + " (vocab_size in config.json): use the "
                    + "tokenizer.json that belongs to these weights");
        }
        return opened;
    }

    /** The Hub client for an {@code hf:} source (settings from {@code env}), null for a local directory. */
    public static HubClient hub(String source, Map<String, String> env) {
        return ModelSource.isHubSource(source) ? new HttpHubClient(HubConfig.fromEnvironment(env)) : null;
    }

    public String source() {
        return source;
    }

    public ModelSnapshot snapshot() {
        return snapshot;
    }

    public ImportedModel model() {
        return model;
    }

    /**
     * Gives the programs a {@code token_type_ids} input ({@code convert --token-types}, or {@code eval} of a package
     * that has one). Call it right after {@link #open}, before the model is shared.
     *
     * @throws IllegalArgumentException when the model has no second segment (the message names why)
     */
    public void takeTokenTypes() {
        model = model.withTokenTypeInput();
    }

    /** The tokenizer, once loaded ({@link #open} has checked that it loads). */
    public Tokenizer tokenizer() {
        try {
            return tokenizer.join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw new CommandFailure("cannot load " + snapshot.tokenizerJson() + ": " + IoProblems.describe(io), io);
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    @Override
    public void close() {
        tokenizer.thenAccept(Tokenizer::close); // now, or when a load still under way ends
    }
}
