package io.aneforge.graph;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Var;
import io.aneforge.tensor.FloatTensor;

/** What both layouts share: the builder, the weight store, the sequence length and FP16-safe constants. */
abstract class BaseLayers implements Layers {
    /** Additive mask value: large enough to zero a softmax term, small enough for FP16 (R5: never -inf). */
    static final float MASK_VALUE = 1e4f;
    /** Smallest LayerNorm epsilon in FP16 (R6): 1e-12 underflows to 0. */
    static final double FP16_MIN_EPSILON = 1e-7;

    final MilBuilder b;
    final WeightStore weights;
    final int seqLen;

    BaseLayers(MilBuilder b, WeightStore weights, int seqLen) {
        this.b = b;
        this.weights = weights;
        this.seqLen = seqLen;
    }

    DType ct() {
        return weights.computeType();
    }

    float epsilon(double configured) {
        return (float) (ct() == DType.FP16 ? Math.max(configured, FP16_MIN_EPSILON) : configured);
    }

    /** {@code (m - 1) · 1e4}, i.e. {@code (1 - m) · -1e4}, of the int32 mask in the compute type. */
    Var additive(Var maskLike) {
        return b.mul(b.sub(maskLike, 1.0f), MASK_VALUE);
    }

    Var maskInCompute(Var attentionMask) {
        return b.cast(attentionMask, ct());
    }

    Var ones(int... shape) {
        float[] v = new float[(int) FloatTensor.elementCount(shape)];
        java.util.Arrays.fill(v, 1f);
        return b.constant(Constant.floats(ct(), v, shape));
    }

    /** The usual attention factor {@code 1/sqrt(head_dim)} (BERT family; GPT-2's comes from its config). */
    static float headScale(int channels, int heads) {
        return (float) (1.0 / Math.sqrt(channels / (double) heads));
    }

    /** {@code q · scale}; q itself when the factor is 1 (GPT-2 with {@code scale_attn_weights: false}). */
    Var scaled(Var q, float scale) {
        return scale == 1f ? q : b.mul(q, scale);
    }
}
