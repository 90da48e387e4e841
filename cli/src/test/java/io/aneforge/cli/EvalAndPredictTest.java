package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.convert.Golden;
import io.aneforge.convert.Samples;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.testsupport.models.TinyTokenizers;
import io.aneforge.tokenizer.Tokenizer;
import java.util.Map;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class EvalAndPredictTest {

    @TempDir
    static Path dir;
    static Path bert;
    static Path fp16;
    static Path int4;

    @BeforeAll
    static void convert() throws Exception {
        bert = TinyModels.bert(dir.resolve("bert"), 5);
        Path out = dir.resolve("out");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--out", out.toString(), "--chips", "M4", "--recipe",
                write("r.yaml", "variants:\n  - {chips: all, layout: ane, precision: fp16}\n"
                        + "  - {chips: all, layout: standard, precision: int4-block32}\n"),
                "--seq-len", "12", "--samples", "1", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        fp16 = out.resolve("ios16-ane-fp16-s12.mlpackage");
        int4 = out.resolve("ios18-standard-int4-block32-s12.mlpackage");
    }

    static String write(String name, String text) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f.toString();
    }

    /** Positions whose attention mask is 1 over the first {@code samples} fixed sentences. */
    static int realTokens(int samples, int seqLen) throws Exception {
        try (Tokenizer tok = Tokenizer.load(bert.resolve("tokenizer.json"))) {
            int n = 0;
            for (Map<String, FloatTensor> in : Golden.inputs(tok, Samples.fixed().subList(0, samples), seqLen)) {
                for (float m : in.get("attention_mask").data()) {
                    n += (int) m;
                }
            }
            return n;
        }
    }

    @Test
    void evalPrintsFidelityAsJson() throws Exception {
        Cli c = Cli.run("eval", "--package", fp16.toString(), "--source", bert.toString(), "--samples", "4", "--json");
        assertThat(c.code()).as(c.toString()).isZero();
        JsonNode j = JsonMapper.shared().readTree(c.out());
        assertThat(j.get("variant").asString()).isEqualTo("ios16-ane-fp16-s12");
        assertThat(j.get("seqLen").asInt()).isEqualTo(12);
        assertThat(j.get("samples").asInt()).isEqualTo(4);
        assertThat(j.get("outputs").propertyNames()).containsExactly("last_hidden_state", "pooler_output");
        JsonNode h = j.get("outputs").get("last_hidden_state");
        // Fidelity covers the real tokens only (attention_mask = 1), not the padding positions.
        assertThat(h.get("positions").asInt()).isEqualTo(realTokens(4, 12));
        assertThat(h.get("hiddenSize").asInt()).isEqualTo(TinyModels.HIDDEN);
        assertThat(h.get("cosineMin").asDouble()).isGreaterThan(0.9999).isLessThanOrEqualTo(1.0);
        assertThat(j.get("worstCosine").asDouble()).isGreaterThan(0.9999);

        // INT4 is measurably worse than FP16 on the same samples.
        Cli q = Cli.run("eval", "--package", int4.toString(), "--source", bert.toString(), "--samples", "4", "--json");
        assertThat(q.code()).as(q.toString()).isZero();
        double int4Cos = JsonMapper.shared().readTree(q.out()).get("worstCosine").asDouble();
        assertThat(int4Cos).isLessThan(j.get("worstCosine").asDouble());

        Cli gate = Cli.run("eval", "--package", int4.toString(), "--source", bert.toString(), "--samples", "4",
                "--min-cosine", "0.99999999");
        assertThat(gate.code()).isEqualTo(1);
        assertThat(gate.out()).contains("last_hidden_state").contains("cosine mean");
        assertThat(gate.err()).matches("aneforge eval: worst cosine 0\\.\\d{6} is below --min-cosine 0\\.99999999\n");
    }

    @Test
    void evalErrors() {
        Cli missing = Cli.run("eval", "--package", dir.resolve("nope.mlpackage").toString(), "--source", bert.toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).isEqualTo("aneforge eval: package " + dir.resolve("nope.mlpackage")
                + " does not exist or is not a directory: pass the .mlpackage directory written by convert\n");
        Cli notPackage = Cli.run("eval", "--package", bert.toString(), "--source", bert.toString());
        assertThat(notPackage.code()).isEqualTo(1);
        assertThat(notPackage.err()).isEqualTo("aneforge eval: " + bert + " is not an .mlpackage: Manifest.json is missing\n");
    }

    /** The same check as convert's: a cosine similarity is in [-1, 1]. */
    @Test
    void evalRefusesAMinCosineOutsideMinusOneToOne() {
        for (String c : new String[] {"5", "NaN", "-1.5"}) {
            Cli e = Cli.run("eval", "--package", fp16.toString(), "--source", bert.toString(), "--min-cosine", c);
            assertThat(e.code()).as(e.toString()).isEqualTo(2);
            assertThat(e.err()).isEqualTo("aneforge eval: --min-cosine must be in [-1, 1] (a cosine similarity), got "
                    + Double.parseDouble(c) + "\n");
            assertThat(e.out()).isEmpty();
        }
    }

    @Test
    void predictPrintsShapesAndFirstValues() throws Exception {
        Cli c = Cli.run("predict", "--package", fp16.toString(), "--text", "hello world", "--values", "3");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).containsPattern("\\d+ tokens \\(padded to 12\\), engine \\S+")
                .containsPattern("last_hidden_state  shape \\(1, 12, " + TinyModels.HIDDEN + "\\)  first 3: -?\\d+\\.\\d{6}, "
                        + "-?\\d+\\.\\d{6}, -?\\d+\\.\\d{6}\n")
                .containsPattern("pooler_output  shape \\(1, " + TinyModels.HIDDEN + "\\)  first 3: ");

        Cli j = Cli.run("predict", "--package", fp16.toString(), "--text", "hello world", "--json", "--tokenizer",
                bert.resolve("tokenizer.json").toString());
        assertThat(j.code()).as(j.toString()).isZero();
        JsonNode n = JsonMapper.shared().readTree(j.out());
        assertThat(n.get("outputs").get("last_hidden_state").get("shape").toString()).isEqualTo("[1,12," + TinyModels.HIDDEN + "]");
        assertThat(n.get("outputs").get("last_hidden_state").get("first").size()).isEqualTo(8);
        assertThat(n.get("tokens").asInt()).isBetween(3, 12);

        // The same text through the INT4 package gives different but close numbers.
        Cli q = Cli.run("predict", "--package", int4.toString(), "--text", "hello world", "--json");
        JsonNode m = JsonMapper.shared().readTree(q.out());
        assertThat(m.get("outputs").get("last_hidden_state").get("first"))
                .isNotEqualTo(n.get("outputs").get("last_hidden_state").get("first"));
    }

    /** A text longer than the package's sequence length: predict says how many tokens it cut off. */
    @Test
    void predictSaysHowManyTokensItCutOff() throws Exception {
        String text = "hello world ".repeat(10).strip(); // 20 words, [CLS] and [SEP]: more than 12
        int all;
        try (Tokenizer tok = Tokenizer.load(bert.resolve("tokenizer.json"))) {
            all = tok.encode(text, 100).length();
        }
        assertThat(all).isGreaterThan(12);
        Cli c = Cli.run("predict", "--package", fp16.toString(), "--text", text);
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).startsWith("12 tokens (the text has " + all + ": the last " + (all - 12)
                + " cut off at the package's sequence length 12), engine ");
        Cli j = Cli.run("predict", "--package", fp16.toString(), "--text", text, "--json");
        JsonNode n = JsonMapper.shared().readTree(j.out());
        assertThat(n.get("tokens").asInt()).isEqualTo(12);
        assertThat(n.get("truncatedTokens").asInt()).isEqualTo(all - 12);
        Cli shortText = Cli.run("predict", "--package", fp16.toString(), "--text", "hi", "--json");
        assertThat(JsonMapper.shared().readTree(shortText.out()).get("truncatedTokens").asInt()).isZero();
    }

    /** GPT-2 adds no special tokens: an empty text would be a fully masked input, so it is refused. */
    @Test
    void predictRefusesATextWithoutTokens() throws Exception {
        Path gpt2 = TinyModels.gpt2(dir.resolve("gpt2"), 2);
        Path pkg = dir.resolve("gpt2-out/g.mlpackage");
        Cli c = Cli.run("convert", "--source", gpt2.toString(), "--precision", "fp16", "--seq-len", "8", "--samples", "0",
                "--out", pkg.toString(), "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        Cli empty = Cli.run("predict", "--package", pkg.toString(), "--text", "", "--source", gpt2.toString());
        assertThat(empty.code()).as(empty.toString()).isEqualTo(2);
        assertThat(empty.err()).isEqualTo("aneforge predict: --text \"\" gives no tokens with " + gpt2.resolve("tokenizer.json")
                + " (a GPT-2 tokenizer adds no special tokens), so every position would be masked: pass some text\n");
        assertThat(Cli.run("predict", "--package", pkg.toString(), "--text", "hi", "--source", gpt2.toString()).code())
                .isZero();
        // BERT's [CLS] and [SEP] make an empty text two tokens
        Cli bertEmpty = Cli.run("predict", "--package", fp16.toString(), "--text", "");
        assertThat(bertEmpty.code()).as(bertEmpty.toString()).isZero();
        assertThat(bertEmpty.out()).startsWith("2 tokens (padded to 12)");
    }

    @Test
    void predictTokenizerOptionErrorsSayWhatIsWrong() throws Exception {
        Cli directory = Cli.run("predict", "--package", fp16.toString(), "--text", "hi", "--tokenizer", bert.toString());
        assertThat(directory.code()).isEqualTo(2);
        assertThat(directory.err()).isEqualTo("aneforge predict: --tokenizer " + bert + " is a directory: pass the "
                + "tokenizer.json file (e.g. " + bert.resolve("tokenizer.json") + ")\n");
        Path broken = Files.writeString(dir.resolve("broken-tokenizer.json"), "{\"model\": 42}");
        Cli bad = Cli.run("predict", "--package", fp16.toString(), "--text", "hi", "--tokenizer", broken.toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("aneforge predict: cannot load " + broken + ": no 'model' with a 'vocab' object: "
                + "pass the tokenizer.json of the package's model (--tokenizer or --source)\n");
        Cli help = Cli.run("predict", "--help");
        assertThat(help.out()).containsPattern("--package=<x\\.mlpackage>\\s+The package to run");
    }

    @Test
    void predictNeedsATokenizer() throws Exception {
        Path lonely = dir.resolve("lonely/x.mlpackage");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--precision", "fp16", "--seq-len", "8", "--samples", "1",
                "--out", lonely.toString(), "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        Cli p = Cli.run("predict", "--package", lonely.toString(), "--text", "hi");
        assertThat(p.code()).isEqualTo(2);
        assertThat(p.err()).isEqualTo("aneforge predict: no tokenizer.json next to " + lonely
                + ": pass --tokenizer <tokenizer.json> or --source <model>\n");
        Cli ok = Cli.run("predict", "--package", lonely.toString(), "--text", "hi", "--source", bert.toString());
        assertThat(ok.code()).as(ok.toString()).isZero();
    }

    /**
     * A tokenizer or --source of another model is refused before anything runs, naming the mismatch and the fix
     * (it stopped at the runtime's gather with exit 1: "index 101 is out of range for axis size 90").
     */
    @Test
    void aTokenizerOrSourceOfAnotherModelIsRefused() throws Exception {
        int vocab = TinyTokenizers.wordPieceVocab().size();
        Path gpt2 = TinyModels.gpt2(dir.resolve("other-gpt2"), 3);
        Path gptTokenizer = gpt2.resolve("tokenizer.json");
        int maxId;
        try (Tokenizer t = Tokenizer.load(gptTokenizer)) {
            maxId = t.maxTokenId();
        }
        assertThat(maxId).isGreaterThanOrEqualTo(vocab);
        Cli p = Cli.run("predict", "--package", fp16.toString(), "--text", "hello", "--tokenizer", gptTokenizer.toString());
        assertThat(p.code()).as(p.toString()).isEqualTo(2);
        assertThat(p.err()).isEqualTo("aneforge predict: " + gptTokenizer + " has token ids up to " + maxId + ", but " + fp16
                + " embeds only ids below " + vocab + " (it is the tokenizer of another model): pass the tokenizer.json "
                + "of the package's model (--tokenizer or --source)\n");
        Cli bySource = Cli.run("predict", "--package", fp16.toString(), "--text", "hello", "--source", gpt2.toString());
        assertThat(bySource.code()).as(bySource.toString()).isEqualTo(2);
        assertThat(bySource.err()).contains("embeds only ids below " + vocab);

        Cli e = Cli.run("eval", "--package", fp16.toString(), "--source", gpt2.toString(), "--samples", "1");
        assertThat(e.code()).as(e.toString()).isEqualTo(2);
        assertThat(e.err()).isEqualTo("aneforge eval: " + fp16 + " embeds " + vocab + " token ids, but the model of --source "
                + gpt2 + " has " + TinyTokenizers.byteLevelVocabSize() + " (vocab_size in config.json), so it was not "
                + "converted from it: pass the --source the package was converted from\n");

        // the same vocabulary with fewer positions: the BERT weights read as RoBERTa lose the first pad_token_id + 1
        Path roberta = Files.createDirectories(dir.resolve("roberta-reading"));
        Files.copy(bert.resolve("model.safetensors"), roberta.resolve("model.safetensors"));
        Files.copy(bert.resolve("tokenizer.json"), roberta.resolve("tokenizer.json"));
        Files.writeString(roberta.resolve("config.json"), Files.readString(bert.resolve("config.json"))
                .replace("\"bert\"", "\"roberta\"").replace("BertModel", "RobertaModel"));
        Path full = dir.resolve("full-length/x.mlpackage");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--seq-len", String.valueOf(TinyModels.POSITIONS),
                "--samples", "0", "--out", full.toString(), "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        Cli shorter = Cli.run("eval", "--package", full.toString(), "--source", roberta.toString(), "--samples", "1");
        assertThat(shorter.code()).as(shorter.toString()).isEqualTo(2);
        assertThat(shorter.err()).isEqualTo("aneforge eval: " + full + " takes " + TinyModels.POSITIONS + " tokens, but the "
                + "model of --source " + roberta + " has only " + (TinyModels.POSITIONS - 1) + " positions "
                + "(max_position_embeddings in config.json), so it was not converted from it: pass the --source the "
                + "package was converted from\n");
    }

    /**
     * A wrong --package is reported as such, not as a missing tokenizer (predict looked for the tokenizer first, so a
     * misspelt package said "no tokenizer.json next to ..."), and a recipe run's --out names one of its packages.
     */
    @Test
    void predictReportsAWrongPackageBeforeTheTokenizer() {
        Path misspelt = dir.resolve("elsewhere/m4-ios16-ane-fp16-s21.mlpackage");
        Cli missing = Cli.run("predict", "--package", misspelt.toString(), "--text", "hi");
        assertThat(missing.code()).as(missing.toString()).isEqualTo(2);
        assertThat(missing.err()).isEqualTo("aneforge predict: package " + misspelt + " does not exist or is not a "
                + "directory: pass the .mlpackage directory written by convert\n");
        Path runOut = fp16.getParent();
        for (String command : new String[] {"predict", "eval"}) {
            Cli c = command.equals("predict") ? Cli.run("predict", "--package", runOut.toString(), "--text", "hi")
                    : Cli.run("eval", "--package", runOut.toString(), "--source", bert.toString());
            assertThat(c.code()).as(c.toString()).isEqualTo(2);
            assertThat(c.err()).isEqualTo("aneforge " + command + ": " + runOut + " is a directory of 2 packages, not a "
                    + "package: pass one of them, e.g. --package " + runOut.resolve("ios16-ane-fp16-s12.mlpackage") + "\n");
        }
    }

    /**
     * --pool mean --normalize gives the embedding sentence-transformers' encode() returns for all-MiniLM-L6-v2: the mean
     * of the real tokens' last_hidden_state rows, at unit length; --pool cls the first row. predict printed only the
     * raw rows, so the pooled vector could not be compared.
     */
    @Test
    void predictPoolsTheSentenceEmbedding() throws Exception {
        int h = TinyModels.HIDDEN;
        Cli raw = Cli.run("predict", "--package", fp16.toString(), "--text", "hello world", "--json", "--values",
                String.valueOf(12 * h));
        assertThat(raw.code()).as(raw.toString()).isZero();
        JsonNode r = JsonMapper.shared().readTree(raw.out());
        int tokens = r.get("tokens").asInt();
        JsonNode hidden = r.get("outputs").get("last_hidden_state").get("first");
        double[] mean = new double[h];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < h; i++) {
                mean[i] += hidden.get(t * h + i).asDouble() / tokens;
            }
        }
        double norm = Math.sqrt(java.util.Arrays.stream(mean).map(v -> v * v).sum());

        Cli pooled = Cli.run("predict", "--package", fp16.toString(), "--text", "hello world", "--json", "--values",
                String.valueOf(h), "--pool", "mean", "--normalize");
        assertThat(pooled.code()).as(pooled.toString()).isZero();
        JsonNode e = JsonMapper.shared().readTree(pooled.out()).get("outputs").get("sentence_embedding");
        assertThat(e.get("shape").toString()).isEqualTo("[1," + h + "]");
        double length = 0;
        for (int i = 0; i < h; i++) {
            double v = e.get("first").get(i).asDouble();
            assertThat(v).as("element " + i).isCloseTo(mean[i] / norm, org.assertj.core.api.Assertions.within(1e-6));
            length += v * v;
        }
        assertThat(length).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-5));

        Cli cls = Cli.run("predict", "--package", fp16.toString(), "--text", "hello world", "--json", "--values",
                String.valueOf(h), "--pool", "cls");
        JsonNode first = JsonMapper.shared().readTree(cls.out()).get("outputs").get("sentence_embedding").get("first");
        for (int i = 0; i < h; i++) {
            assertThat(first.get(i).floatValue()).isEqualTo(hidden.get(i).floatValue());
        }
        Cli text = Cli.run("predict", "--package", fp16.toString(), "--text", "hello world", "--pool", "mean");
        assertThat(text.out()).containsPattern("sentence_embedding  shape \\(1, " + h + "\\)  first 8: ");

        Cli alone = Cli.run("predict", "--package", fp16.toString(), "--text", "hi", "--normalize");
        assertThat(alone.code()).isEqualTo(2);
        assertThat(alone.err()).isEqualTo("aneforge predict: --normalize normalizes the pooled embedding: add --pool mean "
                + "(or cls)\n");
        Cli max = Cli.run("predict", "--package", fp16.toString(), "--text", "hi", "--pool", "max");
        assertThat(max.code()).isEqualTo(2);
        assertThat(max.err()).isEqualTo("aneforge predict: --pool must be mean or cls, got 'max'\n");
    }
}
