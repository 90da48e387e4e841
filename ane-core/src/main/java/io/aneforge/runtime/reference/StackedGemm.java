package io.aneforge.runtime.reference;

import io.aneforge.kernels.Gemm;
import io.aneforge.tensor.FloatTensor;

/**
 * The batched entry points of the GEMM kernels ({@link GroupKernel#runAll} of linear and of a
 * direct conv): the group's activations stacked along the free dimension into one product with
 * the packed weight as B, so each weight panel is read from memory once per group and reused
 * from cache for every prediction's rows, instead of the whole weight being streamed once per
 * prediction (it does not fit a 1 MiB L2).
 *
 * <p>Why the results are bit for bit those of one prediction at a time: stacking only moves an
 * output element to another row (or column) of C, and both GEMM kernels compute each element
 * the same way wherever it falls in the tiling. {@code VectorGemm}: every micro-kernel (8-row in
 * place or interleaved, 6-row, 4-row tail, partial panels through scratch) forms C[i][j] by one
 * FMA chain over p = 0..K−1 in order, from +0, with no K blocking. The plain kernel: sums of four
 * products per K step in the same grouping for every element, K blocks at fixed K offsets,
 * partial sums kept in FP32, and no FMA contraction (Java forbids it), so its vectorized and
 * scalar loop parts agree. The bias is added after the product in both the single and the
 * stacked path, to the same values. The stacked conv also swaps the operands (Yᵀ = Xᵀ·Wᵀ
 * instead of Y = W·X): each FMA or product then multiplies the same two values the other way
 * round, which is exact either way.
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
     * A 1×1, stride-1, unpadded, ungrouped conv with a load-time weight W [Cout, Cin], as
     * {@code Yᵀ = Xᵀ·Wᵀ} over all the group's positions: A = every prediction's images
     * transposed to [H·W, Cin] and stacked, B = Wᵀ packed like a linear weight. Per prediction
     * that costs two transposes of its activations (in and out), small next to the product.
     */
    static final class Conv {
        private final float[] w;
        private final int cin;
        private final int cout;
        private final int images;
        private final int positions;
        private final float[] bias;
        private final int x;
        private final int[] outShape;
        /**
         * Wᵀ packed on the first batched call, not at load: a model that only ever runs
         * {@code predict} keeps one copy of its conv weights.
         */
        private Gemm.Packed wt;

        Conv(float[] w, int cin, int cout, int images, int positions, float[] bias, int x, int[] outShape) {
            this.w = w;
            this.cin = cin;
            this.cout = cout;
            this.images = images;
            this.positions = positions;
            this.bias = bias;
            this.x = x;
            this.outShape = outShape;
        }

        FloatTensor[][] runAll(FloatTensor[][] frames) {
            if (wt == null) {
                wt = Gemm.pack(cin, cout, w, 0, cin, true);
            }
            int g = frames.length;
            int blocks = g * images; // one [Cin, H·W] block per prediction and image
            float[] a = new float[blocks * positions * cin];
            for (int r = 0; r < g; r++) {
                float[] xd = frames[r][x].data();
                for (int img = 0; img < images; img++) {
                    transpose(xd, img * cin * positions, cin, positions, a, (r * images + img) * positions * cin);
                }
            }
            float[] yt = new float[blocks * positions * cout];
            Gemm.fast(blocks * positions, a, 0, cin, false, wt, bias, yt, 0, cout, true);
            FloatTensor[][] result = new FloatTensor[g][];
            for (int r = 0; r < g; r++) {
                float[] y = new float[images * cout * positions];
                for (int img = 0; img < images; img++) {
                    transpose(yt, (r * images + img) * positions * cout, positions, cout, y, img * cout * positions);
                }
                result[r] = new FloatTensor[]{new FloatTensor(outShape, y)};
            }
            return result;
        }
    }

    /** Rows × cols block at {@code src[so..]} written transposed (cols × rows) at {@code dst[d0..]}, in 16×16 tiles. */
    static void transpose(float[] src, int so, int rows, int cols, float[] dst, int d0) {
        for (int i0 = 0; i0 < rows; i0 += 16) {
            int i1 = Math.min(rows, i0 + 16);
            for (int j0 = 0; j0 < cols; j0 += 16) {
                int j1 = Math.min(cols, j0 + 16);
                for (int i = i0; i < i1; i++) {
                    int s = so + i * cols;
                    for (int j = j0; j < j1; j++) {
                        dst[d0 + j * rows + i] = src[s + j];
                    }
                }
            }
        }
    }
}
