package io.aneforge.cli.reference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.aneforge.graph.Graphs;
import io.aneforge.tensor.FloatTensor;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An original ONNX model run by ONNX Runtime on the same sample inputs as a package, its outputs named like the
 * package's: the independent reference of {@code --reference onnxruntime} ({@code eval}, {@code convert}). The only class that touches ONNX
 * Runtime, so that without its jar or native library every other command works.
 *
 * <p>Inputs are fed by the ONNX graph's own names ({@code input_ids}, {@code attention_mask},
 * {@code token_type_ids}) in the integer type it declares; a graph that takes {@code token_type_ids} for samples
 * that have none (single texts) gets zeros, segment 0, as Hugging Face's tokenizers give. Each package output
 * is matched with the ONNX output of the same name, or of a known alias ({@code token_embeddings}, the
 * sentence-transformers name of {@code last_hidden_state}), or else the one ONNX output left whose declared
 * shape fits; the shape of what ONNX Runtime computes must then equal the package output's.
 */
public final class OnnxRuntimeReference implements AutoCloseable {

    /** ONNX output names that hold the same tensor as a package output of another name. */
    private static final Map<String, List<String>> ALIASES = Map.of(
            Graphs.LAST_HIDDEN_STATE, List.of("token_embeddings"));

    private static final Set<String> INPUTS = Set.of(Graphs.INPUT_IDS, Graphs.ATTENTION_MASK, Graphs.TOKEN_TYPE_IDS);

    private final Path onnx;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final Map<String, TensorInfo> inputs;
    /** Package output name to ONNX output name, in package output order. */
    private final Map<String, String> outputs;
    private final Map<String, int[]> packageShapes;

    private OnnxRuntimeReference(Path onnx, OrtEnvironment env, OrtSession session, Map<String, TensorInfo> inputs,
                                 Map<String, String> outputs, Map<String, int[]> packageShapes) {
        this.onnx = onnx;
        this.env = env;
        this.session = session;
        this.inputs = inputs;
        this.outputs = outputs;
        this.packageShapes = packageShapes;
    }

    /**
     * Loads ONNX Runtime and {@code onnx}, and matches its inputs and outputs with a package's.
     *
     * @param seqLen         the package's sequence length: every sample is fed at it
     * @param packageInputs  the package's input names ({@code input_ids}, {@code attention_mask}, maybe
     *                       {@code token_type_ids})
     * @param packageOutputs the package's outputs and their shapes, in order
     * @throws ReferenceException naming the problem and the fix: ONNX Runtime cannot load, the file is not a model
     *     it can load, or the graph's inputs or outputs do not fit the package
     */
    public static OnnxRuntimeReference open(Path onnx, int seqLen, Set<String> packageInputs,
                                            Map<String, int[]> packageOutputs) {
        OrtEnvironment env = environment();
        OrtSession session;
        try {
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            session = env.createSession(onnx.toString(), options);
        } catch (OrtException e) {
            throw new ReferenceException("ONNX Runtime cannot load " + onnx + ": " + e.getMessage()
                    + ": fix the ONNX file or pass --reference fp32-graph", true, e);
        }
        try {
            Map<String, TensorInfo> in = inputs(onnx, session, seqLen, packageInputs);
            Map<String, String> out = outputs(onnx, session, packageOutputs);
            return new OnnxRuntimeReference(onnx, env, session, in, out, Map.copyOf(packageOutputs));
        } catch (OrtException e) {
            close(session);
            throw new ReferenceException("ONNX Runtime cannot read the inputs and outputs of " + onnx + ": "
                    + e.getMessage(), false, e);
        } catch (RuntimeException e) {
            close(session);
            throw e;
        }
    }

    /**
     * Loads ONNX Runtime and its native library (once per JVM), so that {@code eval} can fail before it imports the
     * source's weights.
     *
     * @throws ReferenceException when it cannot load on this machine (not a usage error)
     */
    public static void requireRuntime() {
        environment();
    }

    private static OrtEnvironment environment() {
        try {
            return OrtEnvironment.getEnvironment();
        } catch (LinkageError | RuntimeException e) {
            throw new ReferenceException("ONNX Runtime cannot load on this machine (" + describe(e) + "; "
                    + System.getProperty("os.name") + " " + System.getProperty("os.arch") + "): it needs its native "
                    + "library for this platform (the onnxruntime jar ships Linux x64/aarch64 with glibc, macOS and "
                    + "Windows); pass --reference fp32-graph to measure against the converter's FP32 graph instead",
                    false, e);
        }
    }

