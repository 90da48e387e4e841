package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.testsupport.hub.FakeHub;
import io.aneforge.testsupport.models.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code eval --reference onnxruntime}: all-MiniLM-L6-v2 (the ONNX export from Maven Central) converted at sequence
 * length 32, measured against ONNX Runtime running the original ONNX file, as {@code MiniLmAcceptanceTest} does in
 * ane-core at length 128; and the refusals.
 */
class EvalReferenceTest {

    static final int SEQ = 32;

    @TempDir
    static Path dir;
    static Path minilm;
    static Path fp16;
    static Path fp32;
    static Path tiny;
    static Path tinyFp16;

    @BeforeAll
    static void convert() throws Exception {
        minilm = MiniLmSnapshot.write(dir.resolve("all-MiniLM-L6-v2"));
        Path recipe = dir.resolve("r.yaml");
        Files.writeString(recipe, "variants:\n  - {chips: all, layout: ane, precision: fp16}\n"
                + "  - {chips: all, layout: standard, precision: fp32}\n");
        Path out = dir.resolve("out");
        Cli c = Cli.run("convert", "--source", minilm.toString(), "--out", out.toString(), "--chips", "A17_PRO",
                "--recipe", recipe.toString(), "--seq-len", Integer.toString(SEQ), "--samples", "0", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        fp16 = out.resolve("ios16-ane-fp16-s" + SEQ + ".mlpackage");
        fp32 = out.resolve("ios16-standard-fp32-s" + SEQ + ".mlpackage");
        assertThat(fp32).as(c.toString()).isDirectory();

        tiny = TinyModels.bert(dir.resolve("tiny"), 5);
        Path tinyOut = dir.resolve("tiny-out");
        Files.writeString(dir.resolve("tiny.yaml"), "variants:\n  - {chips: all, layout: ane, precision: fp16}\n");
        Cli t = Cli.run("convert", "--source", tiny.toString(), "--out", tinyOut.toString(), "--chips", "M4", "--recipe",
                dir.resolve("tiny.yaml").toString(), "--seq-len", "12", "--samples", "0", "--progress", "plain");
        assertThat(t.code()).as(t.toString()).isZero();
        tinyFp16 = tinyOut.resolve("ios16-ane-fp16-s12.mlpackage");
    }

    static JsonNode eval(Path pkg, String reference) {
        Cli c = Cli.run("eval", "--package", pkg.toString(), "--source", minilm.toString(), "--samples", "8",
                "--reference", reference, "--json");
        assertThat(c.code()).as(c.toString()).isZero();
        return JsonMapper.shared().readTree(c.out());
    }

    @Test
    void fp16PackageAgreesWithOnnxRuntime() {
        JsonNode ort = eval(fp16, "onnxruntime");
        assertThat(ort.get("reference").asString()).isEqualTo("onnxruntime");
        assertThat(ort.get("referenceFile").asString()).isEqualTo(minilm.resolve("onnx/model.onnx").toString());
        assertThat(ort.get("outputs").propertyNames()).containsExactly("last_hidden_state");
        JsonNode h = ort.get("outputs").get("last_hidden_state");
        // MiniLmAcceptanceTest's gate for fp16 against ONNX Runtime (mean token cosine over real tokens: 0.9999)
        assertThat(h.get("cosineMean").asDouble()).isGreaterThanOrEqualTo(0.9999);
        assertThat(h.get("cosineMin").asDouble()).isGreaterThanOrEqualTo(0.999).isLessThanOrEqualTo(1.0);
        assertThat(ort.get("worstCosine").asDouble()).isEqualTo(h.get("cosineMin").asDouble());

        // The FP32 graph matches ONNX Runtime to 0.99999 (MiniLmAcceptanceTest), so both references give nearly the
        // same numbers for the fp16 package (0.999998 here); the same real tokens are compared.
        JsonNode own = eval(fp16, "fp32-graph");
        assertThat(own.get("reference").asString()).isEqualTo("fp32-graph");
        assertThat(own.get("referenceFile").isNull()).isTrue();
        JsonNode g = own.get("outputs").get("last_hidden_state");
        assertThat(h.get("positions").asInt()).isEqualTo(g.get("positions").asInt());
        assertThat(h.get("cosineMean").asDouble()).isCloseTo(g.get("cosineMean").asDouble(),
                org.assertj.core.data.Offset.offset(1e-6)); // measured: 1e-12 apart
    }

    /**
     * The fp32 package is the FP32 graph itself, so against it nothing differs; ONNX Runtime is another engine (other
     * kernels, another summation order): small differences, which show that it really ran.
     */
    @Test
    void onnxRuntimeIsAnIndependentEngine() {
        JsonNode own = eval(fp32, "fp32-graph").get("outputs").get("last_hidden_state");
        JsonNode ort = eval(fp32, "onnxruntime").get("outputs").get("last_hidden_state");
        assertThat(own.get("maxAbsError").asDouble()).isZero();
        assertThat(own.get("cosineMin").asDouble()).isEqualTo(1.0);
        // MiniLmAcceptanceTest's bounds for the FP32 graph against ONNX Runtime (measured here: 3e-6, 0.999999999998)
        assertThat(ort.get("maxAbsError").asDouble()).isGreaterThan(0).isLessThan(1e-4);
        assertThat(ort.get("cosineMin").asDouble()).isGreaterThanOrEqualTo(0.99999);
    }

    @Test
    void textOutputNamesTheReference() {
        Cli c = Cli.run("eval", "--package", fp16.toString(), "--source", minilm.toString(), "--samples", "2",
                "--reference", "onnxruntime");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains(" vs ONNX Runtime (" + minilm.resolve("onnx/model.onnx") + "), 2 samples")
                .contains("last_hidden_state");
        Cli d = Cli.run("eval", "--package", fp16.toString(), "--source", minilm.toString(), "--samples", "2");
        assertThat(d.code()).as(d.toString()).isZero();
        assertThat(d.out()).contains(" vs FP32 golden (the converter's FP32 graph), 2 samples");
    }

    @Test
    void unknownReferenceNamesTheKnownOnes() {
        Cli c = Cli.run("eval", "--package", fp16.toString(), "--source", minilm.toString(), "--reference", "pytorch");
        assertThat(c.code()).isEqualTo(2);
        assertThat(c.err()).contains("unknown reference 'pytorch': use one of fp32-graph, onnxruntime");
    }

    @Test
    void sourceWithoutOnnxIsRefused() {
        Cli c = Cli.run("eval", "--package", tinyFp16.toString(), "--source", tiny.toString(), "--reference", "onnxruntime");
        assertThat(c.code()).as(c.toString()).isEqualTo(2);
        assertThat(c.err()).isEqualTo("aneforge eval: --reference onnxruntime needs the ONNX model of --source, but "
                + tiny + " has no onnx/model.onnx (its weights are model.safetensors): pass a --source that ships "
                + "onnx/model.onnx, or --reference fp32-graph\n");
        assertThat(c.out()).isEmpty();
    }

    /** A source whose onnx/model.onnx is not the model its weights came from: the hidden sizes differ. */
    @Test
    void onnxOutputOfAnotherShapeIsRefused() throws Exception {
        Path mixed = dir.resolve("mixed");
        if (!Files.exists(mixed)) {
            Files.createDirectories(mixed.resolve("onnx"));
            try (var files = Files.list(tiny)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    Files.copy(f, mixed.resolve(f.getFileName()));
                }
            }
            Files.copy(minilm.resolve("onnx/model.onnx"), mixed.resolve("onnx/model.onnx"), StandardCopyOption.REPLACE_EXISTING);
        }
        Cli c = Cli.run("eval", "--package", tinyFp16.toString(), "--source", mixed.toString(), "--reference", "onnxruntime");
        assertThat(c.code()).as(c.toString()).isEqualTo(2);
        assertThat(c.err()).isEqualTo("aneforge eval: package output 'last_hidden_state' is (1, 12, " + TinyModels.HIDDEN
                + "), but the output 'last_hidden_state' of " + mixed.resolve("onnx/model.onnx") + " is (?, ?, 384): the "
                + "package was not converted from this ONNX model; pass the --source it was converted from\n");
    }

