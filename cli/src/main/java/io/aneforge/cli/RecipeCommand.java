package io.aneforge.cli;

import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.recipe.Recipe;
import io.aneforge.variant.VariantSpec;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code aneforge recipe}: validate a recipe and show the variants it plans, without converting anything. */
@Command(name = "recipe", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Validate a recipe and list the variants it plans for the chips (nothing is converted).")
public final class RecipeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--recipe", defaultValue = "default", paramLabel = "<name|file.yaml>",
            description = "Built-in recipe name or recipe file (default: ${DEFAULT-VALUE}).")
    String recipe;

    @Option(names = "--chips", split = ",", paramLabel = "CHIP", description = "Chip ids (default: every catalog chip).")
    List<String> chips = new ArrayList<>();

    @Option(names = "--seq-len", defaultValue = "128", paramLabel = "N", description = "Sequence length (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--json", description = "Print the plan as JSON.")
    boolean json;

    @Override
    public Integer call() {
        ConvertCommand.checkMinSeqLen(seqLen);
        ChipsOption.refuseEmptyEntries(spec);
        Recipe r = Recipe.resolve(recipe);
        List<VariantSpec> specs = r.variantsFor(ChipsOption.canonical(chips), seqLen);
        PrintWriter out = spec.commandLine().getOut();
        long packages = specs.stream().map(VariantSpec::buildId).distinct().count();
        if (json) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (VariantSpec s : specs) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", s.id());
                // the package it shares with the other chips' variants of the same build (convert writes it once)
                m.put("build", s.buildId());
                m.put("chip", s.chip());
                m.put("deploymentTarget", s.target().name().toLowerCase(Locale.ROOT));
                m.put("layout", s.layout().id());
                m.put("precision", s.precision().id());
                m.put("seqLen", s.seqLen());
                m.put("attentionChunk", s.attentionChunk());
                m.put("computeUnits", r.computeUnitsFor(s));
                rows.add(m);
            }
            Map<String, Object> plan = new LinkedHashMap<>();
            plan.put("recipe", r.name());
            plan.put("source", r.source());
            plan.put("packages", packages);
            plan.put("variants", rows);
            out.println(VariantsManifest.json(plan));
            return AneForge.OK;
        }
        out.println("recipe " + r.name() + " (" + r.source() + "): " + specs.size() + " variants, " + packages
                + (packages == 1 ? " package" : " packages") + " (variants that differ only in the chip share one)");
        for (VariantSpec s : specs) {
            out.println(String.format(Locale.ROOT, "  %-42s %-8s %-6s %-8s %-20s %-34s %s", s.id(), s.chip(),
                    s.target().name().toLowerCase(Locale.ROOT), s.layout().id(), s.precision().id(), s.buildId(),
                    String.join(",", r.computeUnitsFor(s))));
        }
        return AneForge.OK;
    }
}
