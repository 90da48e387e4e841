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
 * {@code EncoderFamiliesConversionTest.Plain}): torch's modules written as loops over doubles, with nothing shared with
 * the graph builders they check, kept in one place so that both references compute a layer the same way.
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
        FloatTensor w = m.weight(module + ".weight");
        float[] b = m.weight(module + ".bias").data();
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
