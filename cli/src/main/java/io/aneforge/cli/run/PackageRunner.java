package io.aneforge.cli.run;

import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.graph.Graphs;
import io.aneforge.mil.Program;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Runs a {@code .mlpackage} on this host: through the {@code reference-cpu} {@link ModelRuntime}
 * when one is on the class path, else by evaluating the package's MIL program with the scalar
 * reference evaluator (the same definition of meaning, without the runtime's fast kernels).
 */
public final class PackageRunner implements AutoCloseable {

    public static final String REFERENCE_RUNTIME = "reference-cpu";
    public static final String MIL_EVALUATOR = "mil-reference-evaluator";

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
        for (ModelRuntime r : ServiceLoader.load(ModelRuntime.class)) {
            if (r.id().equals(REFERENCE_RUNTIME) && r.isAvailable()) {
                return new PackageRunner(program, r.load(mlpackage, RuntimeOptions.defaults()), r.id() + " " + r.version());
            }
        }
        return new PackageRunner(program, null, MIL_EVALUATOR);
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
        return loaded != null ? loaded.predict(inputs) : ProgramEvaluator.reference().run(program, inputs);
    }

    /** An evaluator bound to this runner, for {@link io.aneforge.convert.Golden#run}. */
    public ProgramEvaluator asEvaluator() {
        return (p, in) -> predict(in);
    }

    @Override
    public void close() {
        if (loaded != null) {
            loaded.close();
        }
    }
}
