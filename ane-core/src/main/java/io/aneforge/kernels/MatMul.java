package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;

import java.util.Arrays;

/**
 * Matrix products over FP32 tensors: batched matmul (MIL {@code matmul}), {@code linear},
 * 1×1 convolution over NCHW. All route through {@link Gemm}; {@link Kernels#isFast()}
 * picks the blocked kernel or the scalar reference.
 */
public final class MatMul {

    /** Products with fewer columns than this (and at least twice as many rows) are computed transposed. */
    static final int NARROW = 64;

    private MatMul() {
    }

    /**
     * {@code C[b] = op(A[b]) · op(B[b])}: A {@code [..., M, K]} ({@code [..., K, M]} when
     * {@code transposeA}), B {@code [..., K, N]} ({@code [..., N, K]} when {@code transposeB}),
     * result {@code [...batch, M, N]}; batch axes broadcast NumPy-style (size 1 repeats).
     */
    public static FloatTensor matmul(FloatTensor a, FloatTensor b, boolean transposeA, boolean transposeB) {
        return matmul(a, b, transposeA, transposeB, Kernels.isFast());
    }

    public static FloatTensor matmul(FloatTensor a, FloatTensor b, boolean transposeA, boolean transposeB, boolean fast) {
        int[] as = a.shape();
        int[] bs = b.shape();
        if (as.length < 2 || bs.length < 2) {
            throw new IllegalArgumentException("matmul: both operands need rank >= 2, got " + a.shapeString()
                    + " and " + b.shapeString() + " (expand_dims a vector first)");
        }
        int m = transposeA ? as[as.length - 1] : as[as.length - 2];
        int ka = transposeA ? as[as.length - 2] : as[as.length - 1];
        int kb = transposeB ? bs[bs.length - 1] : bs[bs.length - 2];
        int n = transposeB ? bs[bs.length - 2] : bs[bs.length - 1];
        if (ka != kb) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + a.shapeString()
                    + (transposeA ? "ᵀ" : "") + " · " + b.shapeString() + (transposeB ? "ᵀ" : "")
                    + " contracts " + ka + " with " + kb);
        }
        int[] aBatch = Arrays.copyOf(as, as.length - 2);
        int[] bBatch = Arrays.copyOf(bs, bs.length - 2);
        int[] batch = Shapes.broadcast(aBatch, bBatch, "matmul batch axes");
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        float[] out = new float[Shapes.size(outShape)];
        int batches = Shapes.size(batch);
        int[] aStr = Shapes.broadcastStrides(aBatch, batch);
        int[] bStr = Shapes.broadcastStrides(bBatch, batch);
        int aMat = m * ka;
        int bMat = ka * n;
        int lda = as[as.length - 1];
        int ldb = bs[bs.length - 1];
        float[] ad = a.data();
        float[] bd = b.data();
        long flopsEach = 2L * m * n * ka;
        // Many small products (attention heads): spread batches over threads; few large ones: spread tiles.
        boolean perBatch = fast && batches > 1 && flopsEach < (1 << 22);
        // A narrow product (attention's P·V: N = head size 32) runs as Cᵀ = op(B)ᵀ·op(A)ᵀ: the
        // GEMM vectorizes along N, and a 32-wide row is mostly loop prologue and scalar tail.
        boolean transposed = fast && n < NARROW && m >= 2 * n;
        Parallel.RangeBody body = (from, to) -> {
            int[] idx = new int[batch.length];
            float[] ct = transposed ? new float[n * m] : null;
            for (int t = from; t < to; t++) {
                int rem = t;
                int aOff = 0;
                int bOff = 0;
                for (int d = batch.length - 1; d >= 0; d--) {
                    idx[d] = rem % batch[d];
                    rem /= batch[d];
                    aOff += idx[d] * aStr[d];
                    bOff += idx[d] * bStr[d];
                }
                aOff *= aMat;
                bOff *= bMat;
                if (transposed) {
                    Gemm.fast(n, m, ka, bd, bOff, ldb, !transposeB, ad, aOff, lda, !transposeA, ct, 0, m, !perBatch);
                    int o = t * m * n;
                    for (int j = 0; j < n; j++) {
                        for (int i = 0; i < m; i++) {
                            out[o + i * n + j] = ct[j * m + i];
                        }
                    }
                } else if (fast) {
                    Gemm.fast(m, n, ka, ad, aOff, lda, transposeA, bd, bOff, ldb, transposeB, out, t * m * n, n, !perBatch);
                } else {
                    Gemm.scalar(m, n, ka, ad, aOff, lda, transposeA, bd, bOff, ldb, transposeB, out, t * m * n, n);
                }
            }
        };
        if (perBatch) {
            Parallel.forRange(batches, 1, body);
        } else {
            body.run(0, batches);
        }
        return new FloatTensor(outShape, out);
    }

    /** MIL {@code linear}: {@code y = x · Wᵀ + bias}, x {@code [..., in]}, W {@code [out, in]}, bias {@code [out]} or null. */
    public static FloatTensor linear(FloatTensor x, FloatTensor weight, FloatTensor bias) {
        return linear(x, weight, bias, Kernels.isFast());
    }

    public static FloatTensor linear(FloatTensor x, FloatTensor weight, FloatTensor bias, boolean fast) {
        int[] xs = x.shape();
        if (weight.rank() != 2 || xs.length < 1 || xs[xs.length - 1] != weight.shape()[1]) {
            throw new IllegalArgumentException("linear: x " + x.shapeString() + " and weight " + weight.shapeString()
                    + " do not fit (weight must be [out, in] with in = last axis of x)");
        }
        int in = weight.shape()[1];
        int out = weight.shape()[0];
        checkBias("linear", bias, out);
        int rows = in == 0 ? Shapes.product(xs, 0, xs.length - 1) : x.size() / in;
        int[] outShape = xs.clone();
        outShape[xs.length - 1] = out;
        float[] y = new float[rows * out];
        if (fast) {
            Gemm.fast(rows, out, in, x.data(), 0, in, false, weight.data(), 0, in, true, y, 0, out, true);
        } else {
            Gemm.scalar(rows, out, in, x.data(), 0, in, false, weight.data(), 0, in, true, y, 0, out);
        }
        if (bias != null) {
            float[] bd = bias.data();
            for (int r = 0; r < rows; r++) {
                int o = r * out;
                for (int j = 0; j < out; j++) {
                    y[o + j] += bd[j];
                }
            }
        }
        return new FloatTensor(outShape, y);
    }

    /**
     * 1×1 {@code conv} (groups 1, stride 1, no padding) over NCHW as a matmul:
     * {@code y[n] = W[Cout, Cin] · x[n][Cin, H·W] + bias}. Weight {@code [Cout, Cin, 1, 1]}.
     */
    public static FloatTensor conv1x1(FloatTensor x, FloatTensor weight, FloatTensor bias) {
        return conv1x1(x, weight, bias, Kernels.isFast());
    }

    public static FloatTensor conv1x1(FloatTensor x, FloatTensor weight, FloatTensor bias, boolean fast) {
        int[] xs = x.shape();
        int[] ws = weight.shape();
        if (xs.length != 4 || ws.length != 4 || ws[2] != 1 || ws[3] != 1 || ws[1] != xs[1]) {
            throw new IllegalArgumentException("conv1x1: x " + x.shapeString() + " must be NCHW and weight "
                    + weight.shapeString() + " must be [Cout, Cin, 1, 1] with Cin = " + (xs.length > 1 ? xs[1] : -1));
        }
        int batch = xs[0];
        int cin = xs[1];
        int hw = xs[2] * xs[3];
        int cout = ws[0];
        checkBias("conv", bias, cout);
        float[] y = new float[batch * cout * hw];
        for (int nIdx = 0; nIdx < batch; nIdx++) {
            if (fast) {
                Gemm.fast(cout, hw, cin, weight.data(), 0, cin, false, x.data(), nIdx * cin * hw, hw, false,
                        y, nIdx * cout * hw, hw, true);
            } else {
                Gemm.scalar(cout, hw, cin, weight.data(), 0, cin, false, x.data(), nIdx * cin * hw, hw, false,
                        y, nIdx * cout * hw, hw);
            }
            if (bias != null) {
                for (int o = 0; o < cout; o++) {
                    float bv = bias.data()[o];
                    int base = (nIdx * cout + o) * hw;
                    for (int p = 0; p < hw; p++) {
                        y[base + p] += bv;
                    }
                }
            }
        }
        return new FloatTensor(new int[] {batch, cout, xs[2], xs[3]}, y);
    }

    private static void checkBias(String op, FloatTensor bias, int out) {
        if (bias != null && bias.size() != out) {
            throw new IllegalArgumentException(op + ": bias " + bias.shapeString() + " must have " + out + " elements");
        }
    }
}
