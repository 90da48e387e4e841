package io.aneforge.cli;

import io.aneforge.cli.convert.RecipeConversion;
import io.aneforge.cli.registry.RegistryClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code aneforge resolve}: which variant the registry serves to a device. */
@Command(name = "resolve", sortOptions = false,
        description = "Ask the registry which variant a device gets.")
public final class ResolveCommand implements Callable<Integer> {

    @ParentCommand
    AneForge root;

    @Spec
    CommandSpec spec;

    // Not mixinStandardHelpOptions: its -V/--version would collide with this command's --version N.
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Mixin
    ResolveOptions select;

    @Option(names = "--json", description = "Print the registry's answer as JSON.")
    boolean json;

    @Override
    public Integer call() {
        String path = select.path();
        JsonNode r = RegistryClient.fromEnvironment(root.env).get(path);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(io.aneforge.cli.manifest.VariantsManifest.json(r));
        } else {
            out.println(describe(r));
        }
        return AneForge.OK;
    }

    /**
     * {@code /32}, {@code /32/affine}, {@code /32/affine-mse}, {@code /32/affine-ffn8} or empty: the block size and a non-default
     * quantization of a variant node (symmetric, or none from a registry older than V5, is the default). Without a block
     * size, {@code -affine} for w8a8's affine activations (V35), so the precision reads {@code w8a8-affine} as in convert.
     */
    static String blockAndMode(JsonNode v) {
        JsonNode q = v.path("quantization");
        String mode = q.isNull() || q.isMissingNode() ? "" : q.asString("");
        if (v.path("blockSize").isNull() || v.path("blockSize").isMissingNode()) return mode.isEmpty() ? "" : "-" + mode;
        return "/" + v.path("blockSize").asInt() + (mode.isEmpty() || mode.equals("symmetric") ? "" : "/" + mode);
    }

    /**
     * {@code minilm v3 (alias production): M2 ios 18.0 ane int8/32 seq 128, fallback from M4; sha256:… 21.7 MiB; url};
     * an affine block-wise variant shows as {@code int8/32/affine}.
     */
    static String describe(JsonNode r) {
        JsonNode v = r.path("variant");
        String alias = r.path("alias").isNull() || r.path("alias").isMissingNode() ? "" : " (alias " + r.path("alias").asString() + ")";
        String block = blockAndMode(v);
        return r.path("model").asString("") + " v" + r.path("version").asInt() + alias + ": " + v.path("chip").asString("")
                + " ios " + v.path("deploymentTarget").asString("") + " " + v.path("layout").asString("") + " "
                + v.path("precision").asString("") + block + " seq " + v.path("seqLen").asInt()
                + (r.path("fallback").asBoolean(false) ? ", fallback for " + r.path("requestedChip").asString("") : "")
                + "; " + r.path("digest").asString("") + " " + RecipeConversion.humanBytes(r.path("size").asLong())
                + "; " + r.path("url").asString("");
    }
}
