package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Fast kernels against their scalar definitions on random inputs, plus hand-checked cases. */
class KernelsTest {

    private final SplittableRandom random = new SplittableRandom(42);
    private final int threadsBefore = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(threadsBefore);
        Kernels.setFast(true);
    }

    private FloatTensor rand(int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) random.nextGaussian();
        }
        return t;
    }

    /** Element-wise |fast − ref| <= rel · (|ref| + scale), scale = the typical magnitude of a dot product. */
    private static void assertClose(FloatTensor fast, FloatTensor ref, double rel, double scale) {
        assertThat(fast.shape()).containsExactly(ref.shape());
        for (int i = 0; i < ref.size(); i++) {
            double r = ref.data()[i];
            assertThat(Math.abs(fast.data()[i] - r)).as("element %d of %s", i, ref.shapeString())
                    .isLessThanOrEqualTo(rel * (Math.abs(r) + scale));
        }
    }

    @Test
    void matmulFastMatchesScalarForAllTransposesAndOddSizes() {
        Parallel.setThreads(3);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                int m = 37;
                int k = 70;
                int n = 301;
                FloatTensor a = ta ? rand(k, m) : rand(m, k);
                FloatTensor b = tb ? rand(n, k) : rand(k, n);
                FloatTensor fast = MatMul.matmul(a, b, ta, tb, true);
                FloatTensor ref = MatMul.matmul(a, b, ta, tb, false);
                assertThat(fast.shape()).containsExactly(m, n);
                assertClose(fast, ref, 1e-5, Math.sqrt(k));
            }
        }
    }

    @Test
    void narrowMatmulComputedTransposedMatchesScalar() {
        // N < MatMul.NARROW and M >= 2N (attention's P·V): the fast path computes Cᵀ = op(B)ᵀ·op(A)ᵀ
        assertThat(13).isLessThan(MatMul.NARROW);
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    int m = 70;
                    int k = 33;
                    int n = 13;
                    FloatTensor a = ta ? rand(2, 1, k, m) : rand(2, 1, m, k);
                    FloatTensor b = tb ? rand(3, n, k) : rand(3, k, n);
                    FloatTensor fast = MatMul.matmul(a, b, ta, tb, true);
                    FloatTensor ref = MatMul.matmul(a, b, ta, tb, false);
                    assertThat(fast.shape()).containsExactly(2, 3, m, n);
                    assertClose(fast, ref, 1e-5, Math.sqrt(k));
                }
            }
        }
    }

    @Test
    void matmulBroadcastsBatchAxes() {
        FloatTensor a = rand(2, 1, 5, 8);
        FloatTensor b = rand(3, 8, 4);
        FloatTensor fast = MatMul.matmul(a, b, false, false, true);
        FloatTensor ref = MatMul.matmul(a, b, false, false, false);
        assertThat(ref.shape()).containsExactly(2, 3, 5, 4);
        assertClose(fast, ref, 1e-5, 3);
        // spot check one element from its definition: out[1,2,4,3] = Σ a[1,0,4,k] b[2,k,3]
        double sum = 0;
        for (int k = 0; k < 8; k++) {
            sum += a.data()[((1 * 1 + 0) * 5 + 4) * 8 + k] * b.data()[(2 * 8 + k) * 4 + 3];
        }
        assertThat((double) ref.data()[((1 * 3 + 2) * 5 + 4) * 4 + 3]).isCloseTo(sum, org.assertj.core.data.Offset.offset(1e-5));
        assertThatThrownBy(() -> MatMul.matmul(rand(2, 3), rand(4, 5), false, false))
                .hasMessageContaining("inner dimensions differ");
        assertThatThrownBy(() -> MatMul.matmul(rand(2, 3, 4), rand(3, 4, 5), false, false))
                .hasMessageContaining("do not broadcast");
    }

    @Test
    void linearAndConv1x1AgreeWithEachOtherAndWithScalar() {
        FloatTensor x = rand(2, 9, 48); // [B, S, in]
        FloatTensor w = rand(40, 48);
        FloatTensor bias = rand(40);
        FloatTensor fast = MatMul.linear(x, w, bias, true);
        FloatTensor ref = MatMul.linear(x, w, bias, false);
        assertThat(ref.shape()).containsExactly(2, 9, 40);
        assertClose(fast, ref, 1e-5, 7);
        // Same weights as a 1x1 conv on (B, C, 1, S): y[b, o, 0, s] = linear(x)[b, s, o]
        FloatTensor xc = Transpose.transpose(new FloatTensor(new int[] {2, 9, 1, 48}, x.data()), new int[] {0, 3, 2, 1});
        FloatTensor wc = new FloatTensor(new int[] {40, 48, 1, 1}, w.data());
        for (boolean f : new boolean[] {true, false}) {
            FloatTensor yc = MatMul.conv1x1(xc, wc, bias, f);
            FloatTensor back = Transpose.transpose(yc, new int[] {0, 3, 2, 1});
            assertClose(new FloatTensor(new int[] {2, 9, 40}, back.data()), ref, 1e-5, 7);
        }
    }

    @Test
    void einsumPatternsMatchScalarAndDefinition() {
        FloatTensor k = rand(1, 16, 1, 8); // [B, Sk, 1, d]  (ANE layout: k transposed)
        FloatTensor q = rand(1, 8, 1, 12); // [B, d, 1, Sq]
        FloatTensor fast = Einsum.evaluate("bkhc,bchq->bkhq", k, q);
        FloatTensor ref = Einsum.nchwNwhu(k, q, false);
        assertThat(fast.shape()).containsExactly(1, 16, 1, 12);
        assertClose(fast, ref, 1e-5, 3);
        double s = 0;
        for (int c = 0; c < 8; c++) {
            s += k.data()[5 * 8 + c] * q.data()[c * 12 + 7];
        }
        assertThat((double) ref.data()[5 * 12 + 7]).isCloseTo(s, org.assertj.core.data.Offset.offset(1e-5));
        // H broadcast: a has H = 3, b has H = 1; B broadcast: b has B = 2, a has B = 1
        FloatTensor a = rand(1, 4, 3, 5);
        FloatTensor b = rand(2, 5, 1, 6);
        FloatTensor r1 = Einsum.nchwNwhu(a, b, true);
        FloatTensor r2 = Einsum.nchwNwhu(a, b, false);
        assertThat(r1.shape()).containsExactly(2, 4, 3, 6);
        assertClose(r1, r2, 1e-5, 3);
        FloatTensor r3 = Einsum.evaluate("chw,whr->chr", rand(4, 3, 5), rand(5, 3, 6));
        assertThat(r3.shape()).containsExactly(4, 3, 6);
        assertThatThrownBy(() -> Einsum.evaluate("bchq,bkhc->bkhq", q, k))
                .hasMessageContaining("is not supported; MIL accepts only 'nchw,nwhu->nchu'");
    }

    @Test
    void softmaxIsStableAndMatchesScalarOnEveryAxis() {
        FloatTensor x = rand(2, 7, 1, 33);
        for (int axis : new int[] {1, -1, 0}) {
            FloatTensor fast = Normalization.softmax(x, axis, true);
            FloatTensor ref = Normalization.softmax(x, axis, false);
            assertClose(fast, ref, 1e-6, 1e-7);
        }
        FloatTensor big = new FloatTensor(new int[] {1, 3}, new float[] {1000f, 1000f, -1e4f});
        FloatTensor p = Normalization.softmax(big, -1);
        assertThat(p.data()).containsExactly(0.5f, 0.5f, 0f);
    }

    /**
     * The fast softmax over an axis that is not the last (the ane layout's key axis) is, bit for bit,
     * its definition: per column, the max over the axis, FastExp of the shifted values, their float sum
     * in axis order, times its reciprocal. Shapes where one exponentiation block holds many axis rows
     * (inner 32: 64 rows of 2048 floats, the last block ragged; vector lanes), inner 5 (the plain loops),
     * one row per block (inner 2100), with a masked -1e4, a -∞ and signed zeros.
     */
    @Test
    void softmaxOverAnInnerAxisIsItsDefinitionBitForBit() {
        for (int[] shape : new int[][] {{3, 100, 32}, {2, 70, 5}, {1, 3, 2100}}) {
            FloatTensor x = rand(shape);
            x.data()[7] = -1e4f;
            x.data()[shape[2] + 3] = Float.NEGATIVE_INFINITY;
            x.data()[5] = -0f;
            x.data()[shape[2] + 5] = 0f;
            float[] got = Normalization.softmax(x, 1, true).data();
            int len = shape[1];
            int inner = shape[2];
            for (int o = 0; o < shape[0]; o++) {
                for (int j = 0; j < inner; j++) {
                    int base = o * len * inner + j;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int k = 0; k < len; k++) {
                        max = Math.max(max, x.data()[base + k * inner]);
                    }
                    float sum = 0f;
                    for (int k = 0; k < len; k++) {
                        sum += FastExp.exp(x.data()[base + k * inner] - max);
                    }
                    float scale = 1f / sum;
                    for (int k = 0; k < len; k++) {
                        int i = base + k * inner;
                        float want = FastExp.exp(x.data()[i] - max) * scale;
                        assertThat(Float.floatToRawIntBits(got[i])).as("shape %s element %d", java.util.Arrays.toString(shape), i)
                                .isEqualTo(Float.floatToRawIntBits(want));
                    }
                }
            }
        }
    }

    /**
     * The fast layer norm over an axis followed by positions (the ane layout, normalized over C) is,
     * bit for bit, the float loop per position: sum, one division, squared deviations as a multiply
     * then an add, {@code 1/sqrt} in double, then {@code ((x − mean)·inv)·γ + β}. Inner 32 and 48 take
     * the vector lanes (with 16 or 8 of them), inner 20 the plain loop.
     */
    @Test
    void layerNormOverAnInnerAxisIsTheFloatLoopBitForBit() {
        for (int[] shape : new int[][] {{2, 24, 1, 32}, {1, 384, 1, 48}, {3, 7, 1, 20}}) {
            for (boolean affine : new boolean[] {true, false}) {
                FloatTensor x = rand(shape);
                int len = shape[1];
                int inner = shape[3];
                FloatTensor g = affine ? rand(len) : null;
                FloatTensor b = affine ? rand(len) : null;
                float eps = 1e-5f;
                float[] got = Normalization.layerNorm(x, new int[] {1}, g, b, eps, true).data();
                float[] in = x.data();
                for (int o = 0; o < shape[0]; o++) {
                    int base = o * len * inner;
                    for (int j = 0; j < inner; j++) {
                        float mean = 0f;
                        for (int k = 0; k < len; k++) {
                            mean += in[base + k * inner + j];
                        }
                        mean /= len;
                        float m2 = 0f;
                        for (int k = 0; k < len; k++) {
                            float d = in[base + k * inner + j] - mean;
                            m2 += d * d;
                        }
                        float inv = (float) (1 / Math.sqrt(m2 / len + eps));
                        for (int k = 0; k < len; k++) {
                            int i = base + k * inner + j;
                            float want = (in[i] - mean) * inv * (g == null ? 1f : g.data()[k]) + (b == null ? 0f : b.data()[k]);
                            assertThat(Float.floatToRawIntBits(got[i])).as("shape %s affine %s element %d",
                                    java.util.Arrays.toString(shape), affine, i).isEqualTo(Float.floatToRawIntBits(want));
                        }
                    }
                }
            }
        }
    }

    @Test
    void layerNormMatchesScalarAndKnownValues() {
        FloatTensor x = rand(2, 24, 1, 10);
        FloatTensor g = rand(24);
        FloatTensor b = rand(24);
        FloatTensor fast = Normalization.layerNorm(x, new int[] {1}, g, b, 1e-5f, true);
        FloatTensor ref = Normalization.layerNorm(x, new int[] {1}, g, b, 1e-5f, false);
        assertClose(fast, ref, 1e-5, 1e-5);
        FloatTensor y = Normalization.layerNorm(new FloatTensor(new int[] {1, 4}, new float[] {1, 2, 3, 4}),
                new int[] {-1}, null, null, 0f);
        float z = (float) (1.5 / Math.sqrt(1.25));
        assertThat(y.data()[0]).isCloseTo(-z, org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(y.data()[3]).isCloseTo(z, org.assertj.core.data.Offset.offset(1e-6f));
        assertThatThrownBy(() -> Normalization.layerNorm(rand(2, 3, 4), new int[] {0, 2}, null, null, 1e-5f))
                .hasMessageContaining("are not contiguous");
    }

    @Test
    void broadcastingBinaryOpsMatchScalar() {
        int[][][] cases = {
            {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{2, 3, 4}, {3, 1}}, {{1, 3, 1}, {2, 1, 5}}, {{5}, {}}, {{}, {}},
            // the ane layout: residual adds, masks over scores, per-channel scales
            {{1, 384, 1, 32}, {1, 384, 1, 32}}, {{1, 12, 32, 32}, {1, 1, 1, 32}}, {{1, 12, 32, 32}, {1, 1, 32, 1}},
            {{1, 384, 1, 32}, {384, 1, 1}}, {{2, 1, 3, 1, 4}, {1, 5, 1, 1, 4}}, {{1, 1, 1}, {1}}, {{0, 3}, {3}},
            // rows longer than one piece, whole and broadcast
            {{3, 20000}, {20000}}, {{2, 1, 20001}, {2, 1, 1}}, {{40000}, {40000}}, {{17000}, {}},
        };
        for (int[][] c : cases) {
            FloatTensor a = rand(c[0]);
            FloatTensor b = rand(c[1]);
            for (Elementwise.Op op : Elementwise.Op.values()) {
                FloatTensor fast = Elementwise.binary(op, a, b, true);
                FloatTensor ref = Elementwise.binary(op, a, b, false);
                assertThat(fast).isEqualTo(ref); // same float operations, so bit-identical
            }
        }
        // runs merge where both sides step evenly: same shapes into one row, a broadcast axis stays apart
        assertThat(Elementwise.coalesce(new int[] {1, 384, 1, 32}, new int[] {0, 32, 0, 1}, new int[] {0, 32, 0, 1}))
                .isDeepEqualTo(new int[][] {{384 * 32}, {1}, {1}});
        assertThat(Elementwise.coalesce(new int[] {1, 12, 32, 32}, new int[] {0, 1024, 32, 1}, new int[] {0, 0, 0, 1}))
                .isDeepEqualTo(new int[][] {{384, 32}, {32, 1}, {0, 1}});
        FloatTensor sum = Elementwise.add(new FloatTensor(new int[] {2, 1}, new float[] {10, 20}),
                new FloatTensor(new int[] {3}, new float[] {1, 2, 3}));
        assertThat(sum.shape()).containsExactly(2, 3);
        assertThat(sum.data()).containsExactly(11, 12, 13, 21, 22, 23);
        assertThatThrownBy(() -> Elementwise.mul(rand(2, 3), rand(4))).hasMessageContaining("do not broadcast");
    }

    @Test
    void transposeMatchesScalarForArbitraryPermutations() {
        FloatTensor x = rand(2, 3, 4, 5);
        int[][] perms = {{0, 1, 2, 3}, {3, 2, 1, 0}, {0, 3, 2, 1}, {1, 0, 3, 2}, {2, 0, 3, 1}};
        for (int[] perm : perms) {
            assertThat(Transpose.transpose(x, perm, true)).isEqualTo(Transpose.transpose(x, perm, false));
        }
        FloatTensor t = Transpose.transpose(new FloatTensor(new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}), new int[] {1, 0});
        assertThat(t.data()).containsExactly(1, 4, 2, 5, 3, 6);
        assertThatThrownBy(() -> Transpose.transpose(x, new int[] {0, 0, 1, 2})).hasMessageContaining("is not a permutation");
    }

    @Test
    void geluFastAndScalarModesAgree() {
        FloatTensor x = rand(1000);
        Kernels.setFast(true);
        FloatTensor a = Activations.geluExact(x);
        FloatTensor c = Activations.geluTanh(x);
        Kernels.setFast(false);
        assertThat(Activations.geluExact(x)).isEqualTo(a);
        assertThat(Activations.geluTanh(x)).isEqualTo(c);
        for (int i = 0; i < x.size(); i++) {
            assertThat(Math.abs(a.data()[i] - c.data()[i])).isLessThan(2e-3f); // the approximation is close
        }
    }
}
