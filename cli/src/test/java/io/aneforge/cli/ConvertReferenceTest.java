package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.testsupport.hub.FakeHub;
import io.aneforge.testsupport.models.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code convert --reference onnxruntime}: all-MiniLM-L6-v2 (the ONNX export from Maven Central) converted to
 * int8-block32 at sequence length 32 on 2 samples, its fidelity and {@code --min-cosine} measured against ONNX
 * Runtime running the source's onnx/model.onnx; the same conversion with the default reference beside it; and the
 * refusals, which come before anything is converted.
 */
class ConvertReferenceTest {

    static final int SEQ = 32;
    /** Above what int8-block32 reaches against either reference (its worst token: 0.999704 on 2 samples). */
    static final String GATE = "0.99999";

    @TempDir
    static Path dir;
    static Path minilm;
    static Path recipe;
    static Cli ort;
    static Cli own;

    @BeforeAll
    static void convert() throws Exception {
        minilm = MiniLmSnapshot.write(dir.resolve("all-MiniLM-L6-v2"));
        recipe = dir.resolve("r.yaml");
        Files.writeString(recipe, "variants:\n  - {chips: all, layout: ane, precision: int8-block32}\n");
        ort = convert("ort", "--reference", "onnxruntime", "--min-cosine", GATE);
        own = convert("own");
    }

