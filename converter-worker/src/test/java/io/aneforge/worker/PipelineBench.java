package io.aneforge.worker;

import io.aneforge.convert.Golden;
import io.aneforge.convert.Samples;
import io.aneforge.convert.VariantConverter;
import io.aneforge.mil.Target;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.recipe.Recipe;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * End-to-end publish→READY time for all-MiniLM-L6-v2 with the default recipe (registry, PostgreSQL,
 * embedded S3, one worker) next to the same variants built locally in this JVM: `./aneforge convert`
 * (when present at the repository root, as a process) and the in-process equivalent (import, golden,
 * every variant). Run by bench/pipeline.sh; arguments: repoRoot chips seqLen concurrency.
 */
public final class PipelineBench {

    public static void main(String[] args) throws Exception {
        Path repo = Path.of(args.length > 0 ? args[0] : ".");
        List<String> chips = List.of((args.length > 1 ? args[1] : "A17_PRO").split(","));
        int seqLen = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int concurrency = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        Stack stack = Stack.get();
        Path snapshot = MiniLmSnapshot.write(stack.root.resolve("minilm-bench"));
        ConfigurableApplicationContext worker = stack.startWorker("bench", concurrency);
        long t0 = System.nanoTime();
        JsonNode c = stack.publish("minilm-bench", Map.of("type", "local", "path", snapshot.toString()), chips, seqLen);
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(60), "succeeded", "failed");
        double pipeline = (System.nanoTime() - t0) / 1e9;
        worker.close();
        if (!done.path("state").asString().equals("succeeded")) throw new IllegalStateException("conversion failed: " + done);
        int variants = done.path("variants").size();

        Double cli = null;
        Path aneforge = repo.resolve("aneforge");
        if (Files.isExecutable(aneforge)) {
            Path out = Files.createTempDirectory("bench-convert");
            List<String> cmd = new ArrayList<>(List.of(aneforge.toString(), "convert", "--source", snapshot.toString(), "--out",
                    out.toString(), "--chips", String.join(",", chips), "--seq-len", Integer.toString(seqLen), "--force"));
            long t1 = System.nanoTime();
            int rc = new ProcessBuilder(cmd).inheritIO().start().waitFor();
            cli = (System.nanoTime() - t1) / 1e9;
            if (rc != 0) throw new IllegalStateException("./aneforge convert exited with " + rc);
        }

        long t2 = System.nanoTime();
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        try (Tokenizer tok = Tokenizer.load(snapshot.resolve("tokenizer.json"))) {
            Golden.fullLength(model, Golden.inputs(tok, Samples.fixed(), seqLen), io.aneforge.convert.ProgramEvaluator.runtime());
        }
        Path out = Files.createTempDirectory("bench-local");
        java.util.Set<String> builds = new java.util.HashSet<>();
        for (VariantSpec spec : Recipe.builtIn("default").variantsFor(chips, seqLen)) {
            if (!builds.add(spec.buildId())) continue; // another chip's variant of this build: shared, as the worker and convert do
            VariantConverter.convert(model, spec, out.resolve(spec.buildId() + ".mlpackage"), out.resolve(spec.buildId() + ".zip"));
        }
        double local = (System.nanoTime() - t2) / 1e9;

        System.out.printf(Locale.ROOT, "%nall-MiniLM-L6-v2, recipe default, chips %s, seq %d, %d variants, worker concurrency %d%n",
                chips, seqLen, variants, concurrency);
        System.out.printf(Locale.ROOT, "  publish -> READY (registry + worker):  %8.1f s%n", pipeline);
        if (cli != null) {
            System.out.printf(Locale.ROOT, "  ./aneforge convert (local process):     %8.1f s   pipeline overhead %+.0f %%%n", cli,
                    (pipeline / cli - 1) * 100);
        }
        System.out.printf(Locale.ROOT, "  in-process import+golden+variants:      %8.1f s   pipeline overhead %+.0f %%%n", local,
                (pipeline / local - 1) * 100);
        System.exit(0);
    }
}
