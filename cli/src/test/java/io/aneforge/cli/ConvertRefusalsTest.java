package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.testsupport.models.TinyModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code convert} refuses, and that a refused or failed run leaves the output as it was: everything is
 * checked before anything is written, and the files move into place only once they are all complete.
 */
class ConvertRefusalsTest {

    @TempDir
    static Path dir;
    static Path bert;
    static Path recipe;

    @BeforeAll
    static void models() throws Exception {
        bert = TinyModels.bert(dir.resolve("bert"), 3);
        recipe = dir.resolve("one.yaml");
        Files.writeString(recipe, "variants:\n  - {chips: all, layout: ane, precision: fp16}\n");
    }

    /**
     * Converts the one-variant recipe for M4 at seq 8 without fidelity into {@code out}; {@code more} options
     * replace those ({@code --seq-len 1000}) or come on top ({@code --force}).
     */
    static Cli convert(Path source, Path out, String... more) {
        Map<String, String> options = new java.util.LinkedHashMap<>(Map.of("--chips", "M4", "--recipe", recipe.toString(),
                "--seq-len", "8", "--samples", "0", "--progress", "plain"));
        List<String> flags = new ArrayList<>();
        for (int i = 0; i < more.length; i++) {
            if (i + 1 < more.length && !more[i + 1].startsWith("--")) {
                options.put(more[i], more[++i]);
            } else {
                flags.add(more[i]);
            }
        }
        List<String> args = new ArrayList<>(List.of("convert", "--source", source.toString(), "--out", out.toString()));
        options.forEach((k, v) -> args.addAll(List.of(k, v)));
        args.addAll(flags);
        return Cli.run(args.toArray(String[]::new));
    }

