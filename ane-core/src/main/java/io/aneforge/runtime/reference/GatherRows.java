package io.aneforge.runtime.reference;

import io.aneforge.kernels.Fp16;
import io.aneforge.mil.Arg;
import io.aneforge.mil.OpContext;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Ops;
import io.aneforge.mil.Program;
import io.aneforge.mil.TensorType;
import io.aneforge.mil.Var;
import io.aneforge.mil.WeightRows;
import io.aneforge.tensor.FloatTensor;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Gather-only tables kept encoded: a weight that only {@code gather} reads, on axis 0, with indices
 * known only per prediction (a word embedding gathered by {@code input_ids}) is not decoded when the
 * model loads; each prediction decodes the rows it gathers ({@link WeightRows}). For
 * all-MiniLM-L6-v2 that is 11.7 M of 22.7 M weights a load no longer decodes (and, in an FP16 or
 * quantized package, dequantizes and rounds), and 47 MB of floats a loaded model no longer holds.
 *
 * <p>The gathered rows are the floats the eager plan gathers: the decoder runs the op's own
 * per-element operations, and under FP16 activations each row is rounded to FP16 as the eager plan
 * rounds the whole decoded weight (an elementwise rounding). Out-of-range indices fail with the
 * {@code gather} evaluation's message.
 */
final class GatherRows {

    private GatherRows() {
    }

    /** A weight kept as its decoder: shape, and whether its rows are rounded to FP16 once decoded. */
    record Table(WeightRows rows, int[] shape, boolean roundToFp16) {
        int rowLength() {
            return Math.toIntExact(FloatTensor.elementCount(shape) / shape[0]);
        }
    }

    /**
     * Names of the vars only gathers read, each on axis 0 with indices computed from the program's
     * inputs, and that are not program outputs.
     */
    static Set<String> gatherOnly(Program program) {
        Set<String> perPrediction = new HashSet<>();
        program.inputs().forEach(v -> perPrediction.add(v.name()));
        Set<String> gathered = new HashSet<>();
        Set<String> otherwise = new HashSet<>();
        for (Operation raw : program.operations()) {
            Operation op = Ops.withDefaults(raw, program.target());
            boolean dependent = false;
            for (List<Arg> args : op.inputs().values()) {
                for (Arg a : args) {
                    dependent |= a instanceof Var v && perPrediction.contains(v.name());
                }
            }
            boolean tableGather = op.type().equals("gather") && gathersRows(op, perPrediction);
            for (Map.Entry<String, List<Arg>> e : op.inputs().entrySet()) {
                for (Arg a : e.getValue()) {
                    if (a instanceof Var v) {
                        (tableGather && e.getKey().equals("x") ? gathered : otherwise).add(v.name());
                    }
                }
            }
            if (dependent) {
                op.outputs().forEach(v -> perPrediction.add(v.name()));
            }
        }
        program.outputs().forEach(v -> otherwise.add(v.name()));
        gathered.removeAll(otherwise);
        return gathered;
    }

    /** A gather of rows: axis 0 of an x of rank ≥ 2, indices computed per prediction. */
    private static boolean gathersRows(Operation op, Set<String> perPrediction) {
        Arg x = op.inputs().get("x").get(0);
        Arg indices = op.inputs().get("indices").get(0);
        if (!(x instanceof Var table) || !(indices instanceof Var ids) || !perPrediction.contains(ids.name())
                || table.type().rank() < 2) {
            return false;
        }
        int axis = new OpContext(Ops.get("gather"), op.name(), op.inputs(), op.attributes()).intValue("axis");
        return axis == 0 || axis == -table.type().rank();
    }

    /** The table for a weight op's output, or null when the op has no row decoder or rows do not fall on its units. */
    static Table table(Operation op, TensorType type, boolean roundToFp16) {
        WeightRows rows = WeightRows.of(op);
        if (rows == null) {
            return null;
        }
        Table t = new Table(rows, type.shape(), roundToFp16);
        return t.rowLength() % rows.unit() == 0 ? t : null;
    }

    /** The gather step: rows of {@code table} at the indices in {@code indicesSlot}. */
    static Kernel kernel(Operation op, Table table, int indicesSlot, TensorType outputType) {
        OpContext errors = new OpContext(Ops.get(op.type()), op.name(), op.inputs(), op.attributes());
        int n = table.shape()[0];
        int row = table.rowLength();
        int[] outShape = outputType.shape();
        return frame -> {
            float[] ids = frame[indicesSlot].data();
            float[] out = new float[ids.length * row];
            for (int j = 0; j < ids.length; j++) {
                int idx = (int) ids[j];
                if (idx < 0) {
                    idx += n; // MIL allows negative indices
                }
                if (idx < 0 || idx >= n) {
                    throw errors.fail("indices", "index " + (int) ids[j] + " is out of range for axis size " + n);
                }
                table.rows().decode(idx * row, out, j * row, row);
                if (table.roundToFp16()) {
                    Fp16.roundInPlace(out, j * row, (j + 1) * row);
                }
            }
            return new FloatTensor[]{new FloatTensor(outShape, out)};
        };
    }
}
