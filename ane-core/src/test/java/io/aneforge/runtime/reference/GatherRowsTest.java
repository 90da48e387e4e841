package io.aneforge.runtime.reference;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Gather-only tables (GatherRows): the fast plan decodes the rows it gathers, the scalar plan (the
 * definition) decodes the whole table at load; both give the same floats, bit for bit.
 */
class GatherRowsTest {

    private static final int VOCAB = 40;
    private static final int DIM = 64;
    /** Includes a negative index (MIL counts it from the end) and a repeated one. */
    private static final float[] IDS = {3, 39, -1, 0, 17, 3};

    /** Every way a weight op can produce an embedding table. */
    enum TableKind {
        CONST_FP32(Target.IOS16, b -> b.constant("table", Constant.fp32(gaussian(1, VOCAB * DIM), VOCAB, DIM))),
        CONST_FP16(Target.IOS16, b -> b.constant("table", Constant.fp16(gaussian(2, VOCAB * DIM), VOCAB, DIM))),
        BLOCKWISE_INT8_FP16_SCALES(Target.IOS18, b -> b.blockwiseShiftScale(
                Constant.integers(DType.INT8, ints(3, VOCAB * DIM, -128, 127), VOCAB, DIM),
                Constant.fp16(positive(4, VOCAB * DIM / 32), VOCAB, DIM / 32), null)),
        BLOCKWISE_UINT4_WITH_OFFSET(Target.IOS18, b -> b.blockwiseShiftScale(
                Constant.integers(DType.UINT4, ints(5, VOCAB * DIM, 0, 15), VOCAB, DIM),
                Constant.fp32(positive(6, VOCAB * DIM / 16), VOCAB, DIM / 16),
                Constant.integers(DType.UINT4, ints(7, VOCAB * DIM / 16, 0, 15), VOCAB, DIM / 16))),
        AFFINE_INT8_PER_ROW(Target.IOS16, b -> b.affineDequantize(
                Constant.integers(DType.INT8, ints(8, VOCAB * DIM, -128, 127), VOCAB, DIM),
                Constant.integers(DType.INT8, ints(9, VOCAB, -3, 3), VOCAB),
                Constant.fp16(positive(10, VOCAB), VOCAB), 0)),
        AFFINE_UINT8_PER_COLUMN(Target.IOS16, b -> b.affineDequantize(
                Constant.integers(DType.UINT8, ints(11, VOCAB * DIM, 0, 255), VOCAB, DIM),
                Constant.integers(DType.UINT8, ints(12, DIM, 120, 136), DIM),
                Constant.fp32(positive(13, DIM), DIM), 1));

        final Target target;
        final Function<MilBuilder, Var> table;

        TableKind(Target target, Function<MilBuilder, Var> table) {
            this.target = target;
            this.table = table;
        }
    }

    private static float[] gaussian(long seed, int n) {
        return TestPrograms.gaussian(new SplittableRandom(seed), n, 0.7);
    }

    private static float[] positive(long seed, int n) {
        float[] f = gaussian(seed, n);
        for (int i = 0; i < n; i++) {
            f[i] = 0.001f + Math.abs(f[i]) * 0.01f;
        }
        return f;
    }

    private static int[] ints(long seed, int n, int lo, int hi) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(lo, hi + 1);
        }
        return v;
    }

    /** ids (1, 6) → gather (1, 6, DIM) → ×2, so the gathered rows feed a kernel as in a model. */
    private static Program embedding(TableKind kind, boolean tableIsAlsoAnOutput) {
        MilBuilder b = new MilBuilder(kind.target);
        Var ids = b.input("input_ids", DType.INT32, 1, IDS.length);
        Var table = kind.table.apply(b);
        Var rows = b.gather(table, ids, 0);
        Var doubled = b.mul(rows, 2f);
        return tableIsAlsoAnOutput ? b.build(rows, doubled, table) : b.build(rows, doubled);
    }

    private static Map<String, FloatTensor> ids(float... ids) {
        return Map.of("input_ids", new FloatTensor(new int[]{1, ids.length}, ids));
    }

    @ParameterizedTest
    @EnumSource(TableKind.class)
    void rowsDecodedPerPredictionAreTheRowsOfTheDecodedTable(TableKind kind) {
        for (boolean fp16 : new boolean[]{false, true}) {
            Program p = embedding(kind, false);
            RuntimeOptions options = new RuntimeOptions("cpuOnly", fp16, 1);
            try (ReferenceModel lazy = ReferenceRuntime.load(p, options, true);
                 ReferenceModel eager = ReferenceRuntime.load(p, options, false)) {
                assertThat(lazy.plan().loadTimeBytes()).as("the table is not held decoded").isLessThan(4L * DIM);
                assertThat(eager.plan().loadTimeBytes()).isGreaterThanOrEqualTo(4L * VOCAB * DIM);
                Map<String, FloatTensor> e = eager.predict(ids(IDS));
                Map<String, FloatTensor> l = lazy.predict(ids(IDS));
                for (String name : e.keySet()) {
                    assertThat(l.get(name).shape()).isEqualTo(e.get(name).shape());
                    assertThat(l.get(name).data()).as("%s, fp16 activations %s", name, fp16).containsExactly(e.get(name).data());
                }
                // repeated index: the same row twice
                float[] rows = l.values().iterator().next().data();
                for (int c = 0; c < DIM; c++) {
                    assertThat(rows[5 * DIM + c]).isEqualTo(rows[c]);
                }
            }
        }
    }

    @Test
    void aTableThatIsAlsoReadOtherwiseIsDecodedAtLoad() {
        Program p = embedding(TableKind.CONST_FP16, true);
        try (ReferenceModel m = ReferenceRuntime.load(p, new RuntimeOptions("cpuOnly", true, 1), true)) {
            assertThat(m.plan().loadTimeBytes()).isGreaterThanOrEqualTo(4L * VOCAB * DIM);
            assertThat(m.predict(ids(IDS))).hasSize(3);
        }
    }

    @Test
    void anOutOfRangeIndexFailsAsTheGatherEvaluationDoes() {
        Program p = embedding(TableKind.BLOCKWISE_INT8_FP16_SCALES, false);
        RuntimeOptions options = new RuntimeOptions("cpuOnly", true, 1);
        for (boolean fast : new boolean[]{true, false}) {
            try (ReferenceModel m = ReferenceRuntime.load(p, options, fast)) {
                assertThatThrownBy(() -> m.predict(ids(1, 2, 40, 0, 0, 0)))
                        .hasStackTraceContaining("argument 'indices': index 40 is out of range for axis size 40");
                assertThatThrownBy(() -> m.predict(ids(1, 2, -41, 0, 0, 0)))
                        .hasStackTraceContaining("index -41 is out of range for axis size 40");
            }
        }
    }
}
