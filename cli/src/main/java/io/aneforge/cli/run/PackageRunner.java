package io.aneforge.cli.run;

import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.graph.Graphs;
import io.aneforge.mil.Arg;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.runtime.reference.ReferenceModel;
import io.aneforge.runtime.reference.ReferenceRuntime;
import io.aneforge.tensor.FloatTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Runs a {@code .mlpackage} on this host with the {@code reference-cpu} runtime, the way the
 * converter measures fidelity ({@link ProgramEvaluator#runtime()}): fast kernels (unless
 * {@code -Daneforge.kernels=scalar}), and FP16
 * activations for programs that compute in FP16, as on the Neural Engine. The package is read and
 * validated once; its program also tells the static sequence length.
 */
public final class PackageRunner implements AutoCloseable {

    private final Program program;
    private final RuntimeOptions options;
    private final boolean fast;
    private final String engine;
    /** Loaded on the first {@link #predict}: fidelity runs a cut program of its own ({@code SamplePrefix}) and never needs it. */
    private ReferenceModel loaded;

    private PackageRunner(Program program, RuntimeOptions options, boolean fast, String engine) {
        this.program = program;
        this.options = options;
        this.fast = fast;
        this.engine = engine;
    }

    /** Reads and validates the package; {@link io.aneforge.mlpackage.MlPackageException} names what is wrong. */
    public static PackageRunner open(Path mlpackage) {
        return open(mlpackage, 0);
    }

    /** Like {@link #open(Path)}, with {@code threads} kernel threads (0: one per core; the outputs do not depend on it). */
    public static PackageRunner open(Path mlpackage, int threads) {
        if (!Files.isDirectory(mlpackage)) {
            throw new io.aneforge.cli.UsageException("package " + mlpackage + " does not exist or is not a directory: "
                    + "pass the .mlpackage directory written by convert");
        }
        refuseDirectoryOfPackages(mlpackage);
        Program program = MlPackage.read(mlpackage);
        boolean fp16 = ProgramEvaluator.computesInFp16(program);
        boolean fast = io.aneforge.kernels.Kernels.isFast();
        return new PackageRunner(program, new RuntimeOptions("cpuOnly", fp16, threads), fast, ReferenceRuntime.ID + " " + ReferenceRuntime.VERSION
                + (fp16 ? " (fp16 activations)" : "") + (fast ? "" : " (scalar kernels)"));
    }

    /**
     * A recipe run's --out (packages, archives, variants.json) passed as the package: a usage slip with an obvious fix,
     * one of its packages, rather than "Manifest.json is missing".
     */
    private static void refuseDirectoryOfPackages(Path dir) {
        if (Files.exists(dir.resolve("Manifest.json"))) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            List<String> packages = files.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".mlpackage")).sorted().toList();
            if (!packages.isEmpty()) {
                throw new io.aneforge.cli.UsageException(dir + " is a directory of " + packages.size() + " package"
                        + (packages.size() == 1 ? "" : "s") + ", not a package: pass one of them, e.g. --package "
                        + dir.resolve(packages.get(0)));
            }
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            // unreadable: MlPackage.read reports it
        }
    }

    public Program program() {
        return program;
    }

    /** Which engine runs the predictions (recorded in eval and predict output). */
    public String engine() {
        return engine;
    }

    /** The static sequence length of the package (the second axis of {@code input_ids}). */
    public int seqLen() {
        for (Var v : program.inputs()) {
            if (v.name().equals(Graphs.INPUT_IDS) && v.type().rank() == 2) {
                return v.type().dim(1);
            }
        }
        throw new io.aneforge.cli.UsageException("the package has no (1, S) '" + Graphs.INPUT_IDS + "' input (inputs: "
                + program.inputs().stream().map(Var::name).toList() + "): only text models converted by aneforge are supported");
    }

    /**
     * How many token ids the package embeds: the rows of the table its {@code input_ids} are gathered from (the
     * model's {@code vocab_size}), or empty when no gather reads that input directly.
     */
    public OptionalInt vocabularySize() {
        for (Operation op : program.operations()) {
            List<Arg> indices = op.inputs().get("indices");
            List<Arg> table = op.inputs().get("x");
            if (op.type().equals("gather") && indices != null && table != null && indices.size() == 1 && table.size() == 1
                    && indices.get(0) instanceof Var ids && ids.name().equals(Graphs.INPUT_IDS)
                    && table.get(0) instanceof Var rows && rows.rank() > 0) {
                return OptionalInt.of(rows.type().dim(0));
            }
        }
        return OptionalInt.empty();
    }

    /**
     * Refuses a tokenizer that can emit ids the package has no embedding row for (the tokenizer of another model):
     * otherwise the runtime stops at the gather, "index 101 is out of range for axis size 90", which names neither
     * the tokenizer nor the fix. {@code tokenizerName} says where the tokenizer came from, {@code fix} what to pass.
     */
    public void checkTokenizer(io.aneforge.tokenizer.Tokenizer tokenizer, String tokenizerName, Path mlpackage, String fix) {
        OptionalInt vocab = vocabularySize();
        if (vocab.isPresent() && tokenizer.maxTokenId() >= vocab.getAsInt()) {
            throw new io.aneforge.cli.UsageException(tokenizerName + " has token ids up to " + tokenizer.maxTokenId()
                    + ", but " + mlpackage + " embeds only ids below " + vocab.getAsInt() + " (it is the tokenizer of "
                    + "another model): " + fix);
        }
    }

    public Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs) {
        return model().predict(inputs);
    }

    private synchronized ReferenceModel model() {
        if (loaded == null) {
            loaded = ReferenceRuntime.load(program, options, fast);
        }
        return loaded;
    }

    @Override
    public synchronized void close() {
        if (loaded != null) {
            loaded.close();
            loaded = null;
        }
    }
}