    static Cli convert(String out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("convert", "--source", minilm.toString(), "--out",
                dir.resolve(out).toString(), "--chips", "A17_PRO", "--recipe", recipe.toString(), "--seq-len",
                Integer.toString(SEQ), "--samples", "2", "--progress", "plain"));
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }

    static JsonNode manifest(String out) {
        return JsonMapper.shared().readTree(dir.resolve(out).resolve("variants.json").toFile());
    }

    /** The gate above what int8 reaches against ONNX Runtime fails the run (exit 1), naming the reference. */
    @Test
    void gateAgainstOnnxRuntimeFailsTheRun() {
        assertThat(ort.code()).as(ort.toString()).isEqualTo(1);
        assertThat(ort.err()).startsWith("aneforge convert: 1 variant(s) below --min-cosine " + GATE
                + " against onnxruntime: a17_pro-ios18-ane-int8-block32-s" + SEQ + " (0.99")
                .endsWith("; the files are written, see variants.json\n");
        assertThat(ort.out()).contains("fidelity reference: ONNX Runtime running " + minilm.resolve("onnx/model.onnx")
                        + " on the first 2 fixed samples; the golden data (golden FP32 outputs on the 32 fixed samples)"
                        + " stays the converter's FP32 graph's")
                .containsPattern("ios18-ane-int8-block32-s" + SEQ + ".*min cosine 0\\.99\\d+ vs onnxruntime  for A17_PRO");
    }

    /**
     * variants.json says which reference measured the numbers (absent for the default, whose bytes stay as they
     * were); the numbers are ONNX Runtime's, close to the FP32 graph's but not the same floats (another engine); the
     * golden data for publish --dir is the FP32 graph's either way, byte for byte.
     */
    @Test
    void manifestRecordsTheReferenceAndGoldenDataStaysTheFp32Graphs() throws Exception {
        assertThat(own.code()).as(own.toString()).isZero();
        assertThat(own.out()).doesNotContain("vs onnxruntime").doesNotContain("fidelity reference");
        JsonNode m = manifest("ort");
        JsonNode d = manifest("own");
        assertThat(m.get("reference").asString()).isEqualTo("onnxruntime");
        assertThat(d.has("reference")).isFalse();
        assertThat(Files.readString(dir.resolve("own/variants.json"))).doesNotContain("\"reference\"");

        JsonNode h = m.get("variants").get(0).get("fidelity").get("last_hidden_state");
        JsonNode g = d.get("variants").get(0).get("fidelity").get("last_hidden_state");
        assertThat(h.get("positions").asInt()).isEqualTo(g.get("positions").asInt());
        assertThat(h.get("cosineMin").asDouble()).isNotEqualTo(g.get("cosineMin").asDouble())
                .isCloseTo(g.get("cosineMin").asDouble(), org.assertj.core.data.Offset.offset(1e-4));
        assertThat(m.get("variants").get(0).get("sha256")).isEqualTo(d.get("variants").get(0).get("sha256"));

        assertThat(m.get("golden")).isEqualTo(d.get("golden"));
        for (String f : List.of("golden-inputs.bin", "golden-outputs.bin")) {
            assertThat(Files.mismatch(dir.resolve("ort").resolve(f), dir.resolve("own").resolve(f))).as(f).isEqualTo(-1);
        }
        // the reader (publish --dir, --force's cleanup) reads it; an older one ignores the field it does not know
        assertThat(VariantsManifest.read(dir.resolve("ort/variants.json")).reference()).isEqualTo("onnxruntime");
        assertThat(JsonMapper.builder().build().readValue(dir.resolve("ort/variants.json").toFile(), OlderManifest.class)
                .variants()).hasSize(1);
    }

    /** The fields of variants.json before {@code reference}, read as VariantsManifest.read reads (Jackson's defaults). */
    record OlderManifest(int formatVersion, int seqLen, int samples, String tokenizer, List<Map<String, Object>> variants) {
    }

    /** Single mode: one package, its line names the reference; a gate it passes passes. */
    @Test
    void singleVariantNamesTheReference() {
        Path out = dir.resolve("single/x.mlpackage");
        Cli c = Cli.run("convert", "--source", minilm.toString(), "--out", out.toString(), "--precision", "fp16",
                "--seq-len", Integer.toString(SEQ), "--samples", "1", "--reference", "onnxruntime", "--min-cosine",
                "0.999", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("fidelity reference: ONNX Runtime running " + minilm.resolve("onnx/model.onnx")
                + " on the first 1 fixed samples\n").containsPattern("min cosine 0\\.99999\\d vs onnxruntime");
        assertThat(out).isDirectory();
    }

    /** A source without onnx/model.onnx is refused before anything is converted or written. */
    @Test
    void sourceWithoutOnnxIsRefusedBeforeConverting() throws Exception {
        Path tiny = TinyModels.bert(dir.resolve("tiny"), 5);
        Path out = dir.resolve("tiny-out");
        Cli c = Cli.run("convert", "--source", tiny.toString(), "--out", out.toString(), "--chips", "M4", "--recipe",
                recipe.toString(), "--seq-len", "12", "--reference", "onnxruntime", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isEqualTo(2);
        assertThat(c.err()).isEqualTo("aneforge convert: --reference onnxruntime needs the ONNX model of --source, but "
                + tiny + " has no onnx/model.onnx (its weights are model.safetensors): pass a --source that ships "
                + "onnx/model.onnx, or drop --reference onnxruntime (the default, --reference fp32-graph, measures "
                + "against the converter's own FP32 graph)\n");
        assertThat(c.out()).doesNotContain("converting");
        assertThat(out).doesNotExist();

        Map<String, byte[]> files = new LinkedHashMap<>();
        try (var list = Files.list(tiny)) {
            for (Path f : list.filter(Files::isRegularFile).toList()) {
                files.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        String commit = "0123456789abcdef0123456789abcdef01234567";
        try (FakeHub hub = FakeHub.start()) {
            hub.repo("acme/no-onnx").commit(commit, "main", files);
            Cli h = Cli.run(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HOME", dir.resolve("hf").toString()), "convert",
                    "--source", "hf:acme/no-onnx", "--out", out.toString(), "--chips", "M4", "--recipe",
                    recipe.toString(), "--seq-len", "12", "--reference", "onnxruntime", "--progress", "plain");
            assertThat(h.code()).as(h.toString()).isEqualTo(2);
            assertThat(h.err()).isEqualTo("aneforge convert: --reference onnxruntime needs the ONNX model of --source, "
                    + "but acme/no-onnx@" + commit + " has no onnx/model.onnx: pass a --source that ships "
                    + "onnx/model.onnx, or drop --reference onnxruntime (the default, --reference fp32-graph, measures "
                    + "against the converter's own FP32 graph)\n");
        }
        assertThat(out).doesNotExist();
    }

    @Test
    void noSamplesAndUnknownReferenceAreRefused() {
        Cli c = Cli.run("convert", "--source", minilm.toString(), "--out", dir.resolve("none").toString(),
                "--samples", "0", "--reference", "onnxruntime");
        assertThat(c.code()).as(c.toString()).isEqualTo(2);
        assertThat(c.err()).isEqualTo("aneforge convert: --reference onnxruntime measures the fidelity metrics against "
                + "ONNX Runtime, but --samples 0 skips them: pass --samples 1 or more, or drop --reference\n");
        Cli u = Cli.run("convert", "--source", minilm.toString(), "--out", dir.resolve("none").toString(),
                "--reference", "pytorch");
        assertThat(u.code()).isEqualTo(2);
        assertThat(u.err()).contains("unknown reference 'pytorch': use one of fp32-graph, onnxruntime");
        assertThat(dir.resolve("none")).doesNotExist();
    }
}
