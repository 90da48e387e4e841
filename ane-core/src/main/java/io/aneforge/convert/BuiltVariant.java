package io.aneforge.convert;

import io.aneforge.mil.Program;
import io.aneforge.quant.QuantReport;
import io.aneforge.variant.VariantSpec;
import java.util.List;

/**
 * A variant's program before it is written.
 *
 * @param reports               per stored weight tensor: scheme, error, bytes (empty for FP32)
 * @param parameterCount        elements of the imported weights the program uses
 * @param peakIntermediateBytes largest sum of live intermediate tensors when the ops run in
 *                              order and each value is freed after its last use ({@link io.aneforge.mil.PeakMemory})
 */
public record BuiltVariant(VariantSpec spec, Program program, List<QuantReport> reports, long parameterCount,
                           long peakIntermediateBytes) {
    public BuiltVariant {
        if (spec == null || program == null || reports == null) {
            throw new IllegalStateException("built variant needs a spec, a program and reports");
        }
        reports = List.copyOf(reports);
    }
}
