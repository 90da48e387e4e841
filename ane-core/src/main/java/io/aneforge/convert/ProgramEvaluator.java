package io.aneforge.convert;

import io.aneforge.mil.DType;
import io.aneforge.mil.Program;
import io.aneforge.mil.ReferenceEvaluator;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.runtime.reference.PackedWeights;
import io.aneforge.runtime.reference.ReferenceModel;
import io.aneforge.runtime.reference.ReferenceRuntime;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.ObjIntConsumer;

/**
 * Runs a program on a list of input maps (int32 inputs as exact floats) and returns each
 * run's outputs by name, in order. Implementations may prepare the program once for all inputs.
 */
@FunctionalInterface
public interface ProgramEvaluator {
    List<Map<String, FloatTensor>> runAll(Program program, List<Map<String, FloatTensor>> inputs);

    /**
     * {@link #runAll} for a caller that reads only the first {@code realLengths[i]} positions of input i's
     * per-token outputs (and outputs without a sequence axis), the inputs being padding past them: those
     * are {@link #runAll}'s floats, the other positions are unspecified. The reference runtime then skips
     * the padded positions' projections ({@link ReferenceModel#predictAll(List, int[])}); by default
     * everything is computed.
     */
    default List<Map<String, FloatTensor>> runRealTokens(Program program, List<Map<String, FloatTensor>> inputs,
                                                         int[] realLengths) {
        return runAll(program, inputs);
    }

    /**
     * {@link #runRealTokens} ({@link #runAll} when {@code realLengths} is null) on at most {@code chunk} inputs at a
     * time, handing each input's outputs to {@code each} with its index before the next chunk runs: a caller that
     * keeps only part of every output (the golden data's vocabulary-sized logits) holds at most one chunk's outputs
     * whole. The same floats as one call on every input (each prediction's outputs do not depend on the others run
     * with it). By default each chunk is a call of its own; the reference runtime loads the program once.
     */
    default void runEach(Program program, List<Map<String, FloatTensor>> inputs, int[] realLengths, int chunk,
                         ObjIntConsumer<Map<String, FloatTensor>> each) {
        inChunks(inputs, realLengths, chunk, (part, real) -> real == null ? runAll(program, part)
                : runRealTokens(program, part, real), each);
    }

    /** {@link #runEach}'s loop: {@code run} on each chunk of the inputs (and of their real lengths, when given). */
    private static void inChunks(List<Map<String, FloatTensor>> inputs, int[] realLengths, int chunk,
                                 BiFunction<List<Map<String, FloatTensor>>, int[], List<Map<String, FloatTensor>>> run,
                                 ObjIntConsumer<Map<String, FloatTensor>> each) {
        if (chunk < 1) {
            throw new IllegalArgumentException("predictions run at least 1 at a time, got a chunk of " + chunk);
        }
        for (int c0 = 0; c0 < inputs.size(); c0 += chunk) {
            int c1 = Math.min(inputs.size(), c0 + chunk);
            List<Map<String, FloatTensor>> outputs = run.apply(inputs.subList(c0, c1),
                    realLengths == null ? null : Arrays.copyOfRange(realLengths, c0, c1));
            for (int j = 0; j < outputs.size(); j++) {
                each.accept(outputs.get(j), c0 + j);
            }
        }
    }

    /**
     * An evaluator for several programs that hold the same weight ops, one after another (one program cut to several
     * sequence prefixes, {@link SamplePrefix}), to close after the last of them has run; it refuses to run more
     * programs after that. The reference runtime then packs each weight for its matrix products once for the runs
     * that pack at load (more inputs than one group of predictions, {@link ReferenceModel#GROUP}) and holds those
     * packed copies until close ({@link PackedWeights}); a run of one group takes a copy already held and packs the
     * others on use, holding nothing, as it would alone. By default this evaluator itself ({@link Sharing#none}).
     * The same floats either way.
     */
    default Sharing sharingWeights() {
        return Sharing.none(this);
    }

