package io.aneforge.convert;

import io.aneforge.mil.Program;
import io.aneforge.mil.ReferenceEvaluator;
import io.aneforge.tensor.FloatTensor;
import java.util.Map;

/** Runs a program on named inputs (int32 inputs as exact floats) and returns its outputs by name, in order. */
@FunctionalInterface
public interface ProgramEvaluator {
    Map<String, FloatTensor> run(Program program, Map<String, FloatTensor> inputs);

    /** The scalar reference evaluator: defines what a program means. */
    static ProgramEvaluator reference() {
        return ReferenceEvaluator::run;
    }
}