    private static Map<String, TensorInfo> inputs(Path onnx, OrtSession session, int seqLen, Set<String> packageInputs)
            throws OrtException {
        Map<String, TensorInfo> in = new LinkedHashMap<>();
        for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
            if (!INPUTS.contains(e.getKey()) || !(e.getValue().getInfo() instanceof TensorInfo t)) {
                throw new ReferenceException(onnx + " takes an input '" + e.getKey() + "' (" + e.getValue().getInfo()
                        + "); aneforge feeds only " + String.join(", ", sorted(INPUTS)) + ": pass the --source the package "
                        + "was converted from, whose ONNX model takes token ids", true, null);
            }
            if (t.type != OnnxJavaType.INT64 && t.type != OnnxJavaType.INT32 && t.type != OnnxJavaType.FLOAT) {
                throw new ReferenceException(onnx + " takes '" + e.getKey() + "' as " + t.type
                        + "; aneforge feeds token ids as int64, int32 or float", true, null);
            }
            long[] shape = t.getShape();
            if (shape.length != 2 || (shape[0] >= 0 && shape[0] != 1) || (shape[1] >= 0 && shape[1] != seqLen)) {
                throw new ReferenceException(onnx + " takes '" + e.getKey() + "' of shape " + declaredShape(shape)
                        + ", but aneforge feeds (1, " + seqLen + "), the package's sequence length: an ONNX model exported "
                        + "at a fixed length is compared only with a package converted at that --seq-len", true, null);
            }
            in.put(e.getKey(), t);
        }
        for (String required : List.of(Graphs.INPUT_IDS, Graphs.ATTENTION_MASK)) {
            if (!in.containsKey(required)) {
                throw new ReferenceException(onnx + " takes no '" + required + "' (its inputs: "
                        + String.join(", ", in.keySet()) + "); aneforge needs a BERT-style ONNX model that takes "
                        + Graphs.INPUT_IDS + " and " + Graphs.ATTENTION_MASK, true, null);
            }
        }
        if (packageInputs.contains(Graphs.TOKEN_TYPE_IDS) && !in.containsKey(Graphs.TOKEN_TYPE_IDS)) {
            throw new ReferenceException("the package takes " + Graphs.TOKEN_TYPE_IDS + " (it reads sentence pairs), but "
                    + onnx + " does not, so it cannot compute the same outputs: pass --reference fp32-graph", true, null);
        }
        return in;
    }

    private static Map<String, String> outputs(Path onnx, OrtSession session, Map<String, int[]> packageOutputs)
            throws OrtException {
        Map<String, long[]> declared = new LinkedHashMap<>();
        for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
            if (e.getValue().getInfo() instanceof TensorInfo t) {
                declared.put(e.getKey(), t.getShape());
            }
        }
        Map<String, String> matched = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> p : packageOutputs.entrySet()) {
            String name = p.getKey();
            int[] shape = p.getValue();
            List<String> byName = new ArrayList<>();
            byName.add(name);
            byName.addAll(ALIASES.getOrDefault(name, List.of()));
            String pick = null;
            for (String candidate : byName) {
                if (declared.containsKey(candidate)) {
                    if (!fits(declared.get(candidate), shape)) {
                        throw new ReferenceException("package output '" + name + "' is " + shape(shape) + ", but the "
                                + "output '" + candidate + "' of " + onnx + " is " + declaredShape(declared.get(candidate))
                                + ": the package was not converted from this ONNX model; pass the --source it was "
                                + "converted from", true, null);
                    }
                    pick = candidate;
                    break;
                }
            }
            if (pick == null) {
                List<String> fitting = declared.entrySet().stream()
                        .filter(d -> !matched.containsValue(d.getKey()) && fits(d.getValue(), shape))
                        .map(Map.Entry::getKey).toList();
                if (fitting.size() != 1) {
                    throw new ReferenceException("package output '" + name + "' " + shape(shape) + " matches "
                            + (fitting.isEmpty() ? "no output" : "several outputs (" + String.join(", ", fitting) + ")")
                            + " of " + onnx + " by name or shape (its outputs: " + declared.entrySet().stream()
                            .map(d -> d.getKey() + " " + declaredShape(d.getValue())).collect(Collectors.joining(", "))
                            + "): pass the --source the package was converted from, or --reference fp32-graph", true,
                            null);
                }
                pick = fitting.get(0);
            }
            matched.put(name, pick);
        }
        return matched;
    }

    /** Same rank, and every fixed dimension (ONNX writes a symbolic one as -1) equal. */
    private static boolean fits(long[] declared, int[] shape) {
        if (declared.length != shape.length) {
            return false;
        }
        for (int d = 0; d < shape.length; d++) {
            if (declared[d] >= 0 && declared[d] != shape[d]) {
                return false;
            }
        }
        return true;
    }

    /** The ONNX file this reference runs. */
    public Path onnx() {
        return onnx;
    }

    /** Package output name to the ONNX output it is compared with. */
    public Map<String, String> outputNames() {
        return outputs;
    }

    /**
     * The reference outputs of one sample, named like the package's outputs.
     *
     * @param sample full-length {@code (1, S)} program inputs ({@code Golden.inputs}: ids as exact floats)
     * @throws ReferenceException when ONNX Runtime fails on them or an output's shape is not the package's
     */
    public Map<String, FloatTensor> run(Map<String, FloatTensor> sample) {
        int[] s = sample.get(Graphs.INPUT_IDS).shape();
        long[] shape = {s[0], s[1]};
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, TensorInfo> in : inputs.entrySet()) {
                FloatTensor given = sample.get(in.getKey());
                float[] values = given == null ? new float[s[0] * s[1]] : given.data(); // token_type_ids: segment 0
                feed.put(in.getKey(), tensor(in.getValue().type, values, shape));
            }
            try (OrtSession.Result r = session.run(feed, Set.copyOf(outputs.values()))) {
                Map<String, FloatTensor> out = new LinkedHashMap<>();
                for (Map.Entry<String, String> o : outputs.entrySet()) {
                    OnnxValue v = r.get(o.getValue()).orElseThrow();
                    out.put(o.getKey(), floats(o.getKey(), o.getValue(), (OnnxTensor) v));
                }
                return out;
            }
        } catch (OrtException e) {
            throw new ReferenceException("ONNX Runtime failed to run " + onnx + " on inputs of shape " + shape(s) + ": "
                    + e.getMessage() + ": pass the --source the package was converted from", true, e);
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    private OnnxTensor tensor(OnnxJavaType type, float[] values, long[] shape) throws OrtException {
        return switch (type) {
            case INT64 -> {
                long[] v = new long[values.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (long) values[i];
                }
                yield OnnxTensor.createTensor(env, LongBuffer.wrap(v), shape);
            }
            case INT32 -> {
                int[] v = new int[values.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (int) values[i];
                }
                yield OnnxTensor.createTensor(env, IntBuffer.wrap(v), shape);
            }
            default -> OnnxTensor.createTensor(env, FloatBuffer.wrap(values.clone()), shape);
        };
    }

    private FloatTensor floats(String packageName, String onnxName, OnnxTensor t) {
        long[] got = t.getInfo().getShape();
        int[] expected = packageShapes.get(packageName);
        if (!Arrays.equals(got, Arrays.stream(expected).asLongStream().toArray())) {
            throw new ReferenceException("ONNX Runtime computed output '" + onnxName + "' of " + onnx + " as "
                    + declaredShape(got) + ", but the package's '" + packageName + "' is " + shape(expected)
                    + ": the package was not converted from this ONNX model; pass the --source it was converted from",
                    true, null);
        }
        float[] data;
        OnnxJavaType type = t.getInfo().type;
        if (type == OnnxJavaType.FLOAT || type == OnnxJavaType.FLOAT16 || type == OnnxJavaType.BFLOAT16) {
            FloatBuffer b = t.getFloatBuffer(); // half types come back widened to float
            data = new float[b.remaining()];
            b.get(data);
        } else if (type == OnnxJavaType.DOUBLE) {
            DoubleBuffer b = t.getDoubleBuffer();
            data = new float[b.remaining()];
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) b.get(i);
            }
        } else {
            throw new ReferenceException("output '" + onnxName + "' of " + onnx + " is " + type
                    + ", not floating point, so it cannot be compared with the package's '" + packageName + "'", true,
                    null);
        }
        return new FloatTensor(expected.clone(), data);
    }

    private static String shape(int[] s) {
        return "(" + Arrays.stream(s).mapToObj(Integer::toString).collect(Collectors.joining(", ")) + ")";
    }

    private static String declaredShape(long[] s) {
        return "(" + Arrays.stream(s).mapToObj(d -> d < 0 ? "?" : Long.toString(d)).collect(Collectors.joining(", "))
                + ")";
    }

    private static List<String> sorted(Set<String> names) {
        return names.stream().sorted().toList();
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage();
        return root.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private static void close(OrtSession session) {
        try {
            session.close();
        } catch (OrtException ignored) {
            // closing after a failure that is reported instead
        }
    }

    @Override
    public void close() {
        close(session);
    }
}
