package io.aneforge.cli;

import io.aneforge.cli.registry.RegistryClient;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code aneforge status}: a model's versions, or one version with its variants and conversion. */
@Command(name = "status", sortOptions = false,
        description = "Show a model's versions, or one version with its variants and its conversion's progress.")
public final class StatusCommand implements Callable<Integer> {

    @ParentCommand
    AneForge root;

    @Spec
    CommandSpec spec;

    // Not mixinStandardHelpOptions: its -V/--version would collide with this command's --version N.
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--model", required = true, paramLabel = "NAME")
    String model;

    @Option(names = "--version", paramLabel = "N", description = "One version (default: list the versions).")
    Integer version;

    @Option(names = "--json", description = "Print the registry's JSON.")
    boolean json;

    @Override
    public Integer call() {
        io.aneforge.cli.registry.RegistryNames.model(model);
        RegistryClient registry = RegistryClient.fromEnvironment(root.env);
        PrintWriter out = spec.commandLine().getOut();
        String name = "/api/v1/models/" + RegistryClient.encode(model);
        if (version == null) {
            JsonNode m = registry.get(name);
            JsonNode versions = registry.get(name + "/versions");
            if (json) {
                Map<String, Object> all = new LinkedHashMap<>();
                all.put("model", m);
                all.put("versions", versions);
                out.println(io.aneforge.cli.manifest.VariantsManifest.json(all));
                return AneForge.OK;
            }
            out.println(model + " (" + m.path("task").asString("") + "): " + versions.size() + " versions");
            for (JsonNode v : versions) {
                out.println("  v" + v.path("version").asInt() + "  " + v.path("status").asString("") + "  " + source(v.path("source")));
            }
            return AneForge.OK;
        }
        String path = name + "/versions/" + version;
        JsonNode v = registry.get(path);
        JsonNode variants = registry.get(path + "/variants");
        Optional<JsonNode> conversion = registry.find(path + "/conversion");
        if (json) {
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("version", v);
            all.put("variants", variants);
            all.put("conversion", conversion.orElse(null));
            out.println(io.aneforge.cli.manifest.VariantsManifest.json(all));
            return AneForge.OK;
        }
        out.println(model + " v" + version + "  " + v.path("status").asString("") + "  " + source(v.path("source")));
        JsonNode unchecked = v.path("publishedWithoutGoldenData");
        if (unchecked.isObject()) {
            out.println("published without golden data by " + unchecked.path("by").asString("") + ": "
                    + unchecked.path("reason").asString("") + " (accuracy not checked, nothing benchmarked)");
        }
        conversion.ifPresent(c -> {
            out.println("conversion " + c.path("id").asLong() + ": " + c.path("state").asString("")
                    + (c.path("step").isMissingNode() || c.path("step").isNull() ? "" : " (" + c.path("step").asString() + ")")
                    + (c.path("error").isNull() || c.path("error").isMissingNode() ? "" : " error: " + c.path("error").asString()));
            for (JsonNode p : c.path("variants")) {
                out.println("  " + p.path("specId").asString("") + "  " + p.path("state").asString("")
                        + (p.path("error").isNull() || p.path("error").isMissingNode() ? "" : "  " + p.path("error").asString()));
            }
        });
        out.println(variants.size() + " variants");
        for (JsonNode x : variants) {
            out.println("  #" + x.path("id").asLong() + "  " + x.path("chip").asString("") + "  ios " + x.path("deploymentTarget").asString("")
                    + "  " + x.path("layout").asString("") + "  " + x.path("precision").asString("")
                    + ResolveCommand.blockAndMode(x)
                    + "  seq " + x.path("seqLen").asInt() + "  " + x.path("status").asString("") + "  " + x.path("digest").asString(""));
        }
        return AneForge.OK;
    }

    static String source(JsonNode s) {
        String type = s.path("type").asString("");
        if (type.equals("hub")) {
            String commit = s.path("commit").isNull() ? null : s.path("commit").asString(null);
            return "hf:" + s.path("repo").asString("") + "@" + (commit != null ? commit : s.path("revision").asString(""));
        }
        return type;
    }
}