    /** An evaluator, and what to release once its last program has run ({@link #sharingWeights}). */
    record Sharing(ProgramEvaluator evaluator, Runnable release) implements AutoCloseable {
        /** {@code evaluator} as it is, with nothing to release: for an evaluator that shares nothing between programs. */
        public static Sharing none(ProgramEvaluator evaluator) {
            return new Sharing(evaluator, () -> { });
        }

        @Override
        public void close() {
            release.run();
        }
    }

    default Map<String, FloatTensor> run(Program program, Map<String, FloatTensor> inputs) {
        return runAll(program, List.of(inputs)).get(0);
    }

    /** The scalar {@link ReferenceEvaluator}: defines what a program means; slow (seconds per MiniLM sample). */
    static ProgramEvaluator scalar() {
        return (program, inputs) -> inputs.stream().map(in -> ReferenceEvaluator.run(program, in)).toList();
    }

    /**
     * The reference CPU runtime, loaded once per program, with its fast kernels unless
     * {@code -Daneforge.kernels=scalar} ({@link io.aneforge.kernels.Kernels#isFast()}). Programs that
     * compute in FP16 run with FP16 activations (every value rounded to FP16 between ops, as
     * on the Neural Engine), so an FP16 variant's fidelity includes activation rounding, not
     * only weight rounding.
     */
    static ProgramEvaluator runtime() {
        return runtime(0);
    }

    /**
     * Like {@link #runtime()}, with {@code threads} kernel threads (0: one per core). The outputs do not
     * depend on it. A count other than the kernel pool's current size resizes the shared pool
     * ({@link io.aneforge.kernels.Parallel}) when a prediction starts, so code that predicts while other
     * threads use the pool passes {@code Parallel.threads()}.
     */
    static ProgramEvaluator runtime(int threads) {
        return runtime(threads, null);
    }

    /** {@link #runtime(int)} whose loads take their packed weights from {@code shared} (null: none). */
    private static ProgramEvaluator runtime(int threads, PackedWeights shared) {
        return new ProgramEvaluator() {
            @Override
            public List<Map<String, FloatTensor>> runAll(Program program, List<Map<String, FloatTensor>> inputs) {
                return runRealTokens(program, inputs, null);
            }

            @Override
            public List<Map<String, FloatTensor>> runRealTokens(Program program, List<Map<String, FloatTensor>> inputs,
                                                                int[] realLengths) {
                List<Map<String, FloatTensor>> out = new ArrayList<>(Collections.nCopies(inputs.size(), null));
                runEach(program, inputs, realLengths, Math.max(1, inputs.size()), (outputs, i) -> out.set(i, outputs));
                return out;
            }

            @Override
            public void runEach(Program program, List<Map<String, FloatTensor>> inputs, int[] realLengths, int chunk,
                                ObjIntConsumer<Map<String, FloatTensor>> each) {
                RuntimeOptions options = new RuntimeOptions("cpuOnly", computesInFp16(program), threads);
                // Loaded, run and closed: where the inputs make one group of predictions, each weight is packed as
                // the group's product uses it (more groups would pack it once per group), not held packed, unless
                // shared already holds it packed (then that copy). More groups pack at load, into shared when there
                // is one, which holds those copies until the Sharing closes (sharingWeights).
                boolean oneGroup = inputs.size() <= Math.min(chunk, ReferenceModel.GROUP);
                try (ReferenceModel m = ReferenceRuntime.load(program, options, io.aneforge.kernels.Kernels.isFast(), oneGroup,
                        shared)) {
                    inChunks(inputs, realLengths, chunk, m::predictAll, each);
                }
            }

            @Override
            public Sharing sharingWeights() {
                PackedWeights packs = new PackedWeights();
                return new Sharing(runtime(threads, packs), packs::close);
            }
        };
    }

    /** True when some op produces FP16 values (FP16 and quantized variants). */
    static boolean computesInFp16(Program program) {
        return program.operations().stream().anyMatch(o -> !o.type().equals("const") && !o.type().startsWith("constexpr_")
                && o.outputs().stream().anyMatch(v -> v.dtype() == DType.FP16));
    }
}
