package io.aneforge.convert;

import io.aneforge.model.ImportedModel;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The plain-loop building blocks of the reference forward passes ({@code TaskHeadConversionTest.Plain},
 * {@code EncoderFamiliesConversionTest.Plain}, {@code Gpt2ConversionTest.PlainGpt2}): torch's modules written as loops
 * over doubles, with nothing shared with the graph builders they check, kept in one place so that every reference
 * computes a layer the same way.
 */
final class PlainLoops {
    private PlainLoops() {
    }

    static FloatTensor tensor(double[][] rows, int... shape) {
        List<Float> flat = new ArrayList<>();
        for (double[] r : rows) {
            for (double v : r) {
                flat.add((float) v);
            }
        }
        float[] data = new float[flat.size()];
        for (int i = 0; i < data.length; i++) {
            data[i] = flat.get(i);
        }
        return new FloatTensor(shape, data);
    }

    /** {@code x W^T + b} with W {@code [out, in]} (torch.nn.Linear). */
    static double[][] dense(ImportedModel m, double[][] x, String module) {
        return dense(x, m.weight(module + ".weight"), m.weight(module + ".bias").data());
    }

    /** {@code x W^T + b} with W {@code [out, in]}. */
    static double[][] dense(double[][] x, FloatTensor w, float[] b) {
        int out = w.shape()[0];
        int in = w.shape()[1];
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < out; o++) {
                double acc = b[o];
                for (int i = 0; i < in; i++) {
                    acc += x[t][i] * w.data()[o * in + i];
                }
                y[t][o] = acc;
            }
        }
        return y;
    }

    static double[][] norm(ImportedModel m, double[][] x, String module, double eps) {
        return norm(x, m.weight(module + ".weight").data(), m.weight(module + ".bias").data(), eps);
    }

    /** Layer norm over each row with gain {@code g} and bias {@code b}, two passes (mean, then variance). */
    static double[][] norm(double[][] x, float[] g, float[] b, double eps) {
        double[][] y = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double mean = 0;
            for (double v : x[t]) {
                mean += v;
            }
            mean /= x[t].length;
            double var = 0;
            for (double v : x[t]) {
                var += (v - mean) * (v - mean);
            }
            var /= x[t].length;
            y[t] = new double[x[t].length];
            for (int j = 0; j < x[t].length; j++) {
                y[t][j] = (x[t][j] - mean) / Math.sqrt(var + eps) * g[j] + b[j];
            }
        }
        return y;
    }

    /**
     * The token embeddings {@code (S, H)}: each token's row of {@code embeddings.word_embeddings} plus the row of
     * {@code embeddings.position_embeddings} at its position, plus its row of {@code embeddings.token_type_embeddings}
     * unless {@code types} is null (a model without token types).
     */
    static double[][] embeddings(ImportedModel m, int[] ids, int[] positions, int[] types) {
        int h = m.config().hiddenSize();
        float[] word = m.weight("embeddings.word_embeddings.weight").data();
        float[] pos = m.weight("embeddings.position_embeddings.weight").data();
        float[] type = types == null ? null : m.weight("embeddings.token_type_embeddings.weight").data();
        double[][] x = new double[ids.length][h];
        for (int t = 0; t < ids.length; t++) {
            for (int j = 0; j < h; j++) {
                x[t][j] = word[ids[t] * h + j] + pos[positions[t] * h + j] + (type == null ? 0 : type[types[t] * h + j]);
            }
        }
        return x;
    }

    /** One attention score from {@code dot}, q·k of one head; {@link Double#NEGATIVE_INFINITY} masks the key. */
    @FunctionalInterface
    interface Score {
        double of(int head, int query, int key, double dot);
    }

    /**
     * Multi-head attention over rows {@code (S, heads * d)}: for each head and query, every key's score, a softmax over
     * them (the max subtracted; a masked key weighs 0), and the weighted sum of the value rows.
     */
    static double[][] attention(double[][] q, double[][] k, double[][] v, int heads, Score score) {
        int s = q.length;
        int h = q[0].length;
        int d = h / heads;
        double[][] ctx = new double[s][h];
        for (int hd = 0; hd < heads; hd++) {
            for (int qi = 0; qi < s; qi++) {
                double[] sc = new double[s];
                double max = Double.NEGATIVE_INFINITY;
                for (int ki = 0; ki < s; ki++) {
                    double dot = 0;
                    for (int j = 0; j < d; j++) {
                        dot += q[qi][hd * d + j] * k[ki][hd * d + j];
                    }
                    sc[ki] = score.of(hd, qi, ki, dot);
                    max = Math.max(max, sc[ki]);
                }
                double sum = 0;
                for (int ki = 0; ki < s; ki++) {
                    sc[ki] = Math.exp(sc[ki] - max);
                    sum += sc[ki];
                }
                for (int ki = 0; ki < s; ki++) {
                    for (int j = 0; j < d; j++) {
                        ctx[qi][hd * d + j] += sc[ki] / sum * v[ki][hd * d + j];
                    }
                }
            }
        }
        return ctx;
    }

    /**
     * A language-model decoder {@code x D^T + b}: each row's logit for every vocabulary entry, D {@code (V, H)} (the
     * word embeddings when tied) and b {@code (V)} (zeros for a decoder without bias).
     */
    static double[][] decode(double[][] x, float[] decoder, float[] bias) {
        int h = x[0].length;
        int vocab = decoder.length / h;
        double[][] logits = new double[x.length][vocab];
        for (int t = 0; t < x.length; t++) {
            for (int v = 0; v < vocab; v++) {
                double acc = bias[v];
                for (int j = 0; j < h; j++) {
                    acc += x[t][j] * decoder[v * h + j];
                }
                logits[t][v] = acc;
            }
        }
        return logits;
    }

    static double[][] add(double[][] a, double[][] b) {
        double[][] y = new double[a.length][a[0].length];
        for (int t = 0; t < a.length; t++) {
            for (int j = 0; j < a[0].length; j++) {
                y[t][j] = a[t][j] + b[t][j];
            }
        }
        return y;
    }

    static double[][] map(double[][] x, java.util.function.DoubleUnaryOperator f) {
        double[][] y = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            y[t] = java.util.Arrays.stream(x[t]).map(f).toArray();
        }
        return y;
    }

    static double[][] tanh(double[][] x) {
        return map(x, Math::tanh);
    }

    static double[][] relu(double[][] x) {
        return map(x, v -> Math.max(0, v));
    }

    /** transformers' ACT2FN for the names the graph builders support. */
    static double[][] activation(double[][] x, String name) {
        return switch (name) {
            case "gelu", "gelu_python" -> gelu(x);
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> map(x, v -> 0.5 * v * (1 + Math.tanh(
                    Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
            case "relu" -> relu(x);
            default -> throw new IllegalArgumentException("no plain-loop activation " + name);
        };
    }

    /** Exact GELU {@code x/2 (1 + erf(x/sqrt 2))}, erf by Abramowitz-Stegun 7.1.26 (error below 1.5e-7). */
    static double[][] gelu(double[][] x) {
        return map(x, v -> 0.5 * v * (1 + erf(v / Math.sqrt(2))));
    }

    static double erf(double z) {
        double t = 1 / (1 + 0.3275911 * Math.abs(z));
        double y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592)
                * t * Math.exp(-z * z);
        return z >= 0 ? y : -y;
    }

    /** {@code real} random token ids in {@code [2, vocab)} (seed 42), then padding id 1 with mask 0, up to {@code seq}. */
    static Map<String, FloatTensor> paddedInputs(int seq, int real, int vocab) {
        SplittableRandom r = new SplittableRandom(42);
        float[] ids = new float[seq];
        float[] mask = new float[seq];
        for (int i = 0; i < seq; i++) {
            ids[i] = i < real ? 2 + r.nextInt(vocab - 2) : 1;
            mask[i] = i < real ? 1 : 0;
        }
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        m.put("input_ids", new FloatTensor(new int[] {1, seq}, ids));
        m.put("attention_mask", new FloatTensor(new int[] {1, seq}, mask));
        return m;
    }

    /** The {@code input_ids} tensor's values as token ids. */
    static int[] ids(Map<String, FloatTensor> in) {
        float[] f = in.get("input_ids").data();
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = (int) f[i];
        }
        return out;
    }
}
