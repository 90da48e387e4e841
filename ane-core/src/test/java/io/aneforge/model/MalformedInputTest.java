package io.aneforge.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.google.protobuf.ByteString;
import io.aneforge.onnx.OnnxFormatException;
import io.aneforge.onnx.OnnxWeights;
import io.aneforge.onnx.proto.GraphProto;
import io.aneforge.onnx.proto.ModelProto;
import io.aneforge.onnx.proto.NodeProto;
import io.aneforge.onnx.proto.StringStringEntryProto;
import io.aneforge.onnx.proto.TensorProto;
import io.aneforge.safetensors.SafetensorsException;
import io.aneforge.safetensors.SafetensorsFile;
import io.aneforge.safetensors.ShardedSafetensors;
import io.aneforge.safetensors.TensorInfo;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.source.ModelSourceException;
import io.aneforge.testsupport.models.RawSafetensors;
import io.aneforge.testsupport.models.TinyModels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupted safetensors, ONNX and config files: each must be rejected with its own checked,
 * domain exception whose message names the rule (pinned here), never an unchecked exception,
 * an OOM or a hang.
 */
class MalformedInputTest {
    @TempDir
    static Path root;

    /** What to do with a corrupt input; throws the expected domain exception. */
    interface Action {
        void run(Path dir) throws Exception;
    }

    record Case(String name, Action action, Class<? extends IOException> type, String fragment) {
    }

