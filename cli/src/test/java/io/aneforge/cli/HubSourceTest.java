package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.testsupport.hub.FakeHub;
import io.aneforge.testsupport.models.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --source hf:org/name@rev} through a Hub-mimicking server: pinned commit recorded, errors mapped. */
class HubSourceTest {

    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    Path dir;


    @Test
    void convertsAHubModelPinnedToItsCommit() throws Exception {
        Path bert = TinyModels.bert(dir.resolve("bert"), 4);
        Map<String, byte[]> files = repoFiles(bert);
        try (FakeHub hub = FakeHub.start()) {
            hub.repo("acme/tiny-bert").commit(COMMIT, "main", files);
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HOME", dir.resolve("hf").toString());
            Path out = dir.resolve("out");
            Cli c = Cli.run(env, "convert", "--source", "hf:acme/tiny-bert@main", "--out", out.toString(), "--chips", "M1",
                    "--seq-len", "8", "--samples", "1", "--progress", "plain");
            assertThat(c.code()).as(c.toString()).isZero();
            VariantsManifest m = VariantsManifest.read(out.resolve("variants.json"));
            assertThat(m.model().source()).isEqualTo("hf:acme/tiny-bert@main");
            assertThat(m.model().commit()).isEqualTo(COMMIT);
            assertThat(m.variants()).hasSize(3);

            Cli missing = Cli.run(env, "convert", "--source", "hf:acme/absent", "--out", dir.resolve("o2").toString(),
                    "--chips", "M1", "--seq-len", "8", "--samples", "1");
            assertThat(missing.code()).as(missing.toString()).isEqualTo(1);
            assertThat(missing.err()).startsWith("aneforge convert: cannot fetch model source 'hf:acme/absent': ");
            assertThat(missing.err().lines().count()).isEqualTo(1);

            Cli bad = Cli.run(env, "convert", "--source", "hf:no-slash", "--out", dir.resolve("o3").toString());
            assertThat(bad.code()).isEqualTo(2);
            assertThat(bad.err()).isEqualTo("aneforge convert: --source: invalid model source 'hf:no-slash': invalid "
                    + "repo id 'no-slash': expected org/name (letters, digits, '.', '_', '-'; no '--' or '..'; each part "
                    + "starting with a letter or digit and at most 96 characters)\n");

            // a revision names a file under the cache's refs/: an absolute one wrote the commit outside the cache
            Path outside = dir.resolve("outside-the-cache");
            Cli escape = Cli.run(env, "convert", "--source", "hf:acme/tiny-bert@" + outside, "--out",
                    dir.resolve("o4").toString(), "--chips", "M1", "--seq-len", "8", "--samples", "0");
            assertThat(escape.code()).as(escape.toString()).isEqualTo(2);
            assertThat(escape.err()).isEqualTo("aneforge convert: --source: invalid model source 'hf:acme/tiny-bert@"
                    + outside + "': invalid revision '" + outside + "': it starts or ends with '/' or has an empty "
                    + "component (expected a branch, a tag, refs/pr/N or a 40-hex commit)\n");
            assertThat(outside).doesNotExist();
            assertThat(dir.resolve("o4")).doesNotExist();
        }
    }

    /**
     * predict --source needs the tokenizer only: a Hub source's weights are not downloaded (they were, all of them,
     * to tokenize one text), and a local directory needs no weights.
     */
    @Test
    void predictFetchesOnlyTheTokenizerOfItsSource() throws Exception {
        Path bert = TinyModels.bert(dir.resolve("bert"), 4);
        Path pkg = dir.resolve("p/x.mlpackage");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--out", pkg.toString(), "--seq-len", "8", "--samples", "0",
                "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        Map<String, byte[]> files = repoFiles(bert);
        try (FakeHub hub = FakeHub.start()) {
            hub.repo("acme/tiny-bert").commit(COMMIT, "main", files);
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HOME", dir.resolve("hf").toString());
            Cli p = Cli.run(env, "predict", "--package", pkg.toString(), "--text", "hello", "--source", "hf:acme/tiny-bert");
            assertThat(p.code()).as(p.toString()).isZero();
            assertThat(hub.requests()).extracting(FakeHub.Request::path).anyMatch(path -> path.endsWith("/tokenizer.json"))
                    .noneMatch(path -> path.endsWith("/model.safetensors"));
        }
        Path tokenizerOnly = Files.createDirectories(dir.resolve("tokenizer-only"));
        Files.copy(bert.resolve("tokenizer.json"), tokenizerOnly.resolve("tokenizer.json"));
        Cli local = Cli.run("predict", "--package", pkg.toString(), "--text", "hello", "--source", tokenizerOnly.toString());
        assertThat(local.code()).as(local.toString()).isZero();
    }

    /** The files of a model directory as a Hub repository's files (name to bytes). */
    private static Map<String, byte[]> repoFiles(Path model) throws java.io.IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> s = Files.list(model)) {
            for (Path f : s.toList()) {
                files.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        return files;
    }
}
