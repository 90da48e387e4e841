package io.aneforge.convert;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.aneforge.tensor.FloatTensor;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** ONNX Runtime running an original ONNX BERT export: the independent engine the converted graph is checked against. */
final class OnnxReference implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    OnnxReference(Path onnx) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        session = env.createSession(onnx.toString(), options);
    }

    /** {@code last_hidden_state} (1, S, C) for one sample given as our program inputs (ids and mask as floats). */
    FloatTensor lastHiddenState(Map<String, FloatTensor> inputs) throws OrtException {
        FloatTensor ids = inputs.get("input_ids");
        FloatTensor mask = inputs.get("attention_mask");
        int s = ids.shape()[1];
        long[] shape = {1, s};
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            feed.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(longs(ids)), shape));
            feed.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(longs(mask)), shape));
            if (session.getInputNames().contains("token_type_ids")) {
                feed.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[s]), shape));
            }
            try (OrtSession.Result r = session.run(feed)) {
                float[][][] out = (float[][][]) r.get(0).getValue();
                int c = out[0][0].length;
                float[] flat = new float[s * c];
                for (int i = 0; i < s; i++) {
                    System.arraycopy(out[0][i], 0, flat, i * c, c);
                }
                return new FloatTensor(new int[] {1, s, c}, flat);
            }
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    private static long[] longs(FloatTensor t) {
        long[] v = new long[t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (long) t.data()[i];
        }
        return v;
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
