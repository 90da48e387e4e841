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
 * imported FP32 weights and the tokenizer.
 */
public final class SourceModel implements AutoCloseable {

    private final String source;
    private final ModelSnapshot snapshot;
    private final ImportedModel model;
    private final Tokenizer tokenizer;

    private SourceModel(String source, ModelSnapshot snapshot, ImportedModel model, Tokenizer tokenizer) {
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
        ImportedModel model;
        try {
            model = ModelImporter.importWeights(snapshot);
        } catch (IOException e) {
            throw new CommandFailure("cannot import the weights of '" + source + "': " + e.getMessage(), e);
        }
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizer.load(snapshot.tokenizerJson());
        } catch (IOException e) {
            throw new CommandFailure("cannot load " + snapshot.tokenizerJson() + ": " + e.getMessage(), e);
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

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
