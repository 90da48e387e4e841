package io.aneforge.cli.run;

import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.graph.Graphs;
import io.aneforge.mil.Program;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.kernels.Kernels;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.runtime.reference.ReferenceModel;
import io.aneforge.runtime.reference.ReferenceRuntime;
import io.aneforge.tensor.FloatTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Runs a {@code .mlpackage} on this host with the {@code reference-cpu} runtime (fast kernels unless
 * {@code -Daneforge.kernels=scalar}). The package is read and validated once; its program also tells
 * the static sequence length.
 */
public final class PackageRunner implements AutoCloseable {

    private final Program program;
    private final LoadedModel loaded;
    private final String engine;

    private PackageRunner(Program program, LoadedModel loaded, String engine) {
        this.program = program;
        this.loaded = loaded;
        this.engine = engine;
    }

    /** Reads and validates the package; {@link io.aneforge.mlpackage.MlPackageException} names what is wrong. */
    public static PackageRunner open(Path mlpackage) {
        if (!Files.isDirectory(mlpackage)) {
            throw new io.aneforge.cli.UsageException("package " + mlpackage + " does not exist or is not a directory: "
                    + "pass the .mlpackage directory written by convert");
        }
        Program program = MlPackage.read(mlpackage);
        boolean fast = Kernels.isFast();
        return new PackageRunner(program, ReferenceRuntime.load(program, RuntimeOptions.defaults(), fast),
                ReferenceRuntime.ID + " " + ReferenceRuntime.VERSION + (fast ? "" : " (scalar kernels)"));
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

    public Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs) {
        return loaded.predict(inputs);
    }

    /** An evaluator bound to this runner, for {@link io.aneforge.convert.Golden#run}. */
    public ProgramEvaluator asEvaluator() {
        return (p, in) -> predict(in);
    }

    /**
     * An evaluator for in-memory programs (the golden FP32 graph) on the same runtime; it compiles a
     * program once and reuses it while the same program is passed again.
     */
    public static ProgramEvaluator inMemory() {
        return new ProgramEvaluator() {
            private Program last;
            private ReferenceModel model;

            @Override
            public Map<String, FloatTensor> run(Program p, Map<String, FloatTensor> in) {
                if (p != last) {
                    if (model != null) {
                        model.close();
                    }
                    model = ReferenceRuntime.load(p, RuntimeOptions.defaults(), Kernels.isFast());
                    last = p;
                }
                return model.predict(in);
            }
        };
    }

    @Override
    public void close() {
        loaded.close();
    }
}