    private static final float[] FOUR = {1, 2, 3, 4};

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // ---- safetensors ----
        c.add(st("empty file", new byte[0], "shorter than the 8-byte header length prefix"));
        c.add(st("truncated length prefix", new byte[5], "shorter than the 8-byte header length prefix"));
        c.add(st("header length past end of file", RawSafetensors.rawHeader(4096, "{}".getBytes(), new byte[0]),
                "runs past the end of the file"));
        c.add(st("header length above cap", RawSafetensors.rawHeader(1L << 40, "{}".getBytes(), new byte[0]),
                "exceeds the cap of 25000000 bytes"));
        c.add(st("header length negative as signed", RawSafetensors.rawHeader(-8, "{}".getBytes(), new byte[0]),
                "exceeds the cap"));
        c.add(st("header length too short", RawSafetensors.rawHeader(1, "{".getBytes(), new byte[0]),
                "too short for a JSON object"));
        c.add(st("header is a JSON array", RawSafetensors.bytes("[1,2]", new byte[0]), "must start with '{'"));
        c.add(st("header JSON cut off", RawSafetensors.bytes("{\"a\":{\"dtype\":", new byte[0]),
                "header is not valid JSON"));
        c.add(st("header not UTF-8", RawSafetensors.rawHeader(4, new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'},
                new byte[0]), "header is not valid UTF-8"));
        c.add(st("duplicate tensor names", RawSafetensors.bytes(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
                "duplicate tensor name"));
        c.add(st("unknown dtype", new RawSafetensors().raw("w", "Q4_K", new byte[4], 4).bytes(),
                "unsupported dtype 'Q4_K'"));
        c.add(st("missing data_offsets", RawSafetensors.bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}",
                new byte[4]), "missing or non-array 'data_offsets'"));
        c.add(st("three data_offsets", RawSafetensors.bytes(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", new byte[8]),
                "'data_offsets' must have 2 elements"));
        c.add(st("negative dimension", RawSafetensors.bytes(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]),
                "'shape' element 0 (-1) is not a non-negative 64-bit integer"));
        c.add(st("end before begin", RawSafetensors.bytes(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", new byte[8]), "end before begin"));
        c.add(st("offsets out of range", RawSafetensors.bytes(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]),
                "out of range: the data buffer has 8 bytes"));
        byte[] whole = new RawSafetensors().f32("w", new float[64], 64).bytes();
        // a half-downloaded file: the message says so and what to do (it said only "out of range")
        c.add(st("truncated data buffer", java.util.Arrays.copyOf(whole, whole.length - 100),
                "out of range: the data buffer has 156 bytes, so the file is shorter than its header says (truncated, "
                        + "e.g. by an interrupted download): download it again"));
        c.add(st("dtype and shape disagree with byte length", RawSafetensors.bytes(
                "{\"w\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[16]),
                "does not match dtype F16"));
        c.add(st("overlapping offsets", RawSafetensors.bytes(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]),
                "overlap tensor 'a'"));
        c.add(st("hole between tensors", RawSafetensors.bytes(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12]),
                "hole of 4 bytes"));
        c.add(st("trailing bytes", RawSafetensors.bytes(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[12]),
                "8 trailing bytes after the last tensor"));
        c.add(st("huge dimensions overflow", RawSafetensors.bytes(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}",
                new byte[4]), "overflows 64-bit byte size"));
        c.add(st("unknown entry field", RawSafetensors.bytes(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"endian\":\"big\"}}", new byte[4]),
                "unknown field 'endian'"));
        c.add(st("non-string metadata", RawSafetensors.bytes("{\"__metadata__\":{\"n\":1}}", new byte[0]),
                "__metadata__ value for 'n' must be a string"));
        c.add(st("entry is not an object", RawSafetensors.bytes("{\"w\":[1,2]}", new byte[0]),
                "entry must be an object"));
        c.add(st("NaN weight", new RawSafetensors().f32("w", new float[] {1, Float.NaN}, 2).bytes(),
                "element 1 is NaN: NaN and infinite weights are rejected"));
        c.add(st("infinite weight", new RawSafetensors().f32("w", new float[] {Float.NEGATIVE_INFINITY}, 1).bytes(),
                "element 0 is -Infinity"));
        c.add(new Case("shard outside the model directory", dir -> {
            Files.writeString(dir.resolve(ShardedSafetensors.INDEX_FILE),
                    "{\"weight_map\":{\"w\":\"../elsewhere/model.safetensors\"}}");
            ShardedSafetensors.open(dir.resolve(ShardedSafetensors.INDEX_FILE)).close();
        }, SafetensorsException.class, "must be a .safetensors file in the same directory"));
        // ---- config.json ----
        c.add(config("config is not JSON", "{\"model_type\": bert}", "config.json is not valid JSON"));
        c.add(config("unsupported architecture", "{\"model_type\":\"llama\",\"architectures\":[\"LlamaForCausalLM\"]}",
                "unsupported model: model_type 'llama', architectures [LlamaForCausalLM]; supported model types"));
        c.add(config("unsupported head on a supported type",
                "{\"model_type\":\"bert\",\"architectures\":[\"BertForMultipleChoice\"]}",
                "architectures [BertForMultipleChoice]"));
        String classifier = bertConfig(384, 12, 30522).replace("BertModel", "BertForSequenceClassification");
        c.add(config("id2label with a gap", classifier.replace("\"model_type\"",
                "\"id2label\": {\"0\": \"A\", \"2\": \"B\"}, \"model_type\""),
                "config field 'id2label' = {\"0\":\"A\",\"2\":\"B\"} must map each id 0..1 once to a label name"));
        c.add(config("id2label not an object", classifier.replace("\"model_type\"", "\"id2label\": [\"A\"], \"model_type\""),
                "config field 'id2label' = [\"A\"] must be an object of label names by id"));
        c.add(config("num_labels against id2label", classifier.replace("\"model_type\"",
                "\"id2label\": {\"0\": \"A\", \"1\": \"B\"}, \"num_labels\": 3, \"model_type\""),
                "config field 'num_labels' = 3 disagrees with the 2 labels of 'id2label'"));
        c.add(config("missing field", bertConfig(384, 12, 30522).replace("\"num_hidden_layers\": 6,", ""),
                "config field 'num_hidden_layers' is missing"));
        c.add(config("hidden not divisible by heads", bertConfig(384, 7, 30522), "not divisible by num_attention_heads"));
        c.add(config("huge vocabulary", bertConfig(384, 12, 2_000_000_000), "'vocab_size' = 2000000000 must be in 1.."));
        c.add(config("dimension not an integer", bertConfig(384, 12, 30522).replace("\"hidden_size\": 384",
                "\"hidden_size\": 384.5"), "'hidden_size' = 384.5 is not a 32-bit integer"));
        // ---- architecture vs weights ----
        c.add(new Case("wrong shape for the architecture", dir -> {
            TinyModels.bert(dir, 1);
            rewriteConfig(dir, "\"intermediate_size\": 64", "\"intermediate_size\": 128");
            ModelImporter.importWeights(ModelSnapshot.of(dir, null));
        }, ModelImportException.class, "has shape [64, 32] but bert expects [128, 32]"));
        c.add(new Case("extra tensors for the architecture", dir -> {
            TinyModels.bert(dir, 1);
            rewriteConfig(dir, "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1");
            ModelImporter.importWeights(ModelSnapshot.of(dir, null));
        }, ModelImportException.class, "unexpected tensor 'encoder.layer.1."));
        c.add(new Case("integer tensor where a weight belongs", dir -> {
            TinyModels.bert(dir, 1);
            Path st = dir.resolve("model.safetensors");
            RawSafetensors rewritten = new RawSafetensors();
            try (SafetensorsFile f = SafetensorsFile.open(st)) {
                for (TensorInfo t : f.tensors()) {
                    if (t.name().equals("embeddings.LayerNorm.weight")) {
                        rewritten.raw(t.name(), "I32", new byte[4 * 32], 32);
                    } else {
                        rewritten.f32(t.name(), f.readFloat(t.name()).data(), t.shape());
                    }
                }
            }
            rewritten.write(st);
            ModelImporter.importWeights(ModelSnapshot.of(dir, null));
        }, SafetensorsException.class, "tensor 'embeddings.LayerNorm.weight' has dtype I32, which is not a floating-point"
                + " weight"));
        c.add(new Case("shard index not UTF-8", dir -> {
            TinyModels.bert(dir, 1);
            Files.delete(dir.resolve("model.safetensors"));
            Files.write(dir.resolve(ShardedSafetensors.INDEX_FILE), new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}'});
            ModelImporter.importWeights(ModelSnapshot.of(dir, null));
        }, ModelImportException.class, ShardedSafetensors.INDEX_FILE + ": " + ShardedSafetensors.INDEX_FILE
                + " is not valid UTF-8: save it as UTF-8 JSON"));
        c.add(new Case("missing tensors", dir -> {
            TinyModels.bert(dir, 1);
            new RawSafetensors().f32("embeddings.LayerNorm.weight", new float[32], 32)
                    .write(dir.resolve("model.safetensors"));
            ModelImporter.importWeights(ModelSnapshot.of(dir, null));
        }, ModelImportException.class, "tensor(s) required by bert are missing: [embeddings.word_embeddings.weight"));
        c.add(new Case("only pickled weights", dir -> {
            Files.writeString(dir.resolve("config.json"), "{}");
            Files.write(dir.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
            ModelSnapshot.of(dir, null);
        }, ModelSourceException.class, "pickles can execute code and are never loaded"));
        // ---- ONNX ----
        c.add(onnx("truncated ONNX file", java.util.Arrays.copyOf(onnxModel(List.of(named("a.weight", FOUR)),
                List.of()).toByteArray(), 20), "not a valid ONNX protobuf"));
        c.add(onnx("external data", onnxModel(List.of(named("a.weight", FOUR).toBuilder().clearRawData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin"))
                .build()), List.of()).toByteArray(), "uses external data"));
        c.add(onnx("raw_data size disagrees with dims", onnxModel(List.of(named("a.weight", FOUR).toBuilder()
                .clearDims().addDims(3).build()), List.of()).toByteArray(), "raw_data has 16 bytes but dims [3] need 12"));
        c.add(onnx("anonymous weight with unknown consumer", onnxModel(List.of(anonymous("onnx::Add_7", 2, 2)),
                List.of(NodeProto.newBuilder().setName("/encoder/Add").setOpType("Add").addInput("x")
                        .addInput("onnx::Add_7").build())).toByteArray(), "unknown layout: initializer 'onnx::Add_7'"));
        c.add(onnx("duplicate initializer", onnxModel(List.of(named("a.weight", FOUR), named("a.weight", FOUR)),
                List.of()).toByteArray(), "initializer 'a.weight' is defined twice"));
        c.add(onnx("unsupported initializer type", onnxModel(List.of(named("a.weight", FOUR).toBuilder()
                .setDataType(TensorProto.DataType.DOUBLE_VALUE).build()), List.of()).toByteArray(),
                "initializer 'a.weight' has dtype DOUBLE (11), which is not supported (supported weights: FLOAT (1),"
                        + " FLOAT16 (10))"));
        // integer initializers are skipped as index buffers, unless they are weights: named so, or read as one
        c.add(onnx("integer weight under its Hub name", onnxModel(List.of(named("embeddings.word_embeddings.weight", FOUR)
                .toBuilder().setDataType(TensorProto.DataType.INT32_VALUE).build()), List.of()).toByteArray(),
                "initializer 'embeddings.word_embeddings.weight' has dtype INT32 (6), which is not a floating-point weight"));
        c.add(onnx("integer MatMul weight", onnxModel(List.of(anonymous("onnx::MatMul_5", 2, 2).toBuilder()
                .setDataType(TensorProto.DataType.INT64_VALUE).build()), List.of(matMul("/encoder/layer.0/attention/self/"
                + "key/MatMul", "onnx::MatMul_5"))).toByteArray(), "initializer 'onnx::MatMul_5' has dtype INT64 (7), which"
                + " is not a floating-point weight"));
        c.add(onnx("FLOAT16 int32_data value beyond 16 bits", onnxModel(List.of(named("a.weight", FOUR).toBuilder()
                .clearRawData().setDataType(TensorProto.DataType.FLOAT16_VALUE).addAllInt32Data(List.of(0x3c00, 0x3c00,
                        0x13c00, 0)).build()), List.of()).toByteArray(), "int32_data element 2 = 80896 is not a 16-bit"));
        c.add(onnx("FLOAT16 with too few values", onnxModel(List.of(named("a.weight", FOUR).toBuilder().clearRawData()
                .setDataType(TensorProto.DataType.FLOAT16_VALUE).addInt32Data(0x3c00).build()), List.of()).toByteArray(),
                "initializer 'a.weight' holds 1 values in int32_data (where FLOAT16 without raw_data keeps them) but dims"
                        + " [4] need 4"));
        // a matrix's layout comes from its consumers, never from its name
        // (a named one read only by such ops keeps the Hub's [out, in]: ModelImportTest)
        c.add(onnx("anonymous matrix read by an op of unknown layout", onnxModel(List.of(anonymous("onnx::Concat_3", 2, 2)),
                List.of(NodeProto.newBuilder().setName("/a/Concat").setOpType("Concat").addInput("onnx::Concat_3").addInput("x")
                        .build())).toByteArray(), "unknown layout: initializer 'onnx::Concat_3' [2, 2] is consumed by [Concat"
                + " '/a/Concat']; only named initializers"));
        c.add(onnx("named matrix read as [in, out] and as [out, in]", onnxModel(List.of(anonymous("a.weight", 2, 2)),
                List.of(matMul("/a/MatMul", "a.weight"), NodeProto.newBuilder().setName("/b/Gather").setOpType("Gather")
                        .addInput("a.weight").addInput("ids").build())).toByteArray(),
                "initializer 'a.weight' [2, 2] is read both as [in, out] and as [out, in]"));
        c.add(onnx("Gemm that scales its weight", onnxModel(List.of(anonymous("a.weight", 2, 2)),
                List.of(NodeProto.newBuilder().setName("/a/Gemm").setOpType("Gemm").addInput("x").addInput("a.weight")
                        .addAttribute(io.aneforge.onnx.proto.AttributeProto.newBuilder().setName("alpha").setF(0.5f))
                        .build())).toByteArray(), "Gemm '/a/Gemm' consuming 'a.weight' has alpha = 0.5 (only 1 is imported)"));
        c.add(onnx("NaN in ONNX initializer", onnxModel(List.of(named("a.weight", new float[] {Float.NaN, 0, 0, 0})),
                List.of()).toByteArray(), "NaN and infinite weights are rejected"));
        float[] badMatMul = new float[10 * 3];
        badMatMul[25] = Float.POSITIVE_INFINITY; // row 8 of the [10, 3] ONNX layout: in the second block of 8 rows the import reads
        c.add(onnx("infinity in a MatMul weight (read transposed)", onnxModel(List.of(named("onnx::MatMul_4", badMatMul)
                .toBuilder().clearDims().addDims(10).addDims(3).build()), List.of(NodeProto.newBuilder()
                .setName("/encoder/layer.0/attention/self/query/MatMul").setOpType("MatMul").addInput("x")
                .addInput("onnx::MatMul_4").build())).toByteArray(),
                "initializer 'onnx::MatMul_4' element 25 is Infinity: NaN and infinite weights are rejected"));
        c.add(onnx("MatMul without module path", onnxModel(List.of(anonymous("onnx::MatMul_1", 2, 2)),
                List.of(NodeProto.newBuilder().setName("MatMul_3").setOpType("MatMul").addInput("x")
                        .addInput("onnx::MatMul_1").build())).toByteArray(), "has no module path"));
        return c;
    }

    @TestFactory
    Stream<DynamicTest> everyCorruptInputIsRejectedWithItsOwnMessage() {
        return cases().stream().map(k -> DynamicTest.dynamicTest(k.name(), () -> {
            Path dir = Files.createTempDirectory(root, "case");
            Throwable thrown = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                try {
                    k.action().run(dir);
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            assertThat(thrown).as(k.name()).isNotNull().isInstanceOf(k.type());
            assertThat(thrown.getMessage()).as(k.name()).contains(k.fragment());
        }));
    }

    @Test
    void thereAreAtLeast25DistinctCasesWithDistinctMessages() {
        List<Case> all = cases();
        assertThat(all.size()).isGreaterThanOrEqualTo(25);
        Set<String> names = new HashSet<>();
        all.forEach(k -> names.add(k.name()));
        assertThat(names).hasSize(all.size());
    }

    // ---- helpers ----

    private static Case st(String name, byte[] content, String fragment) {
        return new Case(name, dir -> {
            Path f = dir.resolve("model.safetensors");
            Files.write(f, content);
            try (SafetensorsFile file = SafetensorsFile.open(f)) {
                for (TensorInfo t : file.tensors()) {
                    file.readFloat(t.name());
                }
            }
        }, SafetensorsException.class, fragment);
    }

    private static Case config(String name, String json, String fragment) {
        return new Case(name, dir -> {
            Path f = dir.resolve("config.json");
            Files.writeString(f, json);
            ArchitectureConfigs.parse(f);
        }, ModelImportException.class, fragment);
    }

    private static Case onnx(String name, byte[] content, String fragment) {
        return new Case(name, dir -> {
            Path f = dir.resolve("model.onnx");
            Files.write(f, content);
            OnnxWeights.read(f);
        }, OnnxFormatException.class, fragment);
    }

    static String bertConfig(int hidden, int heads, int vocab) {
        return "{\"architectures\": [\"BertModel\"], \"model_type\": \"bert\", \"vocab_size\": " + vocab
                + ", \"hidden_size\": " + hidden + ", \"num_hidden_layers\": 6, \"num_attention_heads\": " + heads
                + ", \"intermediate_size\": 1536, \"max_position_embeddings\": 512, \"type_vocab_size\": 2}";
    }

    private static void rewriteConfig(Path dir, String from, String to) throws IOException {
        Path f = dir.resolve("config.json");
        String s = Files.readString(f);
        assertThat(s).contains(from);
        Files.writeString(f, s.replace(from, to), StandardCharsets.UTF_8);
    }

    static TensorProto named(String name, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(values.length).setRawData(ByteString.copyFrom(b.array())).build();
    }

    static TensorProto anonymous(String name, int rows, int cols) {
        return named(name, new float[rows * cols]).toBuilder().clearDims().addDims(rows).addDims(cols).build();
    }

    /** {@code MatMul(x, weight)} named {@code name}, the way export names a module's projection. */
    static NodeProto matMul(String name, String weight) {
        return NodeProto.newBuilder().setName(name).setOpType("MatMul").addInput("x").addInput(weight).build();
    }

    static ModelProto onnxModel(List<TensorProto> inits, List<NodeProto> nodes) {
        return ModelProto.newBuilder().setIrVersion(7).setGraph(GraphProto.newBuilder().addAllInitializer(inits)
                .addAllNode(nodes)).build();
    }
}
