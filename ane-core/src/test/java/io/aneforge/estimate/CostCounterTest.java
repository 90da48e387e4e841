package io.aneforge.estimate;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Ops;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CostCounterTest {

    static final int SEQ = 128;
    static final int IN = 384;
    static final int OUT = 1536;

    /** x [1, seq, 384] · W[1536, 384]^T with an fp16 weight (and the default zero bias). */
    static Program fp16Linear(int seq) {
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var x = b.input("x", DType.FP16, 1, seq, IN);
        return b.build(b.linear(x, Constant.fp16(new float[OUT * IN], OUT, IN), null));
    }

    @Test
    void linearCountsTwoFlopsPerMacAndReadsItsWeightAndActivations() {
        ProgramCost c = CostCounter.count(fp16Linear(SEQ));
        assertThat(c.flops()).isEqualTo(2L * 128 * 384 * 1536).isEqualTo(150_994_944L);
        // fp16 weight + the zero bias MilBuilder binds by default, both const ops
        assertThat(c.weightBytes()).isEqualTo(2L * OUT * IN + 2L * OUT);
        // reads x, writes the output, both at fp16
        assertThat(c.activationBytes()).isEqualTo(2L * SEQ * IN + 2L * SEQ * OUT);
        assertThat(c.bytes()).isEqualTo(c.weightBytes() + c.activationBytes());
        assertThat(c.flopsByOpType()).containsOnlyKeys("linear");
    }

    @Test
    void int8PerChannelWeightsHalveWeightBytes() {
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var x = b.input("x", DType.FP16, 1, SEQ, IN);
        Var w = b.affineDequantize(Constant.integers(DType.INT8, new int[OUT * IN], OUT, IN),
                Constant.integers(DType.INT8, new int[OUT], OUT), Constant.fp16(new float[OUT], OUT), 0);
        ProgramCost int8 = CostCounter.count(b.build(b.linear(x, w, null)));
        ProgramCost fp16 = CostCounter.count(fp16Linear(SEQ));
        // packed int8 data + int8 zero points + fp16 scales (the scalar axis is a parameter), + the fp16 bias
        assertThat(int8.weightBytes()).isEqualTo((long) OUT * IN + OUT + 2L * OUT + 2L * OUT);
        assertThat((double) int8.weightBytes() / fp16.weightBytes()).isBetween(0.5, 0.51);
        assertThat(int8.flops()).isEqualTo(fp16.flops());
        assertThat(int8.activationBytes()).isEqualTo(fp16.activationBytes());
    }

    @Test
    void int4BlockWeightsCountAtPackedSizePlusScales() {
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var x = b.input("x", DType.FP16, 1, SEQ, IN);
        Var w = b.blockwiseShiftScale(Constant.integers(DType.INT4, new int[OUT * IN], OUT, IN),
                Constant.fp16(new float[OUT * (IN / 32)], OUT, IN / 32), null);
        ProgramCost c = CostCounter.count(b.build(b.linear(x, w, null)));
        assertThat(c.weightBytes()).isEqualTo((long) OUT * IN / 2 + 2L * OUT * (IN / 32) + 2L * OUT);
    }

    @Test
    void gatherFromAConstantTableReadsOnlyTheGatheredRowsButATiedHeadReadsItAll() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var table = b.constant("embeddings", Constant.fp16(new float[1000 * 64], 1000, 64));
        Var ids = b.input("ids", DType.INT32, 1, 16);
        Var h = b.gather(table, ids, 0);
        ProgramCost gatherOnly = CostCounter.count(b.build(h));
        assertThat(gatherOnly.weightBytes()).isEqualTo(16L * 64 * 2);
        assertThat(gatherOnly.flops()).isZero();
        assertThat(gatherOnly.activationBytes()).isEqualTo(2L * 16 + 2L * 16 * 64);

        Var logits = b.linear(h, table, null); // tied output head reads the whole table, counted once
        ProgramCost tied = CostCounter.count(b.build(logits));
        assertThat(tied.weightBytes()).isEqualTo(1000L * 64 * 2 + 1000L * 2);
        assertThat(tied.flops()).isEqualTo(2L * 16 * 64 * 1000);
    }

    @Test
    void constantSubgraphsAreFoldedAndViewsMoveNothing() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP16, 4, 32);
        Var w = b.constant("w", Constant.fp16(new float[32 * 16], 16, 32));
        Var wt = b.transpose(w, 1, 0);              // folded by Core ML: no traffic, no flops
        Var y = b.matmul(x, wt, false, false);       // [4, 16]
        Var r = b.reshape(y, 1, 64);                 // a view
        ProgramCost c = CostCounter.count(b.build(r));
        assertThat(c.flops()).isEqualTo(2L * 4 * 16 * 32);
        assertThat(c.weightBytes()).isEqualTo(2L * 32 * 16);
        assertThat(c.activationBytes()).isEqualTo(2L * 4 * 32 + 2L * 4 * 16);
        assertThat(c.flopsByOpType()).containsOnlyKeys("matmul");
    }

    @Test
    void contractionsAndElementwiseOpsUseTheDocumentedCounts() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var q = b.input("q", DType.FP16, 1, 64, 1, 8);   // [B, C, H, W1]
        Var k = b.input("k", DType.FP16, 1, 8, 1, 32);   // [B, W1, H, W2]
        Var s = b.einsum("nchw,nwhu->nchu", q, k);       // [1, 64, 1, 32], contracts 8
        Var p = b.softmax(s, 3);
        Var x = b.input("x", DType.FP16, 1, 16, 1, 10);
        Var conv = b.conv(x, b.constant(Constant.fp16(new float[4 * 16 * 1 * 3], 4, 16, 1, 3)), null); // -> [1, 4, 1, 8]
        Var a = b.matmul(b.input("m", DType.FP16, 2, 5, 3), b.input("n", DType.FP16, 2, 5, 7), true, false); // contracts 5
        Var g = b.gelu(a, "TANH_APPROXIMATION");
        Var t = b.tanh(g);
        ProgramCost c = CostCounter.count(b.build(p, conv, t));
        assertThat(c.flopsByOpType()).containsEntry("einsum", 2L * 64 * 32 * 8)
                .containsEntry("softmax", OpCosts.SOFTMAX * 64 * 32)
                .containsEntry("conv", 2L * 4 * 8 * 16 * 3)
                .containsEntry("matmul", 2L * 2 * 3 * 7 * 5)
                .containsEntry("gelu", OpCosts.GELU * 2 * 3 * 7)
                .containsEntry("tanh", OpCosts.TRANSCENDENTAL * 2 * 3 * 7);
        assertThat(c.flops()).isEqualTo(c.flopsByOpType().values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void everyKnownMilOpHasAFlopRule() {
        assertThat(Ops.all().keySet()).allSatisfy(type -> assertThat(OpCosts.knows(type)).as(type).isTrue());
    }
}
