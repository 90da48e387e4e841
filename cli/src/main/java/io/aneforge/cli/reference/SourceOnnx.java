package io.aneforge.cli.reference;

import io.aneforge.cli.convert.SourceModel;
import io.aneforge.hub.HubClient;
import io.aneforge.io.IoProblems;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.source.ModelSource;
import io.aneforge.source.ModelSourceException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The source's original ONNX model, {@code onnx/model.onnx}, which ONNX Runtime runs for {@code --reference
 * onnxruntime} ({@code eval} and {@code convert} alike): of the source directory, or of an {@code hf:} source's
 * pinned commit, downloaded now when the repo has it (conversion downloads only the preferred weights: safetensors
 * when the repo has both).
 */
public final class SourceOnnx {

    private SourceOnnx() {
    }

    /**
     * @param source    the {@code --source} as given
     * @param otherwise the other way out a refusal names after "pass a --source that ships onnx/model.onnx, or "
     *                  ({@code eval}: {@code --reference fp32-graph}; {@code convert}: drop the option)
     * @throws ReferenceException usage (exit 2) when the source has no such file or the Hub source is wrong, not
     *     usage (exit 1) when the download fails
     */
    public static Path of(String source, SourceModel model, Map<String, String> env, String otherwise) {
        ModelSnapshot snapshot = model.snapshot();
        String file = ModelSnapshot.ONNX;
        Path onnx = snapshot.directory().resolve(file);
        if (Files.isRegularFile(onnx)) {
            return onnx;
        }
        if (ModelSource.isHubSource(source) && snapshot.commitSha().isPresent()) {
            String commit = snapshot.commitSha().get();
            try {
                String repo = ModelSource.parseHubSource(source).repoId();
                HubClient hub = SourceModel.hub(source, env);
                if (hub.modelInfo(repo, commit).files().contains(file)) {
                    return hub.download(repo, commit, file);
                }
                throw new ReferenceException("--reference onnxruntime needs the ONNX model of --source, but " + repo
                        + "@" + commit + " has no " + file + ": pass a --source that ships " + file + ", or "
                        + otherwise, true, null);
            } catch (ModelSourceException e) {
                throw new ReferenceException("--source: " + e.getMessage(), true, e);
            } catch (IOException | UncheckedIOException e) {
                throw new ReferenceException("cannot fetch " + file + " of '" + source + "': " + IoProblems.describe(e),
                        false, e);
            }
        }
        throw new ReferenceException("--reference onnxruntime needs the ONNX model of --source, but "
                + snapshot.directory() + " has no " + file + " (its weights are "
                + snapshot.directory().relativize(snapshot.weights()) + "): pass a --source that ships " + file
                + ", or " + otherwise, true, null);
    }
}
