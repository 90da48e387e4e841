package io.aneforge.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.onnx.proto.ModelProto;
import io.aneforge.onnx.proto.NodeProto;
import io.aneforge.onnx.proto.TensorProto;
import io.aneforge.safetensors.SafetensorsFile;
import io.aneforge.safetensors.SafetensorsWriter;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.source.WeightsFormat;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelImportTest {
    @TempDir
    Path dir;

    @Test
    void miniLmFromOnnxRoundTripsThroughSafetensorsWithIdenticalTensors() throws Exception {
        Path onnxDir = MiniLmSnapshot.write(dir.resolve("onnx-snapshot"));
        ModelSnapshot snapshot = ModelSnapshot.of(onnxDir, null);
        assertThat(snapshot.format()).isEqualTo(WeightsFormat.ONNX);

        ImportedModel fromOnnx = ModelImporter.importWeights(snapshot);
        BertConfig config = (BertConfig) fromOnnx.config();
        assertThat(config).isEqualTo(new BertConfig("bert", 30522, 384, 6, 12, 1536, 512, 2, 1e-12, "gelu", 0));
        // 5 embedding tensors + 16 per layer; the export dropped the optional pooler.
        assertThat(fromOnnx.weights()).hasSize(5 + 6 * 16);
        assertThat(fromOnnx.weight("encoder.layer.3.intermediate.dense.weight").shape()).containsExactly(1536, 384);
        assertThat(fromOnnx.weight("encoder.layer.3.output.dense.weight").shape()).containsExactly(384, 1536);

        // The [in, out] MatMul initializer consumed by .../query/MatMul is the transpose of the imported weight.
        ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(onnxDir.resolve("onnx/model.onnx")));
        String init = proto.getGraph().getNodeList().stream()
                .filter(n -> n.getName().equals("/encoder/layer.0/attention/self/query/MatMul"))
                .map(n -> n.getInput(1)).findFirst().orElseThrow();
        TensorProto raw = proto.getGraph().getInitializerList().stream().filter(t -> t.getName().equals(init))
                .findFirst().orElseThrow();
        ByteBuffer b = raw.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        FloatTensor query = fromOnnx.weight("encoder.layer.0.attention.self.query.weight");
        int in = 5;
        int out = 17;
        assertThat(query.data()[out * 384 + in]).isEqualTo(b.getFloat((in * 384 + out) * 4));

        Path stDir = Files.createDirectories(dir.resolve("st-snapshot"));
        Files.copy(onnxDir.resolve("config.json"), stDir.resolve("config.json"));
        Files.copy(onnxDir.resolve("tokenizer.json"), stDir.resolve("tokenizer.json"));
        SafetensorsWriter.write(stDir.resolve("model.safetensors"), fromOnnx.weights(), Map.of("format", "pt"));
        ImportedModel fromSt = ModelImporter.importWeights(ModelSnapshot.of(stDir, null));
        assertThat(fromSt.config()).isEqualTo(fromOnnx.config());
        assertThat(fromSt.weights().keySet()).containsExactlyElementsOf(fromOnnx.weights().keySet());
        for (Map.Entry<String, FloatTensor> e : fromOnnx.weights().entrySet()) {
            FloatTensor again = fromSt.weight(e.getKey());
            assertThat(again.shape()).as(e.getKey()).isEqualTo(e.getValue().shape());
            assertThat(again.data()).as(e.getKey()).isEqualTo(e.getValue().data());
        }
    }

    /**
     * The real all-MiniLM-L6-v2 export with layer 0's query weight kept under its Hub name (still the [in, out]
     * MatMul operand) imports to the same weights: the name does not make it [out, in]. It used to be imported
     * untransposed (384 x 384 passes the shape check), and the converted model computed another function.
     */
    @Test
    void aMatMulWeightUnderItsHubNameIsStillTransposed() throws Exception {
        Path original = MiniLmSnapshot.write(dir.resolve("minilm"));
        Path renamed = MiniLmSnapshot.write(dir.resolve("renamed"));
        String hub = "encoder.layer.0.attention.self.query.weight";
        Path onnx = renamed.resolve("onnx/model.onnx");
        ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(onnx));
        io.aneforge.onnx.proto.GraphProto.Builder g = proto.getGraph().toBuilder();
        String anonymous = null;
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getName().equals("/encoder/layer.0/attention/self/query/MatMul")) {
                anonymous = g.getNode(i).getInput(1);
                g.setNode(i, g.getNode(i).toBuilder().setInput(1, hub).build());
            }
        }
        assertThat(anonymous).startsWith("onnx::MatMul_");
        for (int i = 0; i < g.getInitializerCount(); i++) {
            if (g.getInitializer(i).getName().equals(anonymous)) {
                g.setInitializer(i, g.getInitializer(i).toBuilder().setName(hub).build());
            }
        }
        Files.write(onnx, proto.toBuilder().setGraph(g).build().toByteArray());

        ImportedModel expected = ModelImporter.importWeights(ModelSnapshot.of(original, null));
        ImportedModel got = ModelImporter.importWeights(ModelSnapshot.of(renamed, null));
        assertThat(got.weights().keySet()).containsExactlyElementsOf(expected.weights().keySet());
        assertThat(got.weight(hub).data()).isEqualTo(expected.weight(hub).data());
        assertThat(got.weight("embeddings.word_embeddings.weight").data())
                .isEqualTo(expected.weight("embeddings.word_embeddings.weight").data()); // a Gather table stays as stored
    }

    /** Named and anonymous matrices in every layout a consumer gives: MatMul, Gemm with and without transB, Transpose. */
    @Test
    void matricesAreReadInTheLayoutTheirConsumersGive() throws Exception {
        float[] stored = new float[2 * 3];
        for (int i = 0; i < stored.length; i++) {
            stored[i] = i + 1; // [[1, 2, 3], [4, 5, 6]] as stored
        }
        float[] transposed = {1, 4, 2, 5, 3, 6};
        java.util.function.Function<String, TensorProto> matrix = name -> MalformedInputTest.named(name, stored).toBuilder()
                .clearDims().addDims(2).addDims(3).build();
        io.aneforge.onnx.proto.AttributeProto transB = io.aneforge.onnx.proto.AttributeProto.newBuilder().setName("transB")
                .setI(1).build();
        io.aneforge.onnx.proto.AttributeProto perm = io.aneforge.onnx.proto.AttributeProto.newBuilder().setName("perm")
                .addInts(1).addInts(0).build();
        ModelProto m = MalformedInputTest.onnxModel(java.util.List.of(matrix.apply("a.weight"), matrix.apply("b.weight"),
                        matrix.apply("c.weight"), matrix.apply("d.weight"), matrix.apply("onnx::Gemm_7"),
                        matrix.apply("e.weight")),
                java.util.List.of(
                        MalformedInputTest.matMul("/a/MatMul", "a.weight"), // [in, out]
                        NodeProto.newBuilder().setName("/b/Gemm").setOpType("Gemm").addInput("x").addInput("b.weight")
                                .addInput("b.bias").addAttribute(transB).build(), // [out, in]
                        NodeProto.newBuilder().setName("/c/Gemm").setOpType("Gemm").addInput("x").addInput("c.weight")
                                .build(), // [in, out]
                        NodeProto.newBuilder().setName("/d/Transpose").setOpType("Transpose").addInput("d.weight")
                                .addOutput("dt").addAttribute(perm).build(),
                        MalformedInputTest.matMul("/d/MatMul", "dt"), // [out, in] transposed in the graph
                        NodeProto.newBuilder().setName("/f/Gemm").setOpType("Gemm").addInput("x").addInput("onnx::Gemm_7")
                                .addAttribute(transB).build(), // anonymous, [out, in], named after its module
                        NodeProto.newBuilder().setName("/e/Gather").setOpType("Gather").addInput("e.weight").addInput("ids")
                                .build())); // a table
        Path onnx = dir.resolve("layouts.onnx");
        Files.write(onnx, m.toByteArray());
        Map<String, FloatTensor> w = io.aneforge.onnx.OnnxWeights.read(onnx);
        for (String name : java.util.List.of("a.weight", "c.weight")) {
            assertThat(w.get(name).shape()).as(name).containsExactly(3, 2);
            assertThat(w.get(name).data()).as(name).containsExactly(transposed);
        }
        for (String name : java.util.List.of("b.weight", "d.weight", "f.weight", "e.weight")) {
            assertThat(w.get(name).shape()).as(name).containsExactly(2, 3);
            assertThat(w.get(name).data()).as(name).containsExactly(stored);
        }
    }

    /**
     * PyTorch exports put Identity, Cast, Reshape or Unsqueeze between a (tied) weight and its reader: Identity and
     * float Casts pass the layout through, and a Hub-named matrix whose readers say nothing keeps the Hub's
     * [out, in] (these were refused as "unknown layout"); readers that disagree are still refused.
     */
    @Test
    void layoutsPassThroughIdentityAndCastAndNamedMatricesKeepTheHubLayout() throws Exception {
        float[] stored = {1, 2, 3, 4, 5, 6};
        float[] transposed = {1, 4, 2, 5, 3, 6};
        java.util.function.Function<String, TensorProto> matrix = name -> MalformedInputTest.named(name, stored).toBuilder()
                .clearDims().addDims(2).addDims(3).build();
        io.aneforge.onnx.proto.AttributeProto transB = io.aneforge.onnx.proto.AttributeProto.newBuilder().setName("transB")
                .setI(1).build();
        io.aneforge.onnx.proto.AttributeProto toHalf = io.aneforge.onnx.proto.AttributeProto.newBuilder().setName("to")
                .setI(TensorProto.DataType.FLOAT16_VALUE).build();
        java.util.function.BiFunction<String, String[], NodeProto> node = (op, io) -> NodeProto.newBuilder()
                .setName("/" + op + "_" + io[0]).setOpType(op).addInput(io[0]).addOutput(io[1]).build();
        ModelProto m = MalformedInputTest.onnxModel(java.util.List.of(matrix.apply("g.weight"), matrix.apply("h.weight"),
                        matrix.apply("k.weight"), matrix.apply("u.weight")),
                java.util.List.of(
                        node.apply("Identity", new String[]{"g.weight", "gi"}),
                        MalformedInputTest.matMul("/g/MatMul", "gi"), // [in, out] through an Identity
                        node.apply("Cast", new String[]{"h.weight", "hc"}).toBuilder().addAttribute(toHalf).build(),
                        NodeProto.newBuilder().setName("/h/Gemm").setOpType("Gemm").addInput("x").addInput("hc")
                                .addAttribute(transB).build(), // [out, in] through a Cast
                        node.apply("Reshape", new String[]{"k.weight", "kr"}), // says nothing: the Hub's [out, in]
                        node.apply("Unsqueeze", new String[]{"u.weight", "uu"}),
                        MalformedInputTest.matMul("/u/MatMul", "u.weight"))); // one reader says [in, out]
        Path onnx = dir.resolve("relays.onnx");
        Files.write(onnx, m.toByteArray());
        Map<String, FloatTensor> w = io.aneforge.onnx.OnnxWeights.read(onnx);
        for (String name : java.util.List.of("g.weight", "u.weight")) {
            assertThat(w.get(name).data()).as(name).containsExactly(transposed);
        }
        for (String name : java.util.List.of("h.weight", "k.weight")) {
            assertThat(w.get(name).data()).as(name).containsExactly(stored);
        }

        Path conflict = dir.resolve("conflict.onnx");
        Files.write(conflict, MalformedInputTest.onnxModel(java.util.List.of(matrix.apply("t.weight")), java.util.List.of(
                node.apply("Identity", new String[]{"t.weight", "ti"}),
                MalformedInputTest.matMul("/t/MatMul", "ti"),
                NodeProto.newBuilder().setName("/t/Gather").setOpType("Gather").addInput("t.weight").addInput("ids").build()))
                .toByteArray());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.aneforge.onnx.OnnxWeights.read(conflict))
                .hasMessageContaining("unknown layout: initializer 't.weight' [2, 3] is read both as [in, out] and as [out, in]");
    }

    /** onnx.proto keeps FLOAT16 values without raw_data as their bit patterns in int32_data; they used to hold "0 values". */
    @Test
    void fp16InitializersInInt32DataDecode() throws Exception {
        float[] values = {1f, -2f, 0.5f, 65504f};
        TensorProto.Builder half = TensorProto.newBuilder().setName("onnx::MatMul_2")
                .setDataType(TensorProto.DataType.FLOAT16_VALUE).addDims(2).addDims(2);
        for (float v : values) {
            half.addInt32Data(io.aneforge.kernels.Fp16.fromFloat(v) & 0xFFFF);
        }
        Path onnx = dir.resolve("int32data.onnx");
        Files.write(onnx, MalformedInputTest.onnxModel(java.util.List.of(half.build()),
                java.util.List.of(MalformedInputTest.matMul("/encoder/layer.0/output/dense/MatMul", "onnx::MatMul_2")))
                .toByteArray());
        FloatTensor w = io.aneforge.onnx.OnnxWeights.read(onnx).get("encoder.layer.0.output.dense.weight");
        assertThat(w.data()).containsExactly(1f, 0.5f, -2f, 65504f); // [in, out] stored, [out, in] imported
    }

    @Test
    void tinyBertWithTaskPrefixImportsToCanonicalNames() throws Exception {
        ImportedModel plain = ModelImporter.importWeights(ModelSnapshot.of(TinyModels.bert(dir.resolve("a"), 7), null));
        // a BertForPreTraining config without its heads: the base model (HeadChoice.NONE), as --head none converts it
        ImportedModel prefixed = ModelImporter.importWeights(
                ModelSnapshot.of(TinyModels.bert(dir.resolve("b"), 7, "bert."), null), HeadChoice.NONE);
        assertThat(prefixed.weights().keySet()).containsExactlyElementsOf(plain.weights().keySet())
                .contains("pooler.dense.weight", "encoder.layer.1.output.LayerNorm.bias");
        assertThat(prefixed.weight("embeddings.word_embeddings.weight").data())
                .isEqualTo(plain.weight("embeddings.word_embeddings.weight").data());
    }

    @Test
    void gpt2Conv1dWeightsAreTransposedToOutIn() throws Exception {
        Path gpt = TinyModels.gpt2(dir.resolve("gpt2"), 3);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(gpt, null));
        assertThat(model.config()).isInstanceOf(Gpt2Config.class);
        FloatTensor cAttn = model.weight("h.0.attn.c_attn.weight");
        assertThat(cAttn.shape()).containsExactly(3 * TinyModels.HIDDEN, TinyModels.HIDDEN);
        try (SafetensorsFile f = SafetensorsFile.open(gpt.resolve("model.safetensors"))) {
            FloatTensor stored = f.readFloat("transformer.h.0.attn.c_attn.weight"); // [in, out]
            int in = 4;
            int out = 70;
            assertThat(cAttn.data()[out * TinyModels.HIDDEN + in]).isEqualTo(stored.data()[in * 3 * TinyModels.HIDDEN + out]);
        }
        assertThat(model.weight("h.1.mlp.c_proj.weight").shape()).containsExactly(TinyModels.HIDDEN, 4 * TinyModels.HIDDEN);
    }

    /**
     * FP16 initializers after other fields of the file: raw_data is parsed as a view of the file's bytes, so
     * the decoder must index from the view's start (a buffer index of 0 is the start of the file).
     */
    @Test
    void fp16InitializersDecodeTheirOwnBytes() throws Exception {
        float[] values = {1f, -2f, 0.5f, 65504f, 0.000061035156f, -0f};
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putShort(io.aneforge.kernels.Fp16.fromFloat(v));
        }
        TensorProto half = TensorProto.newBuilder().setName("encoder.layer.0.output.LayerNorm.weight")
                .setDataType(TensorProto.DataType.FLOAT16_VALUE).addDims(values.length)
                .setRawData(com.google.protobuf.ByteString.copyFrom(b.array())).build();
        TensorProto halfMatMul = half.toBuilder().setName("onnx::MatMul_3").clearDims().addDims(3).addDims(2).build(); // [in, out]
        Path onnx = dir.resolve("half.onnx");
        Files.write(onnx, MalformedInputTest.onnxModel(java.util.List.of(
                MalformedInputTest.named("encoder.layer.0.output.LayerNorm.bias", new float[] {7, 8, 9}), half, halfMatMul),
                java.util.List.of(NodeProto.newBuilder().setName("/encoder/layer.0/attention/self/key/MatMul")
                        .setOpType("MatMul").addInput("x").addInput("onnx::MatMul_3").build())).toByteArray());
        Map<String, FloatTensor> w = io.aneforge.onnx.OnnxWeights.read(onnx);
        assertThat(w.get("encoder.layer.0.output.LayerNorm.weight").data()).containsExactly(values);
        assertThat(w.get("encoder.layer.0.output.LayerNorm.bias").data()).containsExactly(7f, 8f, 9f);
        FloatTensor key = w.get("encoder.layer.0.attention.self.key.weight"); // [out, in]
        assertThat(key.shape()).containsExactly(2, 3);
        for (int in = 0; in < 3; in++) {
            for (int out = 0; out < 2; out++) {
                assertThat(key.data()[out * 3 + in]).isEqualTo(values[in * 2 + out]);
            }
        }
    }

    @Test
    void namedMatMulNodesMapToHubNames() throws Exception {
        Path onnx = dir.resolve("m.onnx");
        float[] stored = new float[19 * 3]; // [in, out] as ONNX stores it; 19 rows: two blocks of 8 and a tail
        for (int i = 0; i < stored.length; i++) {
            stored[i] = i + 0.5f;
        }
        ModelProto m = MalformedInputTest.onnxModel(java.util.List.of(
                MalformedInputTest.named("onnx::MatMul_9", stored).toBuilder().clearDims().addDims(19).addDims(3).build(),
                MalformedInputTest.named("encoder.layer.0.attention.self.query.bias", new float[] {1, 2, 3})),
                java.util.List.of(NodeProto.newBuilder().setName("/encoder/layer.0/attention/self/query/MatMul")
                        .setOpType("MatMul").addInput("x").addInput("onnx::MatMul_9").build()));
        Files.write(onnx, m.toByteArray());
        Map<String, FloatTensor> w = io.aneforge.onnx.OnnxWeights.read(onnx);
        assertThat(w).containsOnlyKeys("encoder.layer.0.attention.self.query.weight",
                "encoder.layer.0.attention.self.query.bias");
        FloatTensor q = w.get("encoder.layer.0.attention.self.query.weight");
        assertThat(q.shape()).containsExactly(3, 19); // [out, in]
        for (int in = 0; in < 19; in++) {
            for (int out = 0; out < 3; out++) {
                assertThat(q.data()[out * 19 + in]).isEqualTo(stored[in * 3 + out]);
            }
        }
    }
}
