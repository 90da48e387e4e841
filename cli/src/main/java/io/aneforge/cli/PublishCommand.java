package io.aneforge.cli;

import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.registry.Registrations;
import io.aneforge.cli.registry.RegistryClient;
import io.aneforge.cli.registry.RegistryException;
import io.aneforge.source.ModelSource;
import io.aneforge.source.ModelSourceException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * {@code aneforge publish}: either upload the variants of a local {@code convert --out} directory as a
 * new version ({@code --dir}), or ask the registry to convert a Hub model on its workers
 * ({@code --source hf:... --chips ...}).
 */
@Command(name = "publish", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Publish a model version to the registry (ANEFORGE_REGISTRY_URL, token in ANEFORGE_TOKEN).",
            "--dir <convert output>: upload its archives, register the variants, publish (unless --draft).",
            "--source hf:org/name@rev --chips ...: queue a conversion on the registry's workers."})
public final class PublishCommand implements Callable<Integer> {

    @ParentCommand
    AneForge root;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "NAME", description = "Registry model name ([a-z0-9][a-z0-9._-]*).")
    String model;

    @Option(names = "--dir", paramLabel = "<dir>", description = "A convert output directory (with variants.json).")
    Path dir;

    @Option(names = "--source", paramLabel = "hf:org/name@rev", description = "Hub model for a registry-side conversion.")
    String source;

    @Option(names = "--chips", split = ",", paramLabel = "CHIP", description = "With --source: chips to convert for.")
    List<String> chips = new ArrayList<>();

    @Option(names = "--recipe", paramLabel = "NAME", description = "With --source: built-in recipe name (default: default).")
    String recipe;

    @Option(names = "--seq-len", paramLabel = "N", description = "With --source: sequence length (default 128).")
    Integer seqLen;

    @Option(names = "--task", defaultValue = "feature-extraction", paramLabel = "TASK",
            description = "Task recorded when the model is created (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = "--draft", description = "With --dir: leave the version as a draft (do not publish).")
    boolean draft;

    @Option(names = "--alias", paramLabel = "ALIAS", description = "With --dir: point this alias at the published version.")
    String alias;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Reason recorded with the alias move.")
    String reason;

    @Override
    public Integer call() {
        if ((dir == null) == (source == null)) {
            throw new UsageException("pass either --dir <convert output> (upload local variants) or --source hf:org/name "
                    + "--chips ... (convert on the registry), not " + (dir == null ? "neither" : "both"));
        }
        if (dir != null && (!chips.isEmpty() || recipe != null || seqLen != null)) {
            throw new UsageException("--chips/--recipe/--seq-len apply to --source conversions; a --dir already holds "
                    + "converted variants: drop them");
        }
        if (alias != null && (draft || source != null)) {
            throw new UsageException("--alias needs a version published now: use it with --dir and without --draft "
                    + "(move the alias later with the aliases API)");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (dir != null) {
            // Read everything local first so that a broken directory fails before the registry changes.
            VariantsManifest m = readManifest();
            RegistryClient registry = RegistryClient.fromEnvironment(root.env);
            return publishDirectory(registry, m, out);
        }
        ModelSource.HubSource hub;
        try {
            hub = ModelSource.parseHubSource(source);
        } catch (ModelSourceException e) {
            throw new UsageException("--source: " + e.getMessage());
        }
        if (chips.isEmpty()) {
            throw new UsageException("a registry-side conversion needs --chips (e.g. --chips A17_PRO,M4)");
        }
        RegistryClient registry = RegistryClient.fromEnvironment(root.env);
        ensureModel(registry, out);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("source", Map.of("type", "hub", "repo", hub.repoId(), "revision", hub.revision()));
        body.put("chips", chips);
        body.put("recipe", recipe == null ? "default" : recipe);
        body.put("seqLen", seqLen == null ? 128 : seqLen);
        JsonNode v = registry.post("/api/v1/models/" + RegistryClient.encode(model) + "/versions", body);
        int version = v.path("version").asInt();
        out.println("version " + version + " of " + model + " created from " + source + "; conversion queued for "
                + String.join(",", chips) + ". Follow it with: aneforge status --model " + model + " --version " + version);
        return AneForge.OK;
    }

    private VariantsManifest readManifest() {
        Path file = dir.resolve(VariantsManifest.FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new UsageException(dir + " has no " + VariantsManifest.FILE_NAME + ": pass the --out directory of "
                    + "aneforge convert");
        }
        VariantsManifest m = VariantsManifest.read(file);
        for (VariantEntry e : m.variants()) {
            if (!Files.isRegularFile(dir.resolve(e.archive()))) {
                throw new UsageException(dir.resolve(e.archive()) + " is missing: rerun convert into " + dir);
            }
        }
        return m;
    }

    private int publishDirectory(RegistryClient registry, VariantsManifest m, PrintWriter out) {
        ensureModel(registry, out);
        String name = RegistryClient.encode(model);
        Map<String, Object> src = new LinkedHashMap<>();
        if (ModelSource.isHubSource(m.model().source())) {
            ModelSource.HubSource hub;
            try {
                hub = ModelSource.parseHubSource(m.model().source());
            } catch (ModelSourceException e) {
                throw new IllegalStateException("variants.json holds an unparsable source: " + e.getMessage(), e);
            }
            src.put("type", "hub");
            src.put("repo", hub.repoId());
            src.put("revision", m.model().commit() != null ? m.model().commit() : hub.revision());
        } else {
            src.put("type", "upload");
        }
        JsonNode v = registry.post("/api/v1/models/" + name + "/versions", Map.of("source", src));
        int version = v.path("version").asInt();
        out.println("created draft version " + version + " of " + model);
        int n = 0;
        for (VariantEntry e : m.variants()) {
            registry.putBlob(e.sha256(), dir.resolve(e.archive()));
            registry.post("/api/v1/models/" + name + "/versions/" + version + "/variants", Registrations.of(e));
            n++;
            out.println("[" + n + "/" + m.variants().size() + "] " + e.id() + "  sha256:" + e.sha256().substring(0, 12) + "…");
            out.flush();
        }
        if (draft) {
            out.println("version " + version + " stays a draft with " + n + " variants");
            return AneForge.OK;
        }
        registry.post("/api/v1/models/" + name + "/versions/" + version + "/publish", Map.of());
        out.println("published version " + version + " of " + model + " with " + n + " variants");
        if (alias != null) {
            Map<String, Object> move = new LinkedHashMap<>();
            move.put("version", version);
            move.put("reason", reason == null ? "aneforge publish" : reason);
            registry.put("/api/v1/models/" + name + "/aliases/" + RegistryClient.encode(alias), move);
            out.println("alias " + alias + " -> version " + version);
        }
        return AneForge.OK;
    }

    private void ensureModel(RegistryClient registry, PrintWriter out) {
        String path = "/api/v1/models/" + RegistryClient.encode(model);
        try {
            registry.get(path);
        } catch (RegistryException e) {
            if (e.status() != 404) {
                throw e;
            }
            Map<String, Object> create = new LinkedHashMap<>();
            create.put("name", model);
            create.put("task", task);
            registry.post("/api/v1/models", create);
            out.println("created model " + model + " (task " + task + ")");
        }
    }
}