    /**
     * An {@code hf:} source: conversion downloads only its safetensors, so eval downloads the repo's onnx/model.onnx
     * at the pinned commit (here MiniLM's beside the tiny model's weights, so it is refused for its shape, naming the
     * downloaded file); a repo without one is refused naming the repo and commit.
     */
    @Test
    void hubSourceGetsItsOnnxModelDownloaded() throws Exception {
        String commit = "0123456789abcdef0123456789abcdef01234567";
        String other = "89abcdef0123456789abcdef0123456789abcdef";
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (var list = Files.list(tiny)) {
            for (Path f : list.filter(Files::isRegularFile).toList()) {
                files.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        Map<String, byte[]> withOnnx = new LinkedHashMap<>(files);
        withOnnx.put("onnx/model.onnx", Files.readAllBytes(minilm.resolve("onnx/model.onnx")));
        try (FakeHub hub = FakeHub.start()) {
            hub.repo("acme/with-onnx").commit(commit, "main", withOnnx);
            hub.repo("acme/no-onnx").commit(other, "main", files);
            Path home = dir.resolve("hf");
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HOME", home.toString());
            Cli c = Cli.run(env, "eval", "--package", tinyFp16.toString(), "--source", "hf:acme/with-onnx",
                    "--reference", "onnxruntime");
            assertThat(c.code()).as(c.toString()).isEqualTo(2);
            assertThat(c.err()).startsWith("aneforge eval: package output 'last_hidden_state' is (1, 12, "
                    + TinyModels.HIDDEN + "), but the output 'last_hidden_state' of " + home)
                    .contains(commit + "/onnx/model.onnx is (?, ?, 384)");

            Cli none = Cli.run(env, "eval", "--package", tinyFp16.toString(), "--source", "hf:acme/no-onnx",
                    "--reference", "onnxruntime");
            assertThat(none.code()).as(none.toString()).isEqualTo(2);
            assertThat(none.err()).isEqualTo("aneforge eval: --reference onnxruntime needs the ONNX model of --source, "
                    + "but acme/no-onnx@" + other + " has no onnx/model.onnx: pass a --source that ships onnx/model.onnx, "
                    + "or --reference fp32-graph\n");
        }
    }

    /**
     * ONNX Runtime's native library cannot load (here: told to load it from an empty directory, as on a platform the
     * jar has no library for): a clear error in a JVM of its own, since a failed load stays failed for the JVM.
     */
    @Test
    void onnxRuntimeThatCannotLoadIsAClearError() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("no-native-library"));
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Donnxruntime.native.path=" + empty, "-cp", System.getProperty("java.class.path"),
                AneForge.class.getName(), "eval", "--package", fp16.toString(), "--source", minilm.toString(),
                "--samples", "1", "--reference", "onnxruntime"))
                .redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String stderr = Files.readString(err);
        assertThat(p.exitValue()).as(stderr).isEqualTo(1);
        // the test class path also holds the registry's slf4j provider, so slf4j warns first: the last line is eval's
        List<String> lines = stderr.lines().toList();
        assertThat(lines.get(lines.size() - 1) + "\n").startsWith("aneforge eval: ONNX Runtime cannot load on this machine (")
                .contains(empty.toString())
                .endsWith("; pass --reference fp32-graph to measure against the converter's FP32 graph instead\n");
    }
}
