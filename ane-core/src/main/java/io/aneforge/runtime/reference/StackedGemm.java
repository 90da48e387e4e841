package io.aneforge.runtime.reference;

import io.aneforge.kernels.Gemm;
import io.aneforge.tensor.FloatTensor;

/**
 * The batched entry points of the GEMM kernels ({@link GroupKernel#runAll} of linear and of a
 * direct conv): the weight is read from memory once per group and reused from cache for every
 * prediction, instead of being streamed once per prediction (it does not fit a 1 MiB L2).
 * Linear stacks the predictions' rows of x into one product with the packed weight as B; the
 * conv runs one product per prediction with the weight as the shared A ({@link Conv}).
 *
 * <p>Why the results are bit for bit those of one prediction at a time (so batching is not
 * restricted to particular shapes): stacking moves an output element to another row of C, and the
 * shared-A conv takes the weight's rows from an interleaved copy where a single product may read
 * them in place; both GEMM kernels compute each element the same way wherever it falls in the
 * tiling and whichever micro-kernel takes it. {@code VectorGemm}: every micro-kernel (8-row in
 * place or interleaved, 6-row, 4-row tail, partial panels through scratch) forms C[i][j] by one
 * FMA chain over p = 0..K−1 in order, from +0, with no K blocking. The plain kernel: sums of four
 * products per K step in the same grouping for every element, K blocks at fixed K offsets,
 * partial sums kept in FP32, and no FMA contraction (Java forbids it), so its vectorized and
 * scalar loop parts agree. The bias is added after the product in both the single and the
 * stacked path, to the same values.
 */
final class StackedGemm {

    private StackedGemm() {
    }

    /** Linear {@code y = x·Wᵀ + b} for every frame: the frames' rows of x stacked into one [Σrows, in] product. */
    static FloatTensor[][] linear(FloatTensor[][] frames, int x, int in, int out, Gemm.Packed wt, float[] bias,
                                  int[] outShape) {
        int g = frames.length;
        int[] rows = new int[g];
        int total = 0;
        for (int r = 0; r < g; r++) {
            rows[r] = in == 0 ? 0 : frames[r][x].data().length / in;
            total += rows[r];
        }
        float[] xa = new float[total * in];
        for (int r = 0, row = 0; r < g; row += rows[r], r++) {
            System.arraycopy(frames[r][x].data(), 0, xa, row * in, rows[r] * in);
        }
        float[] ya = new float[total * out];
        Gemm.fast(total, xa, 0, in, false, wt, bias, ya, 0, out, true);
        FloatTensor[][] result = new FloatTensor[g][];
        for (int r = 0, row = 0; r < g; row += rows[r], r++) {
            float[] y = new float[rows[r] * out];
            System.arraycopy(ya, row * out, y, 0, y.length);
            result[r] = new FloatTensor[]{new FloatTensor(outShape, y)};
        }
        return result;
    }

    /**
     * A 1×1, stride-1, unpadded, ungrouped conv with a load-time weight W [Cout, Cin]: {@code y = W · x}
     * for every prediction and image ({@code x} = [Cin, H·W]) through {@link Gemm#multiplyEach}, which
     * reads each chunk of W's rows once for all of the group's products and writes each product into
     * that prediction's own output array (no gather or scatter copies). A first version computed
     * {@code Yᵀ = Xᵀ·Wᵀ} as one stacked product instead; its two transposes per prediction made the
     * ane-layout fidelity predictions 1.46× slower (measured), so it was dropped.
     */
    static final class Conv {
        private final int cin;
        private final int cout;
        private final int images;
        private final int positions;
        private final float[] bias;
        private final int x;
        private final int[] outShape;
        /** W interleaved for the 8-row kernel: a second copy of the conv weight, for the life of the model. */
        private final Gemm.PackedA packed;

        Conv(float[] w, int cin, int cout, int images, int positions, float[] bias, int x, int[] outShape) {
            this.cin = cin;
            this.cout = cout;
            this.images = images;
            this.positions = positions;
            this.bias = bias;
            this.x = x;
            this.outShape = outShape;
            this.packed = Gemm.packA(cout, cin, w, 0, cin);
        }

        FloatTensor[][] runAll(FloatTensor[][] frames) {
            int g = frames.length;
            int blocks = g * images; // one [Cin, H·W] product per prediction and image
            float[][] bs = new float[blocks][];
            int[] bOffs = new int[blocks];
            float[][] cs = new float[blocks][];
            int[] cOffs = new int[blocks];
            float[][] ys = new float[g][];
            for (int r = 0; r < g; r++) {
                ys[r] = new float[images * cout * positions];
                for (int img = 0; img < images; img++) {
                    int blk = r * images + img;
                    bs[blk] = frames[r][x].data();
                    bOffs[blk] = img * cin * positions;
                    cs[blk] = ys[r];
                    cOffs[blk] = img * cout * positions;
                }
            }
            Gemm.multiplyEach(packed, positions, bs, bOffs, cs, cOffs, true);
            FloatTensor[][] result = new FloatTensor[g][];
            for (int r = 0; r < g; r++) {
                float[] y = ys[r];
                if (bias != null) { // as the single-prediction kernel adds it: after the product
                    for (int img = 0; img < images; img++) {
                        for (int oc = 0; oc < cout; oc++) {
                            float bv = bias[oc];
                            int base = (img * cout + oc) * positions;
                            for (int p = 0; p < positions; p++) {
                                y[base + p] += bv;
                            }
                        }
                    }
                }
                result[r] = new FloatTensor[]{new FloatTensor(outShape, y)};
            }
            return result;
        }
    }
}
