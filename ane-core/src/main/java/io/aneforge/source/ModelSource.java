package io.aneforge.source;

import io.aneforge.hub.HubCache;
import io.aneforge.hub.HubClient;
import io.aneforge.hub.RepoInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves a model source string to a {@link ModelSnapshot}: either a local snapshot directory
 * or {@code hf:org/name[@revision]} (default revision {@code main}), which is pinned to the
 * revision's commit and downloaded (only the files conversion needs) through the {@link HubClient}.
 */
public final class ModelSource {
    public static final String HUB_PREFIX = "hf:";
    /** {@code hf:} then the repo id, optionally {@code @revision}; both are then checked by the Hub cache's rules. */
    private static final Pattern HUB_SOURCE = Pattern.compile("hf:([^@]*)(?:@(.*))?");

    private ModelSource() {
    }

    /** A parsed {@code hf:} source. */
    public record HubSource(String repoId, String revision) {
    }

    public static boolean isHubSource(String source) {
        return source.startsWith(HUB_PREFIX);
    }

    /**
     * Splits {@code hf:org/name[@revision]} and checks both parts as the Hub would ({@link HubCache#repoIdProblem},
     * {@link HubCache#revisionProblem}): the revision names a file under the cache's {@code refs/}, so a revision
     * such as {@code /tmp/x} or {@code ../x} is refused here, whoever built the string (the CLI's --source, the
     * converter worker from a registry version's repo and revision).
     */
    public static HubSource parseHubSource(String source) throws ModelSourceException {
        Matcher m = HUB_SOURCE.matcher(source);
        String usage = "expected hf:org/name or hf:org/name@revision (branch, tag, refs/pr/N or commit)";
        if (!m.matches()) {
            throw new ModelSourceException("invalid model source '" + source + "': " + usage);
        }
        String revision = m.group(2) == null ? "main" : m.group(2);
        String problem = HubCache.repoIdProblem(m.group(1));
        if (problem == null) {
            problem = HubCache.revisionProblem(revision);
        }
        if (problem != null) {
            throw new ModelSourceException("invalid model source '" + source + "': " + problem);
        }
        return new HubSource(m.group(1), revision);
    }

    /** Opens a local directory, or downloads {@code hf:org/name[@revision]} with {@code hub}. */
    public static ModelSnapshot open(String sourceOrPath, HubClient hub) throws IOException {
        if (!isHubSource(sourceOrPath)) {
            return ModelSnapshot.of(Path.of(sourceOrPath), null);
        }
        HubSource src = parseHubSource(sourceOrPath);
        if (hub == null) {
            throw new ModelSourceException("model source '" + sourceOrPath + "' needs a Hub client"
                    + " (HubClient.fromEnvironment())");
        }
        RepoInfo info = hub.modelInfo(src.repoId(), src.revision());
        for (String file : filesToFetch(src, info)) {
            hub.download(src.repoId(), info.commit(), file);
        }
        Path dir = hub.snapshotDir(src.repoId(), info.commit());
        return ModelSnapshot.of(dir, info.commit());
    }

    /**
     * Only the {@code tokenizer.json} of a source (what {@code predict --source} needs): a local directory's, checked
     * to exist, or an {@code hf:} repo's, downloaded alone (not the weights, which {@link #open} fetches: 90 MB for
     * MiniLM and gigabytes for larger models, only to tokenize a text).
     */
    public static Path tokenizer(String sourceOrPath, HubClient hub) throws IOException {
        if (!isHubSource(sourceOrPath)) {
            return ModelSnapshot.tokenizerOf(Path.of(sourceOrPath));
        }
        HubSource src = parseHubSource(sourceOrPath);
        if (hub == null) {
            throw new ModelSourceException("model source '" + sourceOrPath + "' needs a Hub client"
                    + " (HubClient.fromEnvironment())");
        }
        RepoInfo info = hub.modelInfo(src.repoId(), src.revision());
        if (!info.files().contains(ModelSnapshot.TOKENIZER)) {
            throw new ModelSourceException(src.repoId() + "@" + info.commit() + " has no tokenizer.json"
                    + ModelSnapshot.missingTokenizerFix(ModelSnapshot.slowTokenizerFiles(info.files()),
                    "AutoTokenizer.from_pretrained(\"" + src.repoId() + "\", revision=\"" + info.commit()
                    + "\").save_pretrained(\"<dir>\")"));
        }
        return hub.download(src.repoId(), info.commit(), ModelSnapshot.TOKENIZER);
    }

    /** config + tokenizer + the preferred weights (safetensors, then shards, then ONNX); never pickles. */
    static List<String> filesToFetch(HubSource src, RepoInfo info) throws ModelSourceException {
        List<String> files = info.files();
        String where = src.repoId() + "@" + info.commit();
        List<String> out = new ArrayList<>();
        for (String required : List.of(ModelSnapshot.CONFIG, ModelSnapshot.TOKENIZER)) {
            if (!files.contains(required)) {
                throw new ModelSourceException(where + " has no " + required + "; a convertible repo needs"
                        + " config.json, tokenizer.json and safetensors or ONNX weights"
                        + (required.equals(ModelSnapshot.TOKENIZER) && files.contains(ModelSnapshot.CONFIG)
                        ? ModelSnapshot.missingTokenizerFix(ModelSnapshot.slowTokenizerFiles(files),
                                "AutoTokenizer.from_pretrained(\"" + src.repoId() + "\", revision=\"" + info.commit()
                                + "\").save_pretrained(\"<dir>\")") : ""));
            }
            out.add(required);
        }
        if (files.contains(ModelSnapshot.SAFETENSORS)) {
            out.add(ModelSnapshot.SAFETENSORS);
        } else if (files.contains(ModelSnapshot.SAFETENSORS_INDEX)) {
            out.add(ModelSnapshot.SAFETENSORS_INDEX);
            for (String f : files) {
                if (!f.contains("/") && f.startsWith("model-") && f.endsWith(".safetensors")) {
                    out.add(f);
                }
            }
        } else if (files.contains(ModelSnapshot.ONNX)) {
            out.add(ModelSnapshot.ONNX);
        } else if (files.stream().anyMatch(ModelSnapshot::isPickle)) {
            throw new ModelSourceException(where + " only has pickled PyTorch weights ("
                    + files.stream().filter(ModelSnapshot::isPickle).toList() + "); pickles can execute code and are"
                    + " never loaded. Use a revision with model.safetensors, e.g. hf:" + src.repoId()
                    + "@refs/pr/N from the Hub's safetensors conversion bot");
        } else {
            throw new ModelSourceException(where + " has no model.safetensors, sharded safetensors or onnx/model.onnx");
        }
        return out;
    }
}