    /** Every file under {@code root} (hidden ones too) with its sha256. */
    static Map<String, String> contents(Path root) throws Exception {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(p).toString(), HexFormat.of().formatHex(
                        MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return files;
    }

    /**
     * A copy of {@code bert} in {@code into} whose stored weights all fit FP16 but whose first attention values come out
     * about 96,000: the attention output projection's input is finite in FP32 (the LayerNorm after it brings values
     * back) and beyond FP16, so a w8a8
     * variant's activation scale cannot hold it and it fails to build after the fp32 variants were written.
     */
    static Path withHugeActivations(Path bert, Path into) throws Exception {
        Files.createDirectories(into);
        try (Stream<Path> files = Files.list(bert)) {
            for (Path f : files.toList()) {
                Files.copy(f, into.resolve(f.getFileName().toString()));
            }
        }
        Path st = into.resolve("model.safetensors");
        io.aneforge.testsupport.models.RawSafetensors rewritten = new io.aneforge.testsupport.models.RawSafetensors();
        try (io.aneforge.safetensors.SafetensorsFile f = io.aneforge.safetensors.SafetensorsFile.open(st)) {
            for (io.aneforge.safetensors.TensorInfo t : f.tensors()) {
                float[] v = f.readFloat(t.name()).data();
                if (t.name().equals("embeddings.LayerNorm.bias")) {
                    java.util.Arrays.fill(v, 1000f); // every hidden value about 1000
                } else if (t.name().equals("encoder.layer.0.attention.self.value.weight")) {
                    java.util.Arrays.fill(v, 3f); // values about 32 * 1000 * 3
                }
                rewritten.f32(t.name(), v, t.shape());
            }
        }
        rewritten.write(st);
        return into;
    }

    static Path copyOf(Path model, String name) throws Exception {
        Path copy = dir.resolve(name);
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName().toString()));
            }
        }
        return copy;
    }

    static void expectUsage(Cli c, String message) {
        assertThat(c.code()).as(c.toString()).isEqualTo(2);
        assertThat(c.err()).isEqualTo(message + "\n");
    }

    @Test
    void forceKeepsTheOutputWhenTheRunIsRefused() throws Exception {
        Path out = dir.resolve("kept");
        Cli first = convert(bert, out);
        assertThat(first.code()).as(first.toString()).isZero();
        Map<String, String> before = contents(out);
        assertThat(before).containsKeys("variants.json", "tokenizer.json", "ios16-ane-fp16-s8.mlpackage.zip");

        Path notAModel = Files.createDirectories(dir.resolve("not-a-model"));
        Cli badSource = convert(notAModel, out, "--force");
        assertThat(badSource.code()).as(badSource.toString()).isEqualTo(2);
        assertThat(badSource.err()).startsWith("aneforge convert: --source: ").contains("config.json");
        assertThat(contents(out)).isEqualTo(before);

        Cli tooLong = convert(bert, out, "--force", "--seq-len", "1000");
        assertThat(tooLong.code()).as(tooLong.toString()).isEqualTo(2);
        assertThat(tooLong.err()).contains("--seq-len 1000 exceeds the model's " + TinyModels.POSITIONS + " positions");
        assertThat(contents(out)).isEqualTo(before);

        Path pkg = dir.resolve("kept-single/y.mlpackage");
        Cli single = Cli.run("convert", "--source", bert.toString(), "--precision", "fp16", "--seq-len", "8", "--samples",
                "0", "--out", pkg.toString(), "--progress", "plain");
        assertThat(single.code()).as(single.toString()).isZero();
        Map<String, String> package1 = contents(pkg);
        Cli singleBad = Cli.run("convert", "--source", notAModel.toString(), "--precision", "fp16", "--seq-len", "8",
                "--samples", "0", "--out", pkg.toString(), "--force");
        assertThat(singleBad.code()).as(singleBad.toString()).isEqualTo(2);
        assertThat(contents(pkg)).isEqualTo(package1);
    }

    @Test
    void outputOverlappingTheSourceIsRefused() throws Exception {
        Path model = copyOf(bert, "own-model");
        Map<String, String> before = contents(model);
        String message = " overlaps --source " + model + " (the output would be written among, or replace, the model's "
                + "own files): choose an --out outside the model directory";
        expectUsage(convert(model, model, "--force"), "aneforge convert: --out " + model + message);
        expectUsage(convert(model, model.resolve("out"), "--force"), "aneforge convert: --out " + model.resolve("out")
                + message);
        expectUsage(Cli.run("convert", "--source", model.toString(), "--precision", "fp16", "--out",
                        model.resolve("x.mlpackage").toString()),
                "aneforge convert: --out " + model.resolve("x.mlpackage") + message);
        // the same directory spelled another way
        Path dotted = model.resolve("..").resolve(model.getFileName());
        expectUsage(convert(model, dotted, "--force"), "aneforge convert: --out " + dotted + message);
        // a single package that holds the model would be replaced with it by --force
        Path holder = dir.resolve("holder.mlpackage");
        Path inside = copyOf(bert, "holder.mlpackage/model");
        expectUsage(Cli.run("convert", "--source", inside.toString(), "--precision", "fp16", "--out", holder.toString(),
                "--force"), "aneforge convert: --out " + holder + message.replace(model.toString(), inside.toString()));
        assertThat(contents(model)).isEqualTo(before);
        assertThat(inside.resolve("tokenizer.json")).exists();
    }

    @Test
    void seqLenBelowTwoIsRefusedInEveryMode() throws Exception {
        String message = "--seq-len must be at least 2 (room for the tokenizer's two special tokens, [CLS] and [SEP] of "
                + "a BERT input), got 1: pass --seq-len 2 or more";
        expectUsage(convert(bert, dir.resolve("s1"), "--seq-len", "1"), "aneforge convert: " + message);
        assertThat(dir.resolve("s1")).doesNotExist();
        expectUsage(Cli.run("convert", "--source", bert.toString(), "--precision", "fp16", "--seq-len", "1", "--out",
                dir.resolve("s1.mlpackage").toString()), "aneforge convert: " + message);
        expectUsage(Cli.run("recipe", "--seq-len", "1"), "aneforge recipe: " + message);
        // 2 is enough for both tokenizers: a GPT-2 package at 2 tokens converts and predicts
        Path gpt2 = TinyModels.gpt2(dir.resolve("gpt2"), 4);
        Path pkg = dir.resolve("s2/g.mlpackage");
        Cli two = Cli.run("convert", "--source", gpt2.toString(), "--precision", "fp16", "--seq-len", "2", "--samples", "1",
                "--out", pkg.toString(), "--progress", "plain");
        assertThat(two.code()).as(two.toString()).isZero();
        Cli p = Cli.run("predict", "--package", pkg.toString(), "--text", "hi", "--source", gpt2.toString());
        assertThat(p.code()).as(p.toString()).isZero();
    }

    /**
     * RoBERTa's positions start at pad_token_id + 1: with 64 rows and pad_token_id 1 it takes 62 tokens. --seq-len 64
     * passed the up-front check and failed mid-run naming an internal variant.
     */
    @Test
    void robertaSeqLenIsCheckedUpFrontAgainstItsOffsetPositions() throws Exception {
        Path roberta = copyOf(bert, "tiny-roberta");
        String config = Files.readString(roberta.resolve("config.json"));
        String changed = config.replace("\"bert\"", "\"roberta\"").replace("BertModel", "RobertaModel")
                .replace("\"pad_token_id\": 0", "\"pad_token_id\": 1");
        assertThat(changed).contains("\"roberta\"", "RobertaModel", "\"pad_token_id\": 1");
        Files.writeString(roberta.resolve("config.json"), changed);
        String message = "exceeds the model's 62 positions (max_position_embeddings " + TinyModels.POSITIONS + " in"
                + " config.json, less the 2 before RoBERTa's first position, pad_token_id + 1): pass --seq-len 62 or less";
        expectUsage(convert(roberta, dir.resolve("roberta-64"), "--seq-len", String.valueOf(TinyModels.POSITIONS)),
                "aneforge convert: --seq-len " + TinyModels.POSITIONS + " " + message);
        expectUsage(Cli.run("convert", "--source", roberta.toString(), "--precision", "fp32", "--seq-len", "63",
                "--samples", "0", "--out", dir.resolve("roberta-63.mlpackage").toString()), "aneforge convert: --seq-len 63 "
                + message);
        assertThat(dir.resolve("roberta-64")).doesNotExist();
        Cli fits = Cli.run("convert", "--source", roberta.toString(), "--precision", "fp32", "--seq-len", "62",
                "--samples", "1", "--out", dir.resolve("roberta-62.mlpackage").toString(), "--progress", "plain");
        assertThat(fits.code()).as(fits.toString()).isZero();
    }

    /** A finite but huge weight makes the FP32 model itself overflow: the error says so, not "an FP16 variant". */
    @Test
    void aSourceThatOverflowsInFp32IsNotBlamedOnFp16() throws Exception {
        Path huge = copyOf(bert, "huge-weight");
        Path st = huge.resolve("model.safetensors");
        io.aneforge.testsupport.models.RawSafetensors rewritten = new io.aneforge.testsupport.models.RawSafetensors();
        try (io.aneforge.safetensors.SafetensorsFile f = io.aneforge.safetensors.SafetensorsFile.open(st)) {
            for (io.aneforge.safetensors.TensorInfo t : f.tensors()) {
                float[] v = f.readFloat(t.name()).data();
                if (t.name().equals("encoder.layer.0.attention.self.query.bias")
                        || t.name().equals("encoder.layer.0.attention.self.key.bias")) {
                    v[0] = 3e38f; // finite, but q·k is not
                }
                rewritten.f32(t.name(), v, t.shape());
            }
        }
        rewritten.write(st);
        Cli c = Cli.run("convert", "--source", huge.toString(), "--precision", "fp32", "--seq-len", "8", "--samples", "1",
                "--out", dir.resolve("huge.mlpackage").toString(), "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isEqualTo(1);
        assertThat(c.err()).startsWith("aneforge convert: fidelity: reference output (the unconverted model computed in"
                + " FP32) has a non-finite value (").contains("the source model itself overflows FP32 arithmetic")
                .doesNotContain("FP16");
        assertThat(dir.resolve("huge.mlpackage")).doesNotExist();
    }

    /** A variant that fails to build fails the run after others were written: none of them is left behind. */
    @Test
    void aFailedRunLeavesNoPartialOutput() throws Exception {
        Path failing = dir.resolve("failing.yaml");
        // fp32 variants compute the huge activations in FP32; the w8a8 one cannot scale them in FP16
        Files.writeString(failing, "variants:\n  - {chips: all, layout: ane, precision: fp32}\n"
                + "  - {chips: all, layout: standard, precision: fp32}\n  - {chips: w8a8, layout: ane, precision: w8a8}\n");
        Path huge = withHugeActivations(bert, dir.resolve("huge-activations"));
        Path fresh = dir.resolve("fresh/out");
        Cli c = Cli.run("convert", "--source", huge.toString(), "--out", fresh.toString(), "--chips", "M4", "--recipe",
                failing.toString(), "--seq-len", "8", "--samples", "1", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isEqualTo(1);
        assertThat(c.err()).startsWith("aneforge convert: cannot build variant m4-ios17-ane-w8a8-s8")
                .contains("beyond FP16's ±65504");
        assertThat(dir.resolve("fresh")).doesNotExist(); // the directories the run created go too

        Path out = dir.resolve("replaced");
        Cli good = convert(bert, out);
        assertThat(good.code()).as(good.toString()).isZero();
        Map<String, String> before = contents(out);
        Cli again = Cli.run("convert", "--source", huge.toString(), "--out", out.toString(), "--chips", "M4", "--recipe",
                failing.toString(), "--seq-len", "8", "--samples", "0", "--force", "--progress", "plain");
        assertThat(again.code()).as(again.toString()).isEqualTo(1);
        assertThat(contents(out)).isEqualTo(before); // no temporary directory either

        // a run whose source is refused does not create --out
        Path never = dir.resolve("never/out");
        assertThat(convert(dir.resolve("missing-model"), never).code()).isEqualTo(2);
        assertThat(dir.resolve("never")).doesNotExist();
    }

    @Test
    void forceReplacesOnlyOnceTheNewOutputIsComplete() throws Exception {
        Path out = dir.resolve("forced");
        assertThat(convert(bert, out).code()).isZero();
        Map<String, String> first = contents(out);
        Path other = TinyModels.bert(dir.resolve("other-bert"), 99);
        Cli c = convert(other, out, "--force");
        assertThat(c.code()).as(c.toString()).isZero();
        Map<String, String> second = contents(out);
        assertThat(second.keySet()).isEqualTo(first.keySet()); // same names, no temporary left
        assertThat(second.get("ios16-ane-fp16-s8.mlpackage.zip")).isNotEqualTo(first.get("ios16-ane-fp16-s8.mlpackage.zip"));
    }

    @Test
    void aTokenizerWithIdsBeyondTheModelsVocabularyIsRefused() throws Exception {
        Path mixed = copyOf(bert, "mixed-tokenizer");
        // the tiny GPT-2's byte-level vocabulary is larger than the tiny BERT's 90 rows
        Files.copy(TinyModels.gpt2(dir.resolve("gpt2-for-tokenizer"), 1).resolve("tokenizer.json"),
                mixed.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path out = dir.resolve("mixed-out");
        Cli c = convert(mixed, out);
        assertThat(c.code()).as(c.toString()).isEqualTo(2);
        assertThat(c.err()).matches("aneforge convert: --source: " + java.util.regex.Pattern.quote(
                mixed.resolve("tokenizer.json").toString()) + " has token ids up to \\d+, but the model embeds only ids "
                + "below 90 \\(vocab_size in config.json\\): use the tokenizer.json that belongs to these weights\n");
        assertThat(out).doesNotExist();

        // a post-processor special token beyond the vocabulary: the native tokenizer's check missed it, and with
        // --samples 0 (nothing tokenized) the unusable packages were written
        Path special = copyOf(bert, "special-beyond-vocab");
        String tokenizer = Files.readString(special.resolve("tokenizer.json"));
        assertThat(tokenizer).contains("\"ids\":[2]");
        Files.writeString(special.resolve("tokenizer.json"), tokenizer.replace("\"ids\":[2]", "\"ids\":[5000]"));
        Path specialOut = dir.resolve("special-out");
        expectUsage(convert(special, specialOut), "aneforge convert: --source: " + special.resolve("tokenizer.json")
                + " has token ids up to 5000, but the model embeds only ids below 90 (vocab_size in config.json): use the"
                + " tokenizer.json that belongs to these weights");
        assertThat(specialOut).doesNotExist();
    }

    /** A source that is not a usable model is a usage error (2) whatever is wrong with it, before anything is written. */
    @Test
    void everyBadSourceIsAUsageError() throws Exception {
        Map<String, String> configs = new TreeMap<>(Map.of(
                "invalid-json", "{",
                "unsupported-type", "{\"model_type\": \"llama\", \"architectures\": [\"LlamaModel\"]}",
                "no-type", "{\"architectures\": [\"BertModel\"], \"vocab_size\": 90}"));
        String config = Files.readString(bert.resolve("config.json"));
        configs.put("heads", config.replaceFirst("\"num_attention_heads\"\\s*:\\s*4", "\"num_attention_heads\": 5"));
        assertThat(configs.get("heads")).isNotEqualTo(config);
        // keys whose value changes the function and is not implemented: these converted and computed another function
        Map<String, String> named = Map.of(
                "decoder", "config field 'is_decoder' = true is not supported",
                "relative-positions", "config field 'position_embedding_type' = \"relative_key\" is not supported: only"
                        + " \"absolute\"",
                "silu", "config field 'hidden_act' = \"silu\" is not supported (supported: gelu,");
        configs.put("decoder", config.replace("\"pad_token_id\"", "\"is_decoder\": true, \"pad_token_id\""));
        configs.put("relative-positions", config.replace("\"pad_token_id\"",
                "\"position_embedding_type\": \"relative_key\", \"pad_token_id\""));
        configs.put("silu", config.replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"silu\""));
        named.keySet().forEach(k -> assertThat(configs.get(k)).as(k).isNotEqualTo(config));
        for (Map.Entry<String, String> e : configs.entrySet()) {
            Path model = copyOf(bert, "bad-" + e.getKey());
            Files.writeString(model.resolve("config.json"), e.getValue());
            Cli c = convert(model, dir.resolve("bad-out-" + e.getKey()));
            assertThat(c.code()).as(e.getKey() + ": " + c).isEqualTo(2);
            assertThat(c.err()).as(e.getKey()).startsWith("aneforge convert: --source: " + model.resolve("config.json") + ": ")
                    .endsWith(": fix the model files or pass another --source\n");
            assertThat(c.err().lines()).hasSize(1);
            if (named.containsKey(e.getKey())) {
                assertThat(c.err()).as(e.getKey()).contains(named.get(e.getKey()));
            }
            assertThat(dir.resolve("bad-out-" + e.getKey())).doesNotExist();
        }
        Path truncated = copyOf(bert, "bad-weights");
        byte[] weights = Files.readAllBytes(truncated.resolve("model.safetensors"));
        Files.write(truncated.resolve("model.safetensors"), java.util.Arrays.copyOf(weights, 100));
        Cli c = convert(truncated, dir.resolve("bad-out-weights"));
        assertThat(c.code()).as(c.toString()).isEqualTo(2);
        assertThat(c.err()).startsWith("aneforge convert: --source: " + truncated.resolve("model.safetensors") + ": ");

        // a shard index that is not UTF-8 is a bad model file like config.json (it was exit 1, "the file is not UTF-8
        // text", naming no file)
        Path latin1Index = copyOf(bert, "bad-index");
        Files.delete(latin1Index.resolve("model.safetensors"));
        Files.write(latin1Index.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"caf\u00e9\": \"a.safetensors\"}}"
                .getBytes(StandardCharsets.ISO_8859_1));
        expectUsage(convert(latin1Index, dir.resolve("bad-out-index")), "aneforge convert: --source: "
                + latin1Index.resolve("model.safetensors.index.json") + ": model.safetensors.index.json is not valid UTF-8:"
                + " save it as UTF-8 JSON: fix the model files or pass another --source");
    }

    @Test
    void emptyOutAndOutUnderAFileAreRefused() throws Exception {
        expectUsage(Cli.run("convert", "--source", bert.toString(), "--out", ""),
                "aneforge convert: --out is empty: pass an output directory (or an .mlpackage path for one variant)");
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        expectUsage(convert(bert, file.resolve("out")), "aneforge convert: --out " + file.resolve("out") + ": " + file
                + " is a file, not a directory: choose another --out");
        expectUsage(Cli.run("convert", "--source", bert.toString(), "--precision", "fp16", "--out",
                file.resolve("x.mlpackage").toString()), "aneforge convert: --out " + file.resolve("x.mlpackage") + ": "
                + file + " is a file, not a directory: choose another --out");
    }

    /** `--chips ,` split into no chips at all and converted for every chip; an empty entry is refused like `--chips ""`. */
    @Test
    void anEmptyChipEntryIsRefusedEverywhere() {
        String refusal = "has an empty entry: pass chip ids separated by commas, e.g. --chips A17_PRO,M4 (leave --chips "
                + "out for every chip), from [A14, A15, A16, A17_PRO, A18, A18_PRO, M1, M2, M3, M4]";
        for (String chips : List.of(",", "A17_PRO,", ",M4", "A17_PRO,,M4", " ")) {
            Path out = dir.resolve("chips-" + chips.hashCode());
            expectUsage(Cli.run("convert", "--source", bert.toString(), "--chips", chips, "--seq-len", "8", "--samples",
                    "0", "--out", out.toString()), "aneforge convert: --chips '" + chips + "' " + refusal);
            assertThat(out).doesNotExist();
            expectUsage(Cli.run("recipe", "--chips", chips), "aneforge recipe: --chips '" + chips + "' " + refusal);
        }
        expectUsage(Cli.run("publish", "--model", "m", "--source", "hf:org/name", "--chips", ","),
                "aneforge publish: --chips ',' " + refusal);
    }

    /** A recipe run spreads its files over --out: the filesystem root and the home directory are refused. */
    @Test
    void theRootAndTheHomeDirectoryAreRefusedAsOut() throws Exception {
        String tail = ": a recipe run writes its packages, variants.json and tokenizer.json straight into --out; pass a "
                + "directory of their own, e.g. --out ./variants";
        expectUsage(convert(bert, Path.of("/"), "--force"), "aneforge convert: --out / is the filesystem root" + tail);
        Path home = Path.of(System.getProperty("user.home"));
        expectUsage(convert(bert, home, "--force"), "aneforge convert: --out " + home + " is your home directory" + tail);
        // a directory of its own inside them is fine (checked by every other test); so is a non-empty one
        Path busy = Files.createDirectories(dir.resolve("busy"));
        Files.writeString(busy.resolve("notes.txt"), "mine");
        Cli c = convert(bert, busy);
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(busy.resolve("notes.txt")).hasContent("mine");
        assertThat(busy.resolve("variants.json")).exists();
    }

    /** Chip ids are case-insensitive in both modes, like --precision and --target; unknown ones get the same words. */
    @Test
    void chipIdsAreCaseInsensitiveInBothModes() throws Exception {
        Path pkg = dir.resolve("lower/x.mlpackage");
        Cli one = Cli.run("convert", "--source", bert.toString(), "--precision", "fp16", "--chips", "a17_pro", "--seq-len",
                "8", "--samples", "0", "--out", pkg.toString(), "--progress", "plain");
        assertThat(one.code()).as(one.toString()).isZero();
        assertThat(one.out()).contains("(a17_pro-ios16-ane-fp16-s8;");
        Cli many = Cli.run("convert", "--source", bert.toString(), "--chips", "m4", "--recipe", recipe.toString(),
                "--seq-len", "8", "--samples", "0", "--out", dir.resolve("lower-recipe").toString(), "--progress", "plain");
        assertThat(many.code()).as(many.toString()).isZero();
        assertThat(dir.resolve("lower-recipe/ios16-ane-fp16-s8.mlpackage")).isDirectory();
        Cli plan = Cli.run("recipe", "--chips", "m4");
        assertThat(plan.code()).as(plan.toString()).isZero();
        String unknown = "unknown chip 'M9': use catalog ids [A14, A15, A16, A17_PRO, A18, A18_PRO, M1, M2, M3, M4]";
        expectUsage(Cli.run("convert", "--source", bert.toString(), "--precision", "fp16", "--chips", "M9", "--out",
                dir.resolve("m9.mlpackage").toString()), "aneforge convert: " + unknown);
        expectUsage(convert(bert, dir.resolve("m9"), "--chips", "M9"), "aneforge convert: " + unknown);
    }

    @Test
    void singleModeGateFailureNamesThePackageNotVariantsJson() throws Exception {
        Path pkg = dir.resolve("gated/x.mlpackage");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--precision", "int4-block32", "--seq-len", "8",
                "--samples", "1", "--min-cosine", "1.0", "--out", pkg.toString(), "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isEqualTo(1);
        assertThat(c.err()).matches("aneforge convert: 1 variant\\(s\\) below --min-cosine 1.0: a17_pro-ios18-ane-int4-block32-s8 "
                + "\\(0\\.\\d{6}\\); the package is written, see its numbers above\n");
        assertThat(pkg).isDirectory();
        assertThat(pkg.resolveSibling("variants.json")).doesNotExist();
    }

    /** I/O errors read as a problem and a fix, on one line, never as a bare path or "Input length = 1". */
    @Test
    void ioErrorsSayWhatIsWrong() throws Exception {
        Path binary = dir.resolve("binary.txt");
        Files.write(binary, new byte[] {'a', (byte) 0xff, (byte) 0xfe, '\n'});
        expectUsage(Cli.run("convert", "--source", bert.toString(), "--precision", "int4-block32-gptq", "--calibration",
                binary.toString(), "--out", dir.resolve("never-binary.mlpackage").toString()),
                "aneforge convert: --calibration: cannot read " + binary + ": it is not UTF-8 text: save it as UTF-8");
        Path latin1 = dir.resolve("latin1.yaml");
        Files.write(latin1, "variants:\n  - {chips: all, layout: ane, precision: fp16} # caf\u00e9\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        expectUsage(convert(bert, dir.resolve("never-latin1"), "--recipe", latin1.toString()),
                "aneforge convert: cannot read recipe file " + latin1 + ": it is not UTF-8 text: save it as UTF-8");

        Path out = dir.resolve("io");
        assertThat(convert(bert, out).code()).isZero();
        Path pkg = out.resolve("ios16-ane-fp16-s8.mlpackage");
        Path noModel = dir.resolve("no-model.mlpackage");
        copyTree(pkg, noModel);
        Files.delete(noModel.resolve("Data/com.apple.CoreML/model.mlmodel"));
        Cli missing = Cli.run("eval", "--package", noModel.toString(), "--source", bert.toString(), "--samples", "1");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("aneforge eval: " + noModel + " is not a complete .mlpackage: "
                + Path.of("Data/com.apple.CoreML/model.mlmodel") + " is missing (convert it again)\n");
        Path corrupt = dir.resolve("corrupt.mlpackage");
        copyTree(pkg, corrupt);
        Files.writeString(corrupt.resolve("Manifest.json"), "{\"fileFormatVersion\": ");
        Cli bad = Cli.run("predict", "--package", corrupt.toString(), "--text", "hi", "--tokenizer",
                bert.resolve("tokenizer.json").toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err().lines()).as(bad.err()).hasSize(1);
        assertThat(bad.err()).startsWith("aneforge predict: " + corrupt.resolve("Manifest.json") + " is not valid JSON: ")
                .doesNotContain("REDACTED");
    }

    /** Whatever an exception's message holds, the error is one line. */
    @Test
    void errorMessagesAreOneLine() {
        assertThat(AneForge.message(new CommandFailure("x.json is not valid JSON: Unexpected end\n at [Source: REDACTED; "
                + "line: 1]\r\n"))).isEqualTo("x.json is not valid JSON: Unexpected end at [Source: REDACTED; line: 1]");
        assertThat(AneForge.message(new IllegalStateException("a\nb"))).doesNotContain("\n");
    }

    static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    /**
     * Entries that differ only in how their chunk is written (omitted vs 512 above 512 tokens) are one variant: exit 2
     * naming both, before anything is written (it used to fail late: "package directory ... is not empty").
     */
    @Test
    void aDuplicateByTheEffectiveChunkIsAUsageError() throws Exception {
        Path dup = dir.resolve("dupchunk.yaml");
        Files.writeString(dup, """
                variants:
                  - chips: [M4]
                    layout: ane
                    precision: fp16
                  - chips: [M4]
                    layout: ane
                    precision: fp16
                    attentionChunk: 512
                """);
        Path out = dir.resolve("dup-out");
        expectUsage(convert(bert, out, "--recipe", dup.toString(), "--seq-len", "1024"), "aneforge convert: " + dup
                + " line 5 (variants[1]): duplicate variant at sequence length 1024: m4-ios16-ane-fp16-s1024-c512 is already built by "
                + dup + " line 2 (variants[0]) (without attentionChunk an ane entry chunks by 512 above 512 tokens and not at all up"
                + " to it): remove one entry or give them different attentionChunk values");
        assertThat(out).doesNotExist();
    }

    @Test
    void attentionChunksUnder64AreUsageErrors() throws Exception {
        Path seven = dir.resolve("chunk7.yaml");
        Files.writeString(seven, "variants:\n  - {chips: [M4], layout: ane, precision: fp16, attentionChunk: 7}\n");
        Path out = dir.resolve("chunk-out");
        expectUsage(convert(bert, out, "--recipe", seven.toString()), "aneforge convert: " + seven + " line 2"
                + " (variants[0].attentionChunk): attentionChunk must be 0 (no chunking) or an integer in 64..8192, got 7: smaller"
                + " chunks multiply the graph's ops by seqLen / chunk and save almost no memory");
        expectUsage(Cli.run("convert", "--source", bert.toString(), "--precision", "fp16", "--seq-len", "16", "--attention-chunk",
                        "1", "--out", out.resolve("x.mlpackage").toString()),
                "aneforge convert: cannot build this variant: attention chunk must be 0 (none) or at least 64, got 1: smaller chunks"
                        + " multiply the graph's ops by seqLen / chunk and save almost no memory");
        assertThat(out).doesNotExist();
    }
}
