package io.aneforge.graph;

import io.aneforge.mil.Program;
import io.aneforge.quant.QuantReport;
import java.util.List;

/**
 * A built program with what building it measured.
 *
 * @param program        the MIL program (validated by the builder op by op)
 * @param reports        one quantization report per stored weight tensor (empty for FP32, which stores weights as they are)
 * @param parameterCount elements of the imported weights the program uses (tables counted whole)
 */
public record BuiltGraph(Program program, List<QuantReport> reports, long parameterCount) {
    public BuiltGraph {
        if (program == null || reports == null || parameterCount < 0) {
            throw new IllegalStateException("built graph needs a program, reports and a parameter count");
        }
        reports = List.copyOf(reports);
    }
}
