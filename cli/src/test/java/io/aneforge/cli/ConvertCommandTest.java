package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.convert.Golden;
import io.aneforge.convert.Samples;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.graph.Graphs;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.testsupport.models.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertCommandTest {

    @TempDir
    static Path dir;
    static Path bert;
    static Path out;
    static Cli first;

    @BeforeAll
    static void convertOnce() throws Exception {
        bert = TinyModels.bert(dir.resolve("bert"), 11);
        out = dir.resolve("out");
        first = Cli.run("convert", "--source", bert.toString(), "--out", out.toString(), "--chips", "A17_PRO,M2",
                "--seq-len", "16", "--samples", "3", "--progress", "plain");
    }

    static GoldenOutputs read(Path file) throws Exception {
        try (var in = Files.newInputStream(file)) {
            return GoldenOutputsCodec.read(in);
        }
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void recipeModeWritesEveryVariantArchiveAndTheManifest() throws Exception {
        assertThat(first.code()).as(first.toString()).isZero();
        VariantsManifest m = VariantsManifest.read(out.resolve("variants.json"));
        assertThat(m.variants().stream().map(VariantEntry::id).collect(Collectors.toList())).containsExactly(
                "a17_pro-ios16-ane-fp16-s16", "a17_pro-ios18-ane-int8-block32-s16", "a17_pro-ios16-standard-fp16-s16",
                "m2-ios16-ane-fp16-s16", "m2-ios18-ane-int8-block32-s16", "m2-ios16-standard-fp16-s16");
        assertThat(m.recipe().name()).isEqualTo("default");
        assertThat(m.recipe().computeUnits()).containsExactly("cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all");
        assertThat(m.model().modelType()).isEqualTo("bert");
        assertThat(m.model().hiddenSize()).isEqualTo(TinyModels.HIDDEN);
        assertThat(m.seqLen()).isEqualTo(16);
        assertThat(m.samples()).isEqualTo(3);
        assertThat(out.resolve("tokenizer.json")).hasSameBinaryContentAs(bert.resolve("tokenizer.json"));
        // The golden data for publish --dir: every fixed sample at --seq-len, as the converter worker stores it.
        VariantsManifest.Golden g = m.golden();
        assertThat(g.samples()).isEqualTo(Samples.fixed().size());
        assertThat(sha256(out.resolve(g.inputs()))).isEqualTo(g.inputsSha256());
        assertThat(sha256(out.resolve(g.outputs()))).isEqualTo(g.outputsSha256());
        GoldenOutputs inputs = read(out.resolve("golden-inputs.bin"));
        GoldenOutputs golden = read(out.resolve("golden-outputs.bin"));
        assertThat(inputs.samples()).hasSize(32);
        assertThat(golden.samples().get(31).id()).isEqualTo("sample-31");
        try (Tokenizer tok = Tokenizer.load(bert.resolve("tokenizer.json"))) {
            List<Map<String, FloatTensor>> expected = Golden.inputs(tok, Samples.fixed(), 16);
            for (int i = 0; i < 32; i++) {
                assertThat(inputs.samples().get(i).id()).isEqualTo(Golden.sampleId(i));
                for (String name : List.of(Graphs.INPUT_IDS, Graphs.ATTENTION_MASK)) {
                    assertThat(inputs.samples().get(i).outputs().get(name).data()).as(name)
                            .containsExactly(expected.get(i).get(name).data());
                }
            }
            // On real tokens, the whole FP32 graph's floats (what the worker stores); padded positions are 0.
            GoldenOutputs whole = Golden.compute(ModelImporter.importWeights(ModelSnapshot.of(bert, null)), tok,
                    Samples.fixed(), 16);
            int real = 0;
            for (int i = 0; i < 32; i++) {
                float[] mask = expected.get(i).get(Graphs.ATTENTION_MASK).data();
                float[] w = whole.samples().get(i).outputs().get(Graphs.LAST_HIDDEN_STATE).data();
                FloatTensor stored = golden.samples().get(i).outputs().get(Graphs.LAST_HIDDEN_STATE);
                assertThat(stored.shape()).containsExactly(1, 16, TinyModels.HIDDEN);
                for (int p = 0; p < 16; p++) {
                    real += mask[p] != 0 ? 1 : 0;
                    for (int j = 0; j < TinyModels.HIDDEN; j++) {
                        assertThat(stored.data()[p * TinyModels.HIDDEN + j]).as("sample %d position %d", i, p)
                                .isEqualTo(mask[p] != 0 ? w[p * TinyModels.HIDDEN + j] : 0f);
                    }
                }
                assertThat(golden.samples().get(i).outputs().get(Graphs.POOLER_OUTPUT).data())
                        .containsExactly(whole.samples().get(i).outputs().get(Graphs.POOLER_OUTPUT).data());
            }
            assertThat(real).isLessThan(32 * 16);
            // Byte for byte what the converter worker stores: both call Golden.forStorage, which stores Golden.fullLength as HeldPositions reduces it (nothing is reduced for this model; ConversionEndToEndTest).
            java.io.ByteArrayOutputStream worker = new java.io.ByteArrayOutputStream();
            GoldenOutputsCodec.write(Golden.fullLength(ModelImporter.importWeights(ModelSnapshot.of(bert, null)), expected,
                    io.aneforge.convert.ProgramEvaluator.runtime(1)), worker);
            assertThat(Files.readAllBytes(out.resolve("golden-outputs.bin"))).isEqualTo(worker.toByteArray());
        }

        for (VariantEntry e : m.variants()) {
            Path pkg = out.resolve(e.path());
            Path zip = out.resolve(e.archive());
            // the package names its build, not the chip: the entries of both chips point at it
            assertThat(e.path()).isEqualTo(e.id().substring(e.id().indexOf('-') + 1) + ".mlpackage");
            assertThat(e.archive()).isEqualTo(e.path() + ".zip");
            assertThat(MlPackage.read(pkg).metadata()).containsEntry("aneforge.build", e.id().substring(e.id().indexOf('-') + 1))
                    .doesNotContainKey("aneforge.variant");
            assertThat(sha256(zip)).isEqualTo(e.sha256());
            assertThat(Files.size(zip)).isEqualTo(e.size());
            assertThat(e.parameterCount()).isPositive();
            assertThat(e.peakIntermediateBytes()).isPositive();
            assertThat(e.computeUnits()).hasSize(4);
            assertThat(e.fidelity()).containsOnlyKeys("last_hidden_state", "pooler_output");
            for (FidelityReport f : e.fidelity().values()) {
                assertThat(f.positions()).isPositive();
                // FP16 keeps 0.9999, block-wise INT8 0.999 (CONVERTER.md §5); the tiny model is far above.
                assertThat(f.cosineMin()).as(e.id()).isGreaterThan(e.precision().equals("fp16") ? 0.9999 : 0.999);
            }
        }
        VariantEntry int8 = m.variants().get(1);
        assertThat(int8.deploymentTarget()).isEqualTo("ios18");
        assertThat(int8.blockSize()).isEqualTo(32);
        assertThat(int8.quantization()).isNotNull();
        // Block-wise INT8 for the projections (some small tensors stay FP16): well under half the FP32 bytes.
        assertThat(int8.quantization().bytesAfter()).isLessThan(int8.quantization().bytesBefore() / 2);
        assertThat(m.variants().get(0).blockSize()).isZero();
        assertThat(m.variants().get(0).deploymentTarget()).isEqualTo("ios16");
        // Same build on both chips (the chip is not in the package): one package, one sha256, one fidelity.
        for (int i = 0; i < 3; i++) {
            VariantEntry a17 = m.variants().get(i);
            VariantEntry m2 = m.variants().get(i + 3);
            assertThat(m2.path()).isEqualTo(a17.path());
            assertThat(m2.archive()).isEqualTo(a17.archive());
            assertThat(m2.sha256()).isEqualTo(a17.sha256());
            assertThat(m2.size()).isEqualTo(a17.size());
            assertThat(m2.fidelity()).isEqualTo(a17.fidelity());
            assertThat(m2.chip()).isEqualTo("M2");
        }
        assertThat(m.variants().stream().map(VariantEntry::sha256).distinct()).hasSize(3);
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".mlpackage")).sorted())
                    .containsExactly("ios16-ane-fp16-s16.mlpackage", "ios16-ane-fp16-s16.mlpackage.zip",
                            "ios16-standard-fp16-s16.mlpackage", "ios16-standard-fp16-s16.mlpackage.zip",
                            "ios18-ane-int8-block32-s16.mlpackage", "ios18-ane-int8-block32-s16.mlpackage.zip");
        }

        assertThat(first.out()).contains("recipe default: 6 variants for 2 chips, 3 distinct packages, at sequence length 16")
                .contains("[1/3] ios16-ane-fp16-s16  sha256 ")
                .containsPattern("\\[3/3\\] ios16-standard-fp16-s16  sha256 .*  for A17_PRO, M2\n")
                .contains("wrote 6 variants (3 distinct packages) and variants.json to " + out)
                .doesNotContain("\r");
        assertThat(first.err()).isEmpty();
    }

    @Test
    void sameInputTwiceGivesTheSameBytes() throws Exception {
        Path again = dir.resolve("again");
        Cli second = Cli.run("convert", "--source", bert.toString(), "--out", again.toString(), "--chips", "A17_PRO,M2",
                "--seq-len", "16", "--samples", "3", "--progress", "plain");
        assertThat(second.code()).as(second.toString()).isZero();
        assertThat(again.resolve("variants.json")).hasSameBinaryContentAs(out.resolve("variants.json"));
        assertThat(again.resolve("golden-inputs.bin")).hasSameBinaryContentAs(out.resolve("golden-inputs.bin"));
        assertThat(again.resolve("golden-outputs.bin")).hasSameBinaryContentAs(out.resolve("golden-outputs.bin"));
        try (Stream<Path> zips = Files.list(out)) {
            for (Path zip : zips.filter(p -> p.toString().endsWith(".zip")).toList()) {
                assertThat(again.resolve(zip.getFileName().toString())).hasSameBinaryContentAs(zip);
            }
        }
    }

    @Test
    void samplesZeroSkipsFidelityAndWritesTheSamePackages() throws Exception {
        Path noEval = dir.resolve("no-eval");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--out", noEval.toString(), "--chips", "A17_PRO,M2",
                "--seq-len", "16", "--samples", "0", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("--samples 0: not measuring fidelity and writing no golden data")
                .doesNotContain("computing golden")
                .contains("[1/3] ios16-ane-fp16-s16  sha256 ")
                .contains("fidelity not measured")
                .doesNotContain("min cosine");
        VariantsManifest m = VariantsManifest.read(noEval.resolve("variants.json"));
        VariantsManifest measured = VariantsManifest.read(out.resolve("variants.json"));
        assertThat(m.samples()).isZero();
        assertThat(m.variants()).hasSize(6);
        for (int i = 0; i < m.variants().size(); i++) {
            VariantEntry e = m.variants().get(i);
            assertThat(e.fidelity()).as(e.id()).isEmpty();
            // Fidelity is only measured on the written packages, so skipping it changes no output byte.
            assertThat(e.sha256()).isEqualTo(measured.variants().get(i).sha256());
            assertThat(noEval.resolve(e.archive())).hasSameBinaryContentAs(out.resolve(e.archive()));
        }
        assertThat(Files.readString(noEval.resolve("variants.json"))).contains("\"samples\" : 0")
                .contains("\"fidelity\" : { }").doesNotContain("golden");
        assertThat(m.golden()).isNull();
        assertThat(noEval.resolve("golden-inputs.bin")).doesNotExist();
        assertThat(noEval.resolve("golden-outputs.bin")).doesNotExist();

        Path single = dir.resolve("no-eval-single/z.mlpackage");
        Cli one = Cli.run("convert", "--source", bert.toString(), "--precision", "fp16", "--seq-len", "8", "--samples", "0",
                "--out", single.toString(), "--progress", "plain");
        assertThat(one.code()).as(one.toString()).isZero();
        assertThat(one.out()).contains("fidelity not measured");
        assertThat(MlPackage.read(single).metadata()).containsEntry("aneforge.build", "ios16-ane-fp16-s8");
    }

    /**
     * Three chips, two of them with the same build and one with another deployment target: 2 packages, 3 entries,
     * the two of one build with the same files and sha256, the third (another target, so other bytes) its own.
     */
    @Test
    void variantsThatDifferOnlyInTheChipShareOnePackageAndOthersDoNot() throws Exception {
        Path shared = dir.resolve("shared");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--out", shared.toString(), "--chips", "A17_PRO,M2,M4",
                "--recipe", writeRecipe("per-chip-target.yaml", "variants:\n"
                        + "  - {chips: [A17_PRO, M2], layout: ane, precision: fp16}\n"
                        + "  - {chips: [M4], layout: ane, precision: fp16, target: ios17}\n"),
                "--seq-len", "8", "--samples", "2", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("recipe per-chip-target: 3 variants for 3 chips, 2 distinct packages, at sequence length 8")
                .contains("[1/2] ios16-ane-fp16-s8  sha256 ").contains("  for A17_PRO, M2\n")
                .contains("[2/2] ios17-ane-fp16-s8  sha256 ").contains("  for M4\n")
                .contains("wrote 3 variants (2 distinct packages) and variants.json to " + shared);
        List<VariantEntry> vs = VariantsManifest.read(shared.resolve("variants.json")).variants();
        assertThat(vs).extracting(VariantEntry::id)
                .containsExactly("a17_pro-ios16-ane-fp16-s8", "m2-ios16-ane-fp16-s8", "m4-ios17-ane-fp16-s8");
        assertThat(vs).extracting(VariantEntry::chip).containsExactly("A17_PRO", "M2", "M4");
        VariantEntry a17 = vs.get(0);
        VariantEntry m2 = vs.get(1);
        VariantEntry m4 = vs.get(2);
        assertThat(m2.path()).isEqualTo(a17.path()).isEqualTo("ios16-ane-fp16-s8.mlpackage");
        assertThat(m2.archive()).isEqualTo(a17.archive()).isEqualTo("ios16-ane-fp16-s8.mlpackage.zip");
        assertThat(m2.sha256()).isEqualTo(a17.sha256()).isEqualTo(sha256(shared.resolve(a17.archive())));
        assertThat(m2.fidelity()).isEqualTo(a17.fidelity()).isNotEmpty();
        // another deployment target is another program (its opset and specification version): not merged
        assertThat(m4.path()).isEqualTo("ios17-ane-fp16-s8.mlpackage");
        assertThat(m4.deploymentTarget()).isEqualTo("ios17");
        assertThat(m4.sha256()).isNotEqualTo(a17.sha256()).isEqualTo(sha256(shared.resolve(m4.archive())));
        try (Stream<Path> files = Files.list(shared)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".mlpackage")).sorted())
                    .containsExactly("ios16-ane-fp16-s8.mlpackage", "ios16-ane-fp16-s8.mlpackage.zip",
                            "ios17-ane-fp16-s8.mlpackage", "ios17-ane-fp16-s8.mlpackage.zip");
        }
        // the shared package is what converting for either chip alone writes, byte for byte
        Path alone = dir.resolve("shared-m2-alone");
        Cli m2Alone = Cli.run("convert", "--source", bert.toString(), "--out", alone.toString(), "--chips", "M2",
                "--recipe", dir.resolve("per-chip-target.yaml").toString(), "--seq-len", "8", "--samples", "0");
        assertThat(m2Alone.code()).as(m2Alone.toString()).isZero();
        assertThat(alone.resolve(m2.archive())).hasSameBinaryContentAs(shared.resolve(a17.archive()));
    }

    @Test
    void existingOutputNeedsForce() throws Exception {
        Path dirOut = dir.resolve("forced");
        Cli a = Cli.run("convert", "--source", bert.toString(), "--out", dirOut.toString(), "--chips", "M4",
                "--recipe", writeRecipe("one.yaml", "variants:\n  - {chips: all, layout: ane, precision: fp16}\n"),
                "--seq-len", "8", "--samples", "1", "--progress", "plain");
        assertThat(a.code()).as(a.toString()).isZero();
        Cli b = Cli.run("convert", "--source", bert.toString(), "--out", dirOut.toString(), "--chips", "M4",
                "--recipe", dir.resolve("one.yaml").toString(), "--seq-len", "8", "--samples", "1");
        assertThat(b.code()).isEqualTo(2);
        assertThat(b.err()).isEqualTo("aneforge convert: " + dirOut + " already holds output of a conversion "
                + "(ios16-ane-fp16-s8.mlpackage and 5 more): pass --force to replace it or choose another --out\n");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--out", dirOut.toString(), "--chips", "M4",
                "--recipe", dir.resolve("one.yaml").toString(), "--seq-len", "8", "--samples", "1", "--force",
                "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(VariantsManifest.read(dirOut.resolve("variants.json")).variants()).hasSize(1);
    }

    /** --precision w8a8 calibrates first, then writes an iOS 17 package with quantize/dequantize pairs. */
    @Test
    void w8a8SingleModeCalibratesAndWritesAnIos17Package() throws Exception {
        Path pkg = dir.resolve("w8a8/x.mlpackage");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--precision", "w8a8", "--seq-len", "8", "--samples", "1",
                "--out", pkg.toString(), "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        io.aneforge.mil.Program p = MlPackage.read(pkg);
        assertThat(p.target()).isEqualTo(io.aneforge.mil.Target.IOS17);
        assertThat(p.metadata()).containsEntry("aneforge.build", "ios17-ane-w8a8-s8").containsKey("aneforge.calibration_sha256");
        assertThat(p.operations()).filteredOn(o -> o.type().equals("quantize")).hasSize(6 * TinyModels.LAYERS + 1);
        assertThat(c.out()).contains("(a17_pro-ios17-ane-w8a8-s8; no archive written");
    }

    @Test
    void singleVariantMode() throws Exception {
        Path pkg = dir.resolve("single/x.mlpackage");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--layout", "ane", "--precision", "int8-block32",
                "--target", "ios18", "--seq-len", "16", "--samples", "2", "--out", pkg.toString(), "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(MlPackage.read(pkg).metadata()).containsEntry("aneforge.build", "ios18-ane-int8-block32-s16");
        // single mode writes the package only; the digest it prints is its deterministic archive's
        assertThat(c.out()).containsPattern("wrote " + java.util.regex.Pattern.quote(pkg.toString())
                + " \\(a17_pro-ios18-ane-int8-block32-s16; no archive written, its deterministic \\.mlpackage\\.zip "
                + "would have sha256 [0-9a-f]{64}\\)\n");
        try (Stream<Path> files = Files.list(pkg.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("x.mlpackage");
        }

        Cli derived = Cli.run("convert", "--source", bert.toString(), "--precision", "fp16", "--chips", "M1",
                "--seq-len", "8", "--samples", "1", "--out", dir.resolve("single/y.mlpackage").toString());
        assertThat(derived.code()).as(derived.toString()).isZero();
        assertThat(MlPackage.read(dir.resolve("single/y.mlpackage")).metadata())
                .containsEntry("aneforge.build", "ios16-ane-fp16-s8");

        Cli exists = Cli.run("convert", "--source", bert.toString(), "--precision", "fp16", "--out", pkg.toString());
        assertThat(exists.code()).isEqualTo(2);
        assertThat(exists.err()).isEqualTo("aneforge convert: " + pkg
                + " already exists: pass --force to replace it or choose another --out\n");
    }

    @Test
    void usageErrorsAreOneLineWithTheFixAndExitCode2() throws Exception {
        String src = bert.toString();
        String x = dir.resolve("never.mlpackage").toString();
        expectUsage(new String[] {"convert", "--source", src, "--precision", "int8-block32", "--target", "ios16", "--out", x},
                "aneforge convert: --precision int8-block32 needs deployment target ios18 or newer (iOS 18 / macOS 15), "
                        + "got --target ios16: pass --target ios18 or leave --target out");
        expectUsage(new String[] {"convert", "--source", src, "--out", dir.resolve("o1").toString(), "--chips", "M9"},
                "aneforge convert: unknown chip 'M9': use catalog ids [A14, A15, A16, A17_PRO, A18, A18_PRO, M1, M2, M3, M4]");
        expectUsage(new String[] {"convert", "--source", src, "--out", dir.resolve("o2").toString(), "--seq-len", "0"},
                "aneforge convert: --seq-len must be at least 2 (room for the tokenizer's two special tokens, [CLS] and "
                        + "[SEP] of a BERT input), got 0: pass --seq-len 2 or more");
        expectUsage(new String[] {"convert", "--source", src, "--out", dir.resolve("o2").toString(), "--seq-len", "9000"},
                "aneforge convert: sequence length 9000 is out of range for recipe default (2..8192): pass a sequence "
                        + "length between 2 and 8192");
        expectUsage(new String[] {"convert", "--source", src, "--out", dir.resolve("o3").toString(), "--chips", "M1",
                "--seq-len", "100"},
                "aneforge convert: --seq-len 100 exceeds the model's " + TinyModels.POSITIONS + " positions "
                        + "(max_position_embeddings in config.json): pass --seq-len " + TinyModels.POSITIONS + " or less");
        expectUsage(new String[] {"convert", "--source", dir.resolve("nothing").toString(), "--out", dir.resolve("o4").toString(),
                "--chips", "M1"},
                "aneforge convert: --source: model source '" + dir.resolve("nothing") + "' is not a directory (use a "
                        + "snapshot directory or hf:org/name[@revision])");
        expectUsage(new String[] {"convert", "--source", src, "--out", dir.resolve("o5").toString(), "--recipe",
                writeRecipe("bad.yaml", "variants:\n  - {chips: [M2], layout: ane, precision: w8a8}\n")},
                "aneforge convert: " + dir.resolve("bad.yaml") + " line 2 (variants[0].chips): precision w8a8 needs a chip "
                        + "with the W8A8 fast path (A17_PRO, M4), but the chip catalog lists M2 as no: use chips: w8a8 "
                        + "(or list only those chips)");
        expectUsage(new String[] {"convert", "--source", src, "--recipe", "default", "--precision", "fp16", "--out", x},
                "aneforge convert: --recipe chooses many variants, while --layout/--precision/--target (or an .mlpackage "
                        + "--out) build one: drop --recipe, or drop those options and pass an output directory");
        expectUsage(new String[] {"convert", "--source", src, "--precision", "int8-block48", "--out", x},
                "aneforge convert: --precision: block size must be 32, 64 or 128, got 48");
        expectUsage(new String[] {"convert", "--source", src, "--target", "ios14", "--out", x},
                "aneforge convert: --target: unknown deployment target 'ios14': use one of ios15, ios16, ios17, ios18, ios26");
        expectUsage(new String[] {"convert", "--source", src, "--out", dir.resolve("o6").toString(), "--samples", "33"},
                "aneforge convert: --samples must be in 0..32 (0 skips the fidelity metrics), got 33");
        expectUsage(new String[] {"convert", "--source", src, "--out", dir.resolve("o7").toString(), "--samples", "0",
                "--min-cosine", "0.99"},
                "aneforge convert: --min-cosine needs the fidelity metrics, but --samples 0 skips them: pass --samples 1 "
                        + "or more, or drop --min-cosine");

        Cli missing = Cli.run("convert", "--out", x);
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).startsWith("aneforge convert: Missing required option: '--source=<dir|hf:org/name@rev>'\n"
                + "Try 'aneforge convert --help' for the options.");
        Cli none = Cli.run();
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).isEqualTo("aneforge: missing command: use one of convert, recipe, eval, predict, publish, status, resolve, pull, tokens, up, help\n"
                + "Try 'aneforge --help' for the options.\n");
    }

    @Test
    void conversionFailureIsExit1WithoutStackTraceUnlessVerbose() throws Exception {
        String recipe = writeRecipe("w8a8.yaml", "variants:\n  - {chips: w8a8, layout: ane, precision: w8a8}\n");
        Path bert = ConvertRefusalsTest.withHugeActivations(ConvertCommandTest.bert, dir.resolve("huge-activations"));
        String[] args = {"convert", "--source", bert.toString(), "--out", dir.resolve("w8").toString(), "--chips", "M4",
                "--recipe", recipe, "--seq-len", "8", "--samples", "1", "--progress", "plain"};
        Cli c = Cli.run(args);
        assertThat(c.code()).isEqualTo(1);
        assertThat(c.err().lines().toList()).hasSize(1);
        assertThat(c.err()).startsWith("aneforge convert: cannot build variant m4-ios17-ane-w8a8-s8 of bert: the input of");
        String[] verbose = Stream.concat(Stream.of(args), Stream.of("--verbose", "--force")).toArray(String[]::new);
        Cli v = Cli.run(verbose);
        assertThat(v.code()).isEqualTo(1);
        assertThat(v.err()).contains("\tat io.aneforge.convert.VariantConverter.build");
    }

    /**
     * The tokenizer loads beside the import, and the source is refused (exit 2, one line naming the file) before
     * anything is converted or written, also with --samples 0, where nothing tokenizes.
     */
    @Test
    void unreadableTokenizerIsRefusedBeforeConverting() throws Exception {
        Path broken = dir.resolve("broken-tokenizer");
        Files.createDirectories(broken);
        try (Stream<Path> files = Files.list(bert)) {
            for (Path f : files.toList()) {
                Files.copy(f, broken.resolve(f.getFileName().toString()));
            }
        }
        Files.writeString(broken.resolve("tokenizer.json"), "{\"model\": 42}");
        String message = "aneforge convert: --source: cannot load " + broken.resolve("tokenizer.json")
                + ": no 'model' with a 'vocab' object: fix tokenizer.json or pass a --source whose tokenizer.json loads\n";
        for (String samples : List.of("2", "0")) {
            Path o = dir.resolve("broken-out-" + samples);
            Cli c = Cli.run("convert", "--source", broken.toString(), "--out", o.toString(), "--chips", "M4",
                    "--seq-len", "8", "--samples", samples, "--progress", "plain");
            assertThat(c.code()).as(c.toString()).isEqualTo(2);
            assertThat(c.err()).isEqualTo(message);
            assertThat(c.out()).doesNotContain("converting");
            assertThat(o).doesNotExist();
        }
        Path single = dir.resolve("broken-single/x.mlpackage");
        Cli one = Cli.run("convert", "--source", broken.toString(), "--precision", "fp16", "--seq-len", "8", "--samples", "0",
                "--out", single.toString(), "--progress", "plain");
        assertThat(one.code()).as(one.toString()).isEqualTo(2);
        assertThat(one.err()).isEqualTo(message);
        assertThat(single.getParent()).doesNotExist();
    }

    @Test
    void minCosineGateFailsTheRun() throws Exception {
        Cli c = Cli.run("convert", "--source", bert.toString(), "--out", dir.resolve("gate").toString(), "--chips", "M4",
                "--recipe", writeRecipe("int4.yaml", "variants:\n  - {chips: all, layout: ane, precision: int4-block32}\n"),
                "--seq-len", "8", "--samples", "1", "--min-cosine", "1.0", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isEqualTo(1);
        assertThat(c.err()).matches("aneforge convert: 1 variant\\(s\\) below --min-cosine 1.0: m4-ios18-ane-int4-block32-s8 "
                + "\\(0\\.\\d{6}\\); the files are written, see variants.json\n");
    }

    /** A recipe may ask for the clip search (-mse) beside the range fit; publish maps it to the registry's V7 modes. */
    @Test
    void msePrecisionsConvertBesideTheRangeFitAndMapToTheirRegistryModes() throws Exception {
        List<VariantEntry> vs = convertTwoOnM4(bert, "mse", "int4-block32-affine", "int4-block32-affine-mse");
        assertThat(vs).extracting(VariantEntry::id)
                .containsExactly("m4-ios18-ane-int4-block32-affine-s8", "m4-ios18-ane-int4-block32-affine-mse-s8");
        VariantEntry range = vs.get(0);
        VariantEntry searched = vs.get(1);
        assertThat(searched.precision()).isEqualTo("int4-block32-affine-mse");
        assertThat(searched.sha256()).isNotEqualTo(range.sha256());
        // the same tensors and stored bytes; the worst tensor no worse (the search never loses to the range fit per block)
        assertThat(searched.quantization().bytesAfter()).isEqualTo(range.quantization().bytesAfter());
        assertThat(searched.quantization().minSqnrDb()).isGreaterThanOrEqualTo(range.quantization().minSqnrDb());
        assertThat(io.aneforge.cli.registry.Registrations.of(searched))
                .containsEntry("precision", "int4").containsEntry("blockSize", 32).containsEntry("quantization", "affine-mse");
        assertThat(io.aneforge.cli.registry.Registrations.of(range)).containsEntry("quantization", "affine");
    }

    /** Converts {@code source} with a recipe of two ane variants for M4 (seq 8, 2 samples) into {@code dir/name}. */
    private List<VariantEntry> convertTwoOnM4(Path source, String name, String first, String second) throws Exception {
        Path out = dir.resolve(name);
        Cli c = Cli.run("convert", "--source", source.toString(), "--out", out.toString(), "--chips", "M4",
                "--recipe", writeRecipe(name + ".yaml", "variants:\n  - {chips: all, layout: ane, precision: " + first + "}\n"
                        + "  - {chips: all, layout: ane, precision: " + second + "}\n"),
                "--seq-len", "8", "--samples", "2", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        return VariantsManifest.read(out.resolve("variants.json")).variants();
    }

    /**
     * -ffn8 through a recipe and --precision: on a BERT whose FFN projections are quantized (128 wide), the FFN inputs
     * take int8 bytes, so the variant is bigger than plain int4; publish maps it to the registry's V8 mode.
     */
    @Test
    void ffn8PrecisionConvertsFromARecipeAndTheCommandLineAndMapsToItsRegistryMode() throws Exception {
        Path wide = TinyModels.bert(dir.resolve("wide-bert"), 11, "", 128);
        List<VariantEntry> vs = convertTwoOnM4(wide, "ffn8", "int4-block32-affine", "int4-block32-affine-ffn8");
        assertThat(vs).extracting(VariantEntry::id)
                .containsExactly("m4-ios18-ane-int4-block32-affine-s8", "m4-ios18-ane-int4-block32-affine-ffn8-s8");
        VariantEntry int4 = vs.get(0);
        VariantEntry mixed = vs.get(1);
        assertThat(mixed.precision()).isEqualTo("int4-block32-affine-ffn8");
        // same tensors quantized; two 128x32 FFN inputs at int8 instead of int4: per tensor 4096 values and 128 block
        // offsets (affine) take a byte instead of half a byte each, the FP16 scales are the same
        assertThat(mixed.quantization().tensors()).isEqualTo(int4.quantization().tensors());
        assertThat(mixed.quantization().bytesAfter() - int4.quantization().bytesAfter()).isEqualTo(2L * (4096 + 128) / 2);
        assertThat(io.aneforge.cli.registry.Registrations.of(mixed))
                .containsEntry("precision", "int4").containsEntry("blockSize", 32).containsEntry("quantization", "affine-ffn8");

        Path pkg = dir.resolve("ffn8-single/x.mlpackage");
        Cli one = Cli.run("convert", "--source", wide.toString(), "--precision", "int4-block32-mse-ffn8", "--seq-len", "8",
                "--samples", "1", "--out", pkg.toString(), "--progress", "plain");
        assertThat(one.code()).as(one.toString()).isZero();
        assertThat(MlPackage.read(pkg).metadata()).containsEntry("aneforge.build", "ios18-ane-int4-block32-mse-ffn8-s8");
        expectUsage(new String[] {"convert", "--source", wide.toString(), "--precision", "int8-block32-ffn8", "--out",
                dir.resolve("never-ffn8.mlpackage").toString()},
                "aneforge convert: --precision: precision 'int8-block32-ffn8': the -ffn8 override keeps the FFN input "
                        + "projections of an int4 variant at int8; an int8 variant has them at int8 already, drop -ffn8 "
                        + "(or use int4-block32-ffn8)");
    }

    /**
     * -gptq through a recipe and --precision: the conversion measures GPTQ's statistics on the model's tokenizer and
     * the calibration texts; same storage as the range fit, other bytes, the statistics' digest in the metadata, the
     * registry's V9 mode; converting again gives the same archive.
     */
    @Test
    void gptqPrecisionConvertsFromARecipeAndTheCommandLineReproducibly() throws Exception {
        Path wide = TinyModels.bert(dir.resolve("gptq-bert"), 11, "", 128);
        List<VariantEntry> vs = convertTwoOnM4(wide, "gptq", "int4-block32-affine", "int4-block32-affine-gptq");
        VariantEntry range = vs.get(0);
        VariantEntry gptq = vs.get(1);
        assertThat(gptq.precision()).isEqualTo("int4-block32-affine-gptq");
        assertThat(gptq.quantization().bytesAfter()).isEqualTo(range.quantization().bytesAfter());
        assertThat(gptq.sha256()).isNotEqualTo(range.sha256());
        assertThat(io.aneforge.cli.registry.Registrations.of(gptq))
                .containsEntry("precision", "int4").containsEntry("quantization", "affine-gptq");
        assertThat(convertTwoOnM4(wide, "gptq-again", "int4-block32-affine", "int4-block32-affine-gptq").get(1).sha256())
                .isEqualTo(gptq.sha256());
        // variants.json says what the statistics were measured on; the range-fit entry has no calibration at all
        VariantEntry.Calibration calibration = gptq.quantization().calibration();
        assertThat(calibration).isNotNull();
        assertThat(calibration.texts()).isEqualTo("built-in");
        assertThat(calibration.samples()).isEqualTo(io.aneforge.convert.Calibration.texts().size());
        assertThat(calibration.tokens()).isPositive();
        assertThat(calibration.sha256()).isEqualTo(MlPackage.read(dir.resolve("gptq").resolve(gptq.path())).metadata()
                .get("aneforge.calibration_sha256"));
        assertThat(range.quantization().calibration()).isNull();
        String json = Files.readString(dir.resolve("gptq/variants.json"));
        assertThat(json.split("\"calibration\"", -1)).as("one calibration object, the -gptq entry's").hasSize(2);

        Path pkg = dir.resolve("gptq-single/x.mlpackage");
        Cli one = Cli.run("convert", "--source", wide.toString(), "--precision", "int4-block32-gptq", "--seq-len", "8",
                "--samples", "1", "--out", pkg.toString(), "--progress", "plain");
        assertThat(one.code()).as(one.toString()).isZero();
        assertThat(one.out()).contains("measuring GPTQ calibration statistics on 64 calibration texts");
        assertThat(MlPackage.read(pkg).metadata()).containsEntry("aneforge.build", "ios18-ane-int4-block32-gptq-s8")
                .containsKey("aneforge.calibration_sha256");
        // the user's own calibration texts: other statistics, other bytes, their digest in the metadata
        Path texts = dir.resolve("calibration.txt");
        Files.writeString(texts, "the cat sat on the mat\n\nhello world, hello again\nquick brown dogs\n");
        Path own = dir.resolve("gptq-own/x.mlpackage");
        Cli mine = Cli.run("convert", "--source", wide.toString(), "--precision", "int4-block32-gptq", "--seq-len", "8",
                "--samples", "1", "--calibration", texts.toString(), "--out", own.toString(), "--progress", "plain");
        assertThat(mine.code()).as(mine.toString()).isZero();
        assertThat(mine.out()).contains("measuring GPTQ calibration statistics on 3 calibration texts");
        assertThat(MlPackage.read(own).metadata().get("aneforge.calibration_sha256"))
                .isNotEqualTo(MlPackage.read(pkg).metadata().get("aneforge.calibration_sha256"));
        expectUsage(new String[] {"convert", "--source", wide.toString(), "--precision", "int4-block32", "--calibration",
                texts.toString(), "--out", dir.resolve("never-calibrated.mlpackage").toString()},
                "aneforge convert: --calibration gives GPTQ and W8A8 their calibration texts, and no variant of this run "
                        + "is calibrated: drop --calibration, or ask for a -gptq precision (e.g. int4-block32-affine-gptq) or "
                        + "w8a8[-affine]");
        Path blank = dir.resolve("blank.txt");
        Files.writeString(blank, "\n  \n");
        expectUsage(new String[] {"convert", "--source", wide.toString(), "--precision", "int4-block32-gptq", "--calibration",
                blank.toString(), "--out", dir.resolve("never-blank.mlpackage").toString()},
                "aneforge convert: --calibration: " + blank + " has no texts; write one text per line");
        Cli missing = Cli.run("convert", "--source", wide.toString(), "--precision", "int4-block32-gptq", "--calibration",
                dir.resolve("absent.txt").toString(), "--out", dir.resolve("never-absent.mlpackage").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).startsWith("aneforge convert: --calibration: cannot read " + dir.resolve("absent.txt"));
        expectUsage(new String[] {"convert", "--source", wide.toString(), "--precision", "int4-block32-mse-gptq", "--out",
                dir.resolve("never-gptq.mlpackage").toString()},
                "aneforge convert: --precision: -gptq and -mse are two ways to fit the same scales; pick one");
    }

    @Test
    void recipeCommandShowsThePlanWithoutConverting() throws Exception {
        Cli c = Cli.run("recipe", "--chips", "M4,A14", "--seq-len", "64");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out().lines().toList()).hasSize(7);
        assertThat(c.out()).startsWith("recipe default (built-in recipe default): 6 variants, 3 packages (variants that"
                        + " differ only in the chip share one)\n")
                .contains("m4-ios18-ane-int8-block32-s64")
                .containsPattern("a14-ios16-standard-fp16-s64 +A14 +ios16 +standard +fp16 +ios16-standard-fp16-s64"
                        + " +cpuOnly,cpuAndGPU,cpuAndNeuralEngine,all");
        Cli asJson = Cli.run("recipe", "--chips", "M4,A14", "--seq-len", "64", "--json");
        tools.jackson.databind.JsonNode plan = tools.jackson.databind.json.JsonMapper.builder().build().readTree(asJson.out());
        assertThat(plan.path("packages").asInt()).isEqualTo(3);
        assertThat(plan.path("variants").get(0).path("build").asString()).isEqualTo(
                plan.path("variants").get(0).path("id").asString().replaceFirst("^[a-z0-9_]+-", ""));
        Cli bad = Cli.run("recipe", "--recipe", writeRecipe("dup.yaml",
                "variants:\n  - {chips: all, layout: ane, precision: fp16}\n  - {chips: [M1], layout: ane, precision: fp16}\n"));
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("aneforge recipe: " + dir.resolve("dup.yaml") + " line 3 (variants[1]): duplicate "
                + "variant: M1 ane fp16 ios16 is already built by " + dir.resolve("dup.yaml") + " line 2 (variants[0]): "
                + "remove one entry or narrow its chips\n");
    }

    /**
     * A fine-tuned classifier converts with its head: the packages output the classifier's logits (1, num_labels),
     * variants.json and the package metadata carry the labels, predict names the label and eval measures the logits.
     * {@code --head none} converts the encoder and says so (the fidelity check compares against the same graph, so
     * nothing else shows that the logits are not there); a head that is never converted (masked LM) is named the same.
     */
    @Test
    void aClassifierConvertsWithItsHeadAndHeadNoneKeepsTheEncoder() throws Exception {
        Path classifier = Files.createDirectories(dir.resolve("classifier"));
        io.aneforge.testsupport.models.RawSafetensors st = new io.aneforge.testsupport.models.RawSafetensors();
        try (var f = io.aneforge.safetensors.SafetensorsFile.open(bert.resolve("model.safetensors"))) {
            for (var t : f.tensors()) {
                st.f32("bert." + t.name(), f.readFloat(t.name()).data(), t.shape());
            }
        }
        float[] w = new float[2 * TinyModels.HIDDEN];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) Math.sin(i); // a classifier that does not give equal logits
        }
        st.f32("classifier.weight", w, 2, TinyModels.HIDDEN);
        st.f32("classifier.bias", new float[] {0.5f, -0.5f}, 2);
        st.write(classifier.resolve("model.safetensors"));
        Files.copy(bert.resolve("tokenizer.json"), classifier.resolve("tokenizer.json"));
        Files.writeString(classifier.resolve("config.json"), Files.readString(bert.resolve("config.json"))
                .replace("\"BertModel\"]", "\"BertForSequenceClassification\"], \"id2label\": {\"0\": \"NEGATIVE\","
                        + " \"1\": \"POSITIVE\"}"));
        Path headOut = dir.resolve("classifier-out");
        Cli c = Cli.run("convert", "--source", classifier.toString(), "--out", headOut.toString(),
                "--chips", "M4", "--seq-len", "8", "--samples", "2", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("converting the checkpoint's sequence classification head (2 labels): logits (1, 2)"
                + " (--head none outputs the base model's hidden states instead)\n").doesNotContain("is not converted")
                .contains("note: this model has 2 token types; its packages read every token as segment 0, so a sentence"
                        + " pair is read as one text: pass --token-types for pairs");
        VariantsManifest m = VariantsManifest.read(headOut.resolve("variants.json"));
        assertThat(m.model().task()).isEqualTo(new VariantsManifest.Task("sequence-classification",
                "BertForSequenceClassification", List.of("logits"), List.of("NEGATIVE", "POSITIVE"),
                null)); // config.json states no problem_type: none recorded
        assertThat(m.variants()).isNotEmpty().allSatisfy(v -> assertThat(v.fidelity()).containsOnlyKeys("logits"));
        Path pkg = headOut.resolve(m.variants().get(0).path());
        io.aneforge.mil.Program p = io.aneforge.mlpackage.MlPackage.read(pkg);
        assertThat(p.outputs()).singleElement().satisfies(o -> assertThat(o.shape()).containsExactly(1, 2));
        assertThat(p.metadata()).containsEntry("aneforge.id2label", "{\"0\": \"NEGATIVE\", \"1\": \"POSITIVE\"}");

        Cli predict = Cli.run("predict", "--package", pkg.toString(), "--text", "hello world", "--json");
        assertThat(predict.code()).as(predict.toString()).isZero();
        var answer = tools.jackson.databind.json.JsonMapper.builder().build().readTree(predict.out());
        assertThat(answer.at("/outputs/logits/shape").toString()).isEqualTo("[1,2]");
        float l0 = answer.at("/outputs/logits/first/0").floatValue();
        float l1 = answer.at("/outputs/logits/first/1").floatValue();
        assertThat(answer.at("/label/label").stringValue()).isEqualTo(l0 > l1 ? "NEGATIVE" : "POSITIVE");
        assertThat(answer.at("/label/score").doubleValue()).isCloseTo(1 / (1 + Math.exp(-Math.abs(l0 - l1))),
                org.assertj.core.data.Offset.offset(1e-5));
        Cli eval = Cli.run("eval", "--package", pkg.toString(), "--source", classifier.toString(), "--samples", "2");
        assertThat(eval.code()).as(eval.toString()).isZero();
        assertThat(eval.out()).containsPattern("\nlogits +(0\\.99|1\\.0)");

        Cli none = Cli.run("convert", "--source", classifier.toString(), "--out", dir.resolve("classifier-base").toString(),
                "--chips", "M4", "--seq-len", "8", "--samples", "0", "--progress", "plain", "--head", "none");
        assertThat(none.code()).as(none.toString()).isZero();
        assertThat(none.out()).contains("note: the checkpoint's task head (classifier) is not converted: the packages "
                + "output the base model's hidden states, not the head's outputs (e.g. a classifier's logits); apply the "
                + "head to them yourself\n");
        VariantsManifest base = VariantsManifest.read(dir.resolve("classifier-base/variants.json"));
        assertThat(base.model().task()).isNull();
        Path basePkg = dir.resolve("classifier-base").resolve(base.variants().get(0).path());
        assertThat(io.aneforge.mlpackage.MlPackage.read(basePkg).outputs()).extracting(o -> o.name())
                .containsExactly("last_hidden_state", "pooler_output");
        Cli evalBase = Cli.run("eval", "--package", basePkg.toString(), "--source", classifier.toString(), "--samples", "2");
        assertThat(evalBase.code()).as(evalBase.toString()).isZero();
        assertThat(evalBase.out()).contains("last_hidden_state");
        assertThat(Files.readString(dir.resolve("classifier-base/variants.json"))).doesNotContain("\"task\"");
        expectUsage(new String[] {"convert", "--source", classifier.toString(), "--out", dir.resolve("x").toString(),
                "--head", "drop"}, "aneforge convert: --head must be one of convert, none, sequence-classification,"
                + " token-classification, question-answering, fill-mask, pre-training, got 'drop'");
        assertThat(first.out()).doesNotContain("task head").doesNotContain("head (");

        // --token-types: a third input, fed zeros by convert's fidelity, predict and eval for single texts
        Path pairPkg = dir.resolve("classifier-pair.mlpackage");
        Cli pairs = Cli.run("convert", "--source", classifier.toString(), "--out", pairPkg.toString(), "--seq-len", "8",
                "--samples", "2", "--progress", "plain", "--token-types", "--min-cosine", "0.999");
        assertThat(pairs.code()).as(pairs.toString()).isZero();
        assertThat(pairs.out()).doesNotContain("token types;");
        io.aneforge.mil.Program pp = io.aneforge.mlpackage.MlPackage.read(pairPkg);
        assertThat(pp.inputs()).extracting(v -> v.name()).containsExactly("input_ids", "attention_mask", "token_type_ids");
        Cli predictPair = Cli.run("predict", "--package", pairPkg.toString(), "--source", classifier.toString(),
                "--text", "hello world", "--json");
        assertThat(predictPair.code()).as(predictPair.toString()).isZero();
        var pairAnswer = tools.jackson.databind.json.JsonMapper.builder().build().readTree(predictPair.out());
        for (int i = 0; i < 2; i++) {
            // segment 0 everywhere: the logits of the package without the input
            assertThat(pairAnswer.at("/outputs/logits/first/" + i).floatValue()).isCloseTo(
                    answer.at("/outputs/logits/first/" + i).floatValue(), org.assertj.core.data.Offset.offset(2e-3f));
        }
        // --text-pair: the second text in segment 1, another answer than the first text alone
        Cli textPair = Cli.run("predict", "--package", pairPkg.toString(), "--source", classifier.toString(),
                "--text", "hello world", "--text-pair", "the cat sat on the mat", "--json");
        assertThat(textPair.code()).as(textPair.toString()).isZero();
        var textPairAnswer = tools.jackson.databind.json.JsonMapper.builder().build().readTree(textPair.out());
        assertThat(textPairAnswer.at("/tokens").intValue()).isGreaterThan(pairAnswer.at("/tokens").intValue());
        assertThat(textPairAnswer.at("/outputs/logits/first/0").floatValue())
                .isNotEqualTo(pairAnswer.at("/outputs/logits/first/0").floatValue());
        assertThat(textPairAnswer.at("/label/label").stringValue()).isIn("NEGATIVE", "POSITIVE");
        // the pure-Java tokenizer encodes the pair as Hugging Face's does: the same tokens and logits
        String implementation = System.getProperty(Tokenizer.IMPLEMENTATION_PROPERTY);
        System.setProperty(Tokenizer.IMPLEMENTATION_PROPERTY, "java");
        try {
            Cli javaPair = Cli.run("predict", "--package", pairPkg.toString(), "--source", classifier.toString(),
                    "--text", "hello world", "--text-pair", "the cat sat on the mat", "--json");
            assertThat(javaPair.code()).as(javaPair.toString()).isZero();
            var javaAnswer = tools.jackson.databind.json.JsonMapper.builder().build().readTree(javaPair.out());
            assertThat(javaAnswer.at("/tokens")).isEqualTo(textPairAnswer.at("/tokens"));
            assertThat(javaAnswer.at("/outputs")).isEqualTo(textPairAnswer.at("/outputs"));
        } finally {
            if (implementation == null) {
                System.clearProperty(Tokenizer.IMPLEMENTATION_PROPERTY);
            } else {
                System.setProperty(Tokenizer.IMPLEMENTATION_PROPERTY, implementation);
            }
        }
        // a pair through a package without token_type_ids would be read as one text: refused, naming the fix
        Cli pairWithoutTypes = Cli.run("predict", "--package", pkg.toString(), "--source", classifier.toString(),
                "--text", "hello world", "--text-pair", "the cat sat on the mat");
        assertThat(pairWithoutTypes.code()).as(pairWithoutTypes.toString()).isEqualTo(2);
        assertThat(pairWithoutTypes.err()).contains("has no token_type_ids input").contains("--token-types");
        Cli evalPair = Cli.run("eval", "--package", pairPkg.toString(), "--source", classifier.toString(), "--samples", "2");
        assertThat(evalPair.code()).as(evalPair.toString()).isZero();
        // the golden data of a model with token types: the fixed sentence pairs, their second texts in segment 1
        Path pairsOut = dir.resolve("classifier-pairs-out");
        Cli recipePairs = Cli.run("convert", "--source", classifier.toString(), "--out", pairsOut.toString(), "--chips",
                "M4", "--seq-len", "8", "--samples", "2", "--progress", "plain", "--token-types");
        assertThat(recipePairs.code()).as(recipePairs.toString()).isZero();
        assertThat(recipePairs.out()).contains("computing golden FP32 outputs on the 32 fixed sentence pairs");
        GoldenOutputs pairInputs = read(pairsOut.resolve("golden-inputs.bin"));
        try (Tokenizer tok = Tokenizer.load(classifier.resolve("tokenizer.json"))) {
            List<Map<String, FloatTensor>> expected = Golden.sampleInputs(ModelImporter.importWeights(
                    ModelSnapshot.of(classifier, null)).withTokenTypeInput(), tok, 32, 8);
            assertThat(pairInputs.samples()).hasSize(32);
            for (int i = 0; i < 32; i++) {
                Map<String, FloatTensor> stored = pairInputs.samples().get(i).outputs();
                Samples.Pair pair = Samples.pairs().get(i);
                assertThat(stored.get(Graphs.TOKEN_TYPE_IDS).data()).as(pair.toString()).contains(1f)
                        .containsExactly(expected.get(i).get(Graphs.TOKEN_TYPE_IDS).data());
                assertThat(stored.get(Graphs.INPUT_IDS).data())
                        .containsExactly(tokenIds(tok.encodePair(pair.first(), pair.second(), 8).ids()));
            }
        }
        expectUsage(new String[] {"convert", "--source", TinyModels.gpt2(dir.resolve("gpt2-types"), 3).toString(), "--out",
                dir.resolve("gpt2-types.mlpackage").toString(), "--token-types", "--seq-len", "8"},
                "aneforge convert: --token-types: this gpt2 model has no token types, so there is no second segment to "
                + "feed: convert it without token types (drop --token-types)");
    }

    private static float[] tokenIds(int[] ids) {
        float[] f = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            f[i] = ids[i];
        }
        return f;
    }

    private static String writeRecipe(String name, String yaml) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, yaml);
        return f.toString();
    }

    private static void expectUsage(String[] args, String message) {
        Cli c = Cli.run(args);
        assertThat(c.code()).as(c.toString()).isEqualTo(2);
        assertThat(c.err()).isEqualTo(message + "\n");
    }
}
