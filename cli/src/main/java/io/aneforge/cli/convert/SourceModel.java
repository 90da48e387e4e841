package io.aneforge.cli.convert;

import io.aneforge.cli.CommandFailure;
import io.aneforge.hub.HttpHubClient;
import io.aneforge.hub.HubClient;
import io.aneforge.hub.HubConfig;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.source.ModelSource;
import io.aneforge.source.ModelSourceException;
import io.aneforge.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * A {@code --source} opened for conversion: the snapshot (downloaded when it is {@code hf:}), the
 * imported FP32 weights and the tokenizer. The tokenizer loads on a thread of its own while the
 * weights import (20 ms of a warm default convert's serial start otherwise), and {@link #tokenizer()}
 * waits for it: {@code convert} starts building variants before it needs the tokenizer.
 */
public final class SourceModel implements AutoCloseable {

    private final String source;
    private final ModelSnapshot snapshot;
    private final ImportedModel model;
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
     * environment: {@code HF_TOKEN}, {@code HF_HOME}, {@code HF_HUB_OFFLINE}, ...).
     *
     * @throws ModelSourceException when the source is not a usable model (user error)
     */
    public static SourceModel open(String source, Map<String, String> env) throws ModelSourceException {
        ModelSnapshot snapshot;
        try {
            snapshot = ModelSource.open(source, hub(source, env));
        } catch (ModelSourceException e) {
            throw e;
        } catch (IOException | UncheckedIOException e) {
            throw new CommandFailure("cannot fetch model source '" + source + "': " + e.getMessage(), e);
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
            model = ModelImporter.importWeights(snapshot);
        } catch (IOException e) {
            tokenizer.thenAccept(Tokenizer::close); // not handed out: closed once loaded
            throw new CommandFailure("cannot import the weights of '" + source + "': " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            tokenizer.thenAccept(Tokenizer::close);
            throw e;
        }
        return new SourceModel(source, snapshot, model, tokenizer);
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

    /** The tokenizer, once loaded; a tokenizer.json that cannot be loaded fails here ({@link CommandFailure}). */
    public Tokenizer tokenizer() {
        try {
            return tokenizer.join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw new CommandFailure("cannot load " + snapshot.tokenizerJson() + ": " + io.getMessage(), io);
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
