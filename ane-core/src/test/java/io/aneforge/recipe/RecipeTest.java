package io.aneforge.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.mil.Target;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecipeTest {

    private static List<String> ids(List<VariantSpec> specs) {
        return specs.stream().map(VariantSpec::id).collect(Collectors.toList());
    }

    @Test
    void defaultRecipeGivesEveryChipAneFp16BlockInt8AndTheStandardBaseline() {
        Recipe r = Recipe.builtIn("default");
        assertThat(r.name()).isEqualTo("default");
        assertThat(r.minimumTarget()).isEqualTo(Target.IOS16);
        assertThat(r.computeUnits()).containsExactly("cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all");

        assertThat(ids(r.variantsFor(List.of("A17_PRO", "M2"), 128))).containsExactly(
                "a17_pro-ios16-ane-fp16-s128",
                "a17_pro-ios18-ane-int8-block32-s128",
                "a17_pro-ios16-standard-fp16-s128",
                "m2-ios16-ane-fp16-s128",
                "m2-ios18-ane-int8-block32-s128",
                "m2-ios16-standard-fp16-s128");
        // No w8a8 candidate: opt-in (resolve would serve it to iOS 17 A17 Pro / M4 devices; see default.yaml).
        assertThat(r.variantsFor(List.of(), 128)).hasSize(3 * 10)
                .noneMatch(s -> s.precision().scheme() == Precision.Scheme.W8A8);
        assertThat(r.computeUnitsFor(r.variantsFor(List.of("M4"), 128).get(0))).containsExactly(
                "cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all");
    }

    @Test
    void longSequencesGetChunkedAttentionOnlyInTheAneLayout() {
        List<VariantSpec> specs = Recipe.builtIn("default").variantsFor(List.of("M4"), 2048);
        assertThat(ids(specs)).containsExactly("m4-ios16-ane-fp16-s2048-c512", "m4-ios18-ane-int8-block32-s2048-c512",
                "m4-ios16-standard-fp16-s2048");
    }

    @Test
    void customRecipeWithKeywordsOverridesAndDerivedTargets() {
        Recipe r = Recipe.parse("""
                name: fast
                minimumTarget: ios17
                computeUnits: [all, cpuAndNeuralEngine]
                variants:
                  - chips: w8a8
                    layout: ane
                    precision: w8a8
                    computeUnits: [cpuAndNeuralEngine]
                  - chips: [M2, A17_PRO]
                    layout: ane
                    precision: int4-block64-affine
                  - chips: M1
                    layout: ane
                    precision: fp16
                    target: ios18
                    attentionChunk: 64
                """, "fast.yaml");
        assertThat(r.computeUnits()).containsExactly("cpuAndNeuralEngine", "all");
        assertThat(ids(r.variantsFor(List.of("M4", "M2", "M1", "M4"), 256))).containsExactly(
                "m4-ios17-ane-w8a8-s256", "m2-ios18-ane-int4-block64-affine-s256", "m1-ios18-ane-fp16-s256-c64");
        VariantSpec w8a8 = r.variantsFor(List.of("A17_PRO"), 256).get(0);
        assertThat(w8a8.precision().id()).isEqualTo("w8a8");
        assertThat(r.computeUnitsFor(w8a8)).containsExactly("cpuAndNeuralEngine");
        assertThat(r.computeUnitsFor(r.variantsFor(List.of("M2"), 256).get(0))).containsExactly("cpuAndNeuralEngine", "all");
        assertThat(r.entries().get(2).layout()).isEqualTo(Layout.ANE);
    }

    @Test
    void loadReadsAFileAndNamesItAfterTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("mine.yaml");
        Files.writeString(file, "variants:\n  - {chips: all, layout: standard, precision: fp32}\n");
        Recipe r = Recipe.load(file);
        assertThat(r.name()).isEqualTo("mine");
        assertThat(ids(r.variantsFor(List.of("A14"), 8))).containsExactly("a14-ios16-standard-fp32-s8");
        assertThat(Recipe.resolve(file.toString()).name()).isEqualTo("mine");
        assertThat(Recipe.resolve("default").name()).isEqualTo("default");

        assertThatThrownBy(() -> Recipe.load(dir.resolve("nope.yaml"))).isInstanceOf(RecipeException.class)
                .hasMessage("recipe file " + dir.resolve("nope.yaml") + " does not exist: pass an existing .yaml file "
                        + "or a built-in name [default]");
        assertThatThrownBy(() -> Recipe.resolve("fastest")).hasMessage(
                "unknown recipe 'fastest': use a built-in name [default] or the path of a recipe .yaml file");
    }

    private static void rejects(String yaml, String message) {
        assertThatThrownBy(() -> Recipe.parse(yaml, "r.yaml")).isInstanceOf(RecipeException.class).hasMessage(message);
    }

    @Test
    void blockWiseOnIos16IsRejectedWithTheFix() {
        rejects("""
                variants:
                  - chips: all
                    layout: ane
                    precision: int8-block32
                    target: ios16
                """, "r.yaml line 5 (variants[0].target): precision int8-block32 needs deployment target ios18 or newer "
                + "(iOS 18 / macOS 15), got ios16: set target: ios18 or remove the target line");
    }

    @Test
    void w8a8OnAChipWithoutTheFastPathIsRejected() {
        rejects("""
                variants:
                  - chips: [A17_PRO, M2]
                    layout: ane
                    precision: w8a8
                """, "r.yaml line 2 (variants[0].chips): precision w8a8 needs a chip with the W8A8 fast path (A17_PRO, M4), "
                + "but the chip catalog lists M2 as no: use chips: w8a8 (or list only those chips)");
        rejects("""
                variants:
                  - {chips: all, layout: ane, precision: w8a8}
                """, "r.yaml line 2 (variants[0].chips): precision w8a8 needs a chip with the W8A8 fast path (A17_PRO, M4), "
                + "but the chip catalog lists A14 as no: use chips: w8a8 (or list only those chips)");
    }

    @Test
    void unknownChipNamesTheCatalog() {
        rejects("""
                variants:
                  - chips: [M4, a17_pro]
                    layout: ane
                    precision: fp16
                """, "r.yaml line 2 (variants[0].chips[1]): unknown chip 'a17_pro' (did you mean A17_PRO?): use catalog ids "
                + "[A14, A15, A16, A17_PRO, A18, A18_PRO, M1, M2, M3, M4], all or w8a8");
        assertThatThrownBy(() -> Recipe.builtIn("default").variantsFor(List.of("M9"), 128)).isInstanceOf(RecipeException.class)
                .hasMessage("unknown chip 'M9': use catalog ids [A14, A15, A16, A17_PRO, A18, A18_PRO, M1, M2, M3, M4]");
    }

    @Test
    void badBlockSizeAndUnknownPrecision() {
        rejects("""
                variants:
                  - chips: all
                    layout: ane
                    precision: int8-block48
                """, "r.yaml line 4 (variants[0].precision): block size must be 32, 64 or 128, got 48");
        rejects("""
                variants:
                  - chips: all
                    layout: ane
                    precision: bf16
                """, "r.yaml line 4 (variants[0].precision): unknown precision 'bf16': use fp32, fp16, int8-channel, "
                + "int8-block{32,64,128}[-affine][-mse|-gptq], int4-block{32,64,128}[-affine][-mse|-gptq][-ffn8] or w8a8[-affine]");
    }

    /** A file that is no recipe at all is quoted by an excerpt, not echoed whole. */
    @Test
    void aScalarFileIsQuotedByAnExcerpt() {
        String passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                + "bin:x:2:2:bin:/bin:/usr/sbin/nologin\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\n";
        assertThatThrownBy(() -> Recipe.parse(passwd, "/etc/passwd")).isInstanceOf(RecipeException.class)
                .hasMessageStartingWith("/etc/passwd line 1: a recipe is a mapping with a 'variants:' list, found "
                        + "'root:x:0:0:root:/root:/bin/bash daemon:x…' (")
                .hasMessageEndingWith(" characters)")
                .hasMessageNotContaining("nologin");
    }

    @Test
    void sequenceLengthOutOfRange() {
        Recipe r = Recipe.parse("maxSeqLen: 512\nvariants:\n  - {chips: all, layout: ane, precision: fp16}\n", "short.yaml");
        assertThatThrownBy(() -> r.variantsFor(List.of("M1"), 513)).isInstanceOf(RecipeException.class)
                .hasMessage("sequence length 513 is out of range for recipe short (2..512): pass a sequence length between 2 and 512");
        assertThatThrownBy(() -> Recipe.builtIn("default").variantsFor(List.of("M1"), 0))
                .hasMessage("sequence length 0 is out of range for recipe default (2..8192): pass a sequence length between 2 and 8192");
        // 1 is refused as the message says (the tokenizers need room for [CLS] and [SEP])
        assertThatThrownBy(() -> Recipe.builtIn("default").variantsFor(List.of("M1"), 1))
                .hasMessageContaining("(2..8192): pass a sequence length between 2 and 8192");
        rejects("maxSeqLen: 1\nvariants: []\n",
                "r.yaml line 1 (maxSeqLen): maxSeqLen must be an integer in 2..8192, got 1: fix the value or remove it");
        rejects("maxSeqLen: 10000\nvariants: []\n",
                "r.yaml line 1 (maxSeqLen): maxSeqLen must be an integer in 2..8192, got 10000: fix the value or remove it");
        // An explicit chunk larger than the requested length.
        Recipe chunked = Recipe.parse("variants:\n  - {chips: [M1], layout: ane, precision: fp16, attentionChunk: 256}\n", "c.yaml");
        assertThatThrownBy(() -> chunked.variantsFor(List.of("M1"), 128)).hasMessage(
                "c.yaml line 2 (variants[0]): cannot build for M1 at sequence length 128: attention chunk must be in 0..seqLen (128), got 256");
    }

    @Test
    void duplicateVariantsNameBothEntries() {
        rejects("""
                variants:
                  - chips: all
                    layout: ane
                    precision: fp16
                  - chips: [M4]
                    layout: ane
                    precision: fp16
                    target: ios16
                """, "r.yaml line 5 (variants[1]): duplicate variant: M4 ane fp16 ios16 is already built by r.yaml line 2 "
                + "(variants[0]): remove one entry or narrow its chips");
        rejects("""
                variants:
                  - chips: [M4, M4]
                    layout: ane
                    precision: fp16
                """, "r.yaml line 2 (variants[0].chips[1]): chip M4 is listed twice: remove one");
    }

    @Test
    void structuralErrors() {
        rejects("variants:\n  - chips: all\n    layout: ane\n    precison: fp16\n",
                "r.yaml line 4 (variants[0].precison): unknown field 'precison': allowed here are chips, layout, precision, "
                        + "target, attentionChunk, computeUnits");
        rejects("variants:\n  - chips: all\n    layout: ane\n",
                "r.yaml line 2 (variants[0]): missing 'precision': add it (e.g. precision: fp16)");
        rejects("name: x\n", "r.yaml line 1: a recipe needs a non-empty 'variants:' list (each item: chips, layout, precision)");
        rejects("", "r.yaml: the recipe is empty: write at least a 'variants:' list");
        rejects("variants: [\n", "r.yaml line 1: not valid YAML (while parsing a flow node: expected the node content, but "
                + "found '<stream end>'): fix the syntax");
        rejects("variants:\n  - {chips: all, layout: diagonal, precision: fp16}\n",
                "r.yaml line 2 (variants[0].layout): unknown layout 'diagonal': use ane or standard");
        rejects("minimumTarget: ios14\nvariants:\n  - {chips: all, layout: ane, precision: fp16}\n",
                "r.yaml line 1 (minimumTarget): unknown deployment target 'ios14': use one of ios15, ios16, ios17, ios18, ios26");
        rejects("computeUnits: [all, neuralEngine]\nvariants:\n  - {chips: all, layout: ane, precision: fp16}\n",
                "r.yaml line 1 (computeUnits[1]): unknown compute unit 'neuralEngine': use one of cpuOnly, cpuAndGPU, "
                        + "cpuAndNeuralEngine, all");
        rejects("minimumTarget: ios17\nvariants:\n  - {chips: all, layout: ane, precision: fp16, target: ios16}\n",
                "r.yaml line 3 (variants[0].target): target ios16 is below the recipe's minimumTarget ios17: raise the "
                        + "target or lower minimumTarget");
        rejects("variants:\n  - {chips: all, layout: standard, precision: fp16, attentionChunk: 512}\n",
                "r.yaml line 2 (variants[0].attentionChunk): chunked attention exists only in the ane layout: remove "
                        + "attentionChunk or use layout: ane");
        rejects("variants:\n  - chips: all\n    layout: ane\n    layout: standard\n    precision: fp16\n",
                "r.yaml line 4: field \"layout\" is written twice in one mapping: keep one");
    }

    @Test
    void uncoveredChipIsRejected() {
        Recipe r = Recipe.parse("variants:\n  - {chips: [M4], layout: ane, precision: fp16}\n", "m4.yaml");
        assertThatThrownBy(() -> r.variantsFor(List.of("M4", "A16"), 128)).hasMessage(
                "recipe m4 (m4.yaml) has no variant for chip A16: add it to an entry's chips or drop it from the requested chips");
    }

    @Test
    void aRecipeFileMustBeARegularFileOfSaneSize(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> Recipe.load(Path.of("/dev/zero"))).isInstanceOf(RecipeException.class)
                .hasMessage("recipe file /dev/zero is not a regular file: pass a .yaml file or a built-in name [default]");
        Path big = dir.resolve("big.yaml");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(Recipe.MAX_FILE_BYTES + 1);
        }
        assertThatThrownBy(() -> Recipe.resolve(big.toString())).isInstanceOf(RecipeException.class)
                .hasMessage("recipe file " + big + " is 1048577 bytes, more than the limit of 1048576 (a recipe is a few lines"
                        + " of YAML): pass a recipe .yaml file");
    }

    private static final String OMITTED_AND_512 = """
            variants:
              - chips: [A17_PRO]
                layout: ane
                precision: fp16
              - chips: [A17_PRO]
                layout: ane
                precision: fp16
                attentionChunk: 512
            """;

    private static final String OMITTED_AND_0 = OMITTED_AND_512.replace("attentionChunk: 512", "attentionChunk: 0");

    /** An omitted attentionChunk is compared as the chunk it means at the requested length. */
    @Test
    void duplicatesAreFoundByTheEffectiveChunk() {
        Recipe r = Recipe.parse(OMITTED_AND_512, "r.yaml");
        assertThatThrownBy(() -> r.variantsFor(List.of("A17_PRO"), 1024)).isInstanceOf(RecipeException.class)
                .hasMessage("r.yaml line 5 (variants[1]): duplicate variant at sequence length 1024: a17_pro-ios16-ane-fp16-s1024-c512"
                        + " is already built by r.yaml line 2 (variants[0]) (without attentionChunk an ane entry chunks by 512 above"
                        + " 512 tokens and not at all up to it): remove one entry or give them different attentionChunk values");
        Recipe zero = Recipe.parse(OMITTED_AND_0, "r.yaml");
        assertThatThrownBy(() -> zero.variantsFor(List.of("A17_PRO"), 128))
                .hasMessageStartingWith("r.yaml line 5 (variants[1]): duplicate variant at sequence length 128: a17_pro-ios16-ane-fp16-s128"
                        + " is already built by r.yaml line 2 (variants[0])");
        // Above 512 tokens they are two variants: chunked by 512 and not chunked.
        assertThat(ids(zero.variantsFor(List.of("A17_PRO"), 1024)))
                .containsExactly("a17_pro-ios16-ane-fp16-s1024-c512", "a17_pro-ios16-ane-fp16-s1024");
        // Where the length cannot pass 512, or in the standard layout, omitted is 0 at every length: refused when read.
        rejects("maxSeqLen: 512\n" + OMITTED_AND_0, "r.yaml line 6 (variants[1]): duplicate variant: A17_PRO ane fp16 ios16 is"
                + " already built by r.yaml line 3 (variants[0]): remove one entry or narrow its chips");
        rejects(OMITTED_AND_0.replace("ane", "standard"), "r.yaml line 5 (variants[1]): duplicate variant: A17_PRO standard fp16"
                + " ios16 is already built by r.yaml line 2 (variants[0]): remove one entry or narrow its chips");
    }

    @Test
    void computeUnitsFollowTheEntryWithTheVariantsChunk() {
        Recipe r = Recipe.parse("""
                variants:
                  - {chips: [M4], layout: ane, precision: fp16, attentionChunk: 256, computeUnits: [cpuOnly]}
                  - {chips: [M4], layout: ane, precision: fp16, computeUnits: [cpuAndNeuralEngine]}
                """, "r.yaml");
        List<VariantSpec> specs = r.variantsFor(List.of("M4"), 1024);
        assertThat(ids(specs)).containsExactly("m4-ios16-ane-fp16-s1024-c256", "m4-ios16-ane-fp16-s1024-c512");
        assertThat(r.computeUnitsFor(specs.get(0))).containsExactly("cpuOnly");
        assertThat(r.computeUnitsFor(specs.get(1))).containsExactly("cpuAndNeuralEngine");
    }

    /** A chunk of 1 at 8192 tokens took 75 s and wrote a 49 MB model; chunks need not divide the length. */
    @Test
    void attentionChunksUnder64AreRefused() {
        rejects("variants:\n  - {chips: all, layout: ane, precision: fp16, attentionChunk: 7}\n",
                "r.yaml line 2 (variants[0].attentionChunk): attentionChunk must be 0 (no chunking) or an integer in 64..8192,"
                        + " got 7: smaller chunks multiply the graph's ops by seqLen / chunk and save almost no memory");
        rejects("variants:\n  - {chips: all, layout: ane, precision: fp16, attentionChunk: 63}\n",
                "r.yaml line 2 (variants[0].attentionChunk): attentionChunk must be 0 (no chunking) or an integer in 64..8192,"
                        + " got 63: smaller chunks multiply the graph's ops by seqLen / chunk and save almost no memory");
        rejects("variants:\n  - {chips: all, layout: ane, precision: fp16, attentionChunk: -1}\n",
                "r.yaml line 2 (variants[0].attentionChunk): attentionChunk must be 0 (no chunking) or an integer in 64..8192,"
                        + " got -1");
        assertThatThrownBy(() -> new VariantSpec("M4", Target.IOS16, Layout.ANE, Precision.FP16, 8192, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("attention chunk must be 0 (none) or at least 64, got 1: smaller chunks multiply the graph's ops by"
                        + " seqLen / chunk and save almost no memory");
        Recipe r = Recipe.parse("variants:\n  - {chips: [M4], layout: ane, precision: fp16, attentionChunk: 96}\n", "r.yaml");
        assertThat(ids(r.variantsFor(List.of("M4"), 200))).containsExactly("m4-ios16-ane-fp16-s200-c96");
    }
}
