package io.aneforge.runtime.reference;

import io.aneforge.kernels.Gemm;
import io.aneforge.tensor.FloatTensor;

/**
 * The batched entry point of the direct conv ({@link GroupKernel#runAll}): the weight is read
 * from memory once per group and reused from cache for every prediction, instead of being
 * streamed once per prediction (it does not fit a 1 MiB L2). See {@link Conv}.
 *
 * <p>Why the results are bit for bit those of one prediction at a time through the plain
 * product (so batching is not restricted to particular shapes): {@link Gemm#multiplyEach} takes
 * the weight's rows from an interleaved copy where a single {@link Gemm#fast} product may read
 * them in place, and splits the work by rows of the weight instead of by panels, but every
 * micro-kernel of {@code VectorGemm} (8-row in place or interleaved, 6-row, 4-row tail, partial
 * panels through scratch) forms C[i][j] by one FMA chain over p = 0..K−1 in order, from +0,
 * with no K blocking, so an element's value does not depend on where it falls in the tiling or
 * which kernel takes it. Without the Vector API, {@code multiplyEach} is {@code Gemm.fast} per
 * product. The bias is added to each sum after it is complete, as the plain conv kernel adds it.
 */
final class StackedGemm {

    private StackedGemm() {
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
        /**
         * W interleaved for the 8-row kernel, for the life of the model; the row-major W is then dropped
         * (by the plan and by PackedA) when every row is in a whole 8-row block, as in MiniLM's shapes.
         */
        private final Gemm.PackedA packed;

        /** {@code packed}: W [Cout, Cin] prepared by {@link Gemm#packA}. */
        Conv(Gemm.PackedA packed, int cin, int cout, int images, int positions, float[] bias, int x, int[] outShape) {
            this.cin = cin;
            this.cout = cout;
            this.images = images;
            this.positions = positions;
            this.bias = bias;
            this.x = x;
            this.outShape = outShape;
            this.packed = packed;
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
            // The bias per output channel (row of W) is added to each product's block as soon as it is
            // stored, with the same additions as the single-prediction kernel's pass after the product.
            Gemm.multiplyEach(packed, bias, positions, bs, bOffs, cs, cOffs, true);
            FloatTensor[][] result = new FloatTensor[g][];
            for (int r = 0; r < g; r++) {
                result[r] = new FloatTensor[]{new FloatTensor(outShape, ys[r])};
            }
            return result;
        }

        /**
         * {@link #runAll(FloatTensor[][])} where the columns (H·W, with one image) are sequence positions and
         * prediction r needs only its first {@code positions[r]}: those columns of every prediction side by
         * side as one product ({@link Gemm#multiplyConcatenated}: whole panels of real positions instead of
         * one mostly padded panel per prediction), then copied to each prediction's output. Same floats in
         * those columns; the others stay zero.
         */
        FloatTensor[][] runAll(FloatTensor[][] frames, int[] positions) {
            if (images != 1) {
                return runAll(frames);
            }
            int g = frames.length;
            float[][] bs = new float[g][];
            int[] bOffs = new int[g];
            int total = 0;
            for (int r = 0; r < g; r++) {
                bs[r] = frames[r][x].data();
                total += positions[r];
            }
            float[] c = Gemm.multiplyConcatenated(packed, bias, bs, bOffs, this.positions, positions, true);
            FloatTensor[][] result = new FloatTensor[g][];
            for (int r = 0, at = 0; r < g; at += positions[r++]) {
                float[] y = new float[cout * this.positions];
                for (int i = 0; i < cout; i++) {
                    System.arraycopy(c, i * total + at, y, i * this.positions, positions[r]);
                }
                result[r] = new FloatTensor[]{new FloatTensor(outShape, y)};
            }
            return result;
        }
    }
}
