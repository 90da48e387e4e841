package io.aneforge.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.hub.HttpHubClient;
import io.aneforge.hub.HubConfig;
import io.aneforge.hub.RepoInfo;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.testsupport.hub.FakeHub;
import io.aneforge.testsupport.models.RawSafetensors;
import io.aneforge.testsupport.models.TinyModels;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSourceTest {
    static final String COMMIT = "89abcdef0123456789abcdef0123456789abcdef";

    @TempDir
    Path tmp;

    @Test
    void parsesHubSourcesAndRejectsMalformedOnes() throws Exception {
        assertThat(ModelSource.parseHubSource("hf:sentence-transformers/all-MiniLM-L6-v2"))
                .isEqualTo(new ModelSource.HubSource("sentence-transformers/all-MiniLM-L6-v2", "main"));
        assertThat(ModelSource.parseHubSource("hf:org/name@refs/pr/3").revision()).isEqualTo("refs/pr/3");
        for (String bad : new String[] {"hf:noslash", "hf:../etc/passwd", "hf:org/na me", "hf:a--b/c", "hf:org/name-",
                "hf:org/.x", "hf:org/a..b", "hf:/org/name"}) {
            assertThatThrownBy(() -> ModelSource.parseHubSource(bad)).as(bad).isInstanceOf(ModelSourceException.class)
                    .hasMessageStartingWith("invalid model source '" + bad + "': invalid repo id '");
        }
        assertThatThrownBy(() -> ModelSource.parseHubSource("org/name")).isInstanceOf(ModelSourceException.class)
                .hasMessageContaining("expected hf:org/name or hf:org/name@revision");
    }

    /**
     * A revision names a file under the Hub cache's {@code refs/}: only commits and git-valid branch and tag names
     * pass ({@code /tmp/x} used to be accepted and the commit written there).
     */
    @Test
    void revisionsFollowGitRefRules() throws Exception {
        for (String good : new String[] {"main", "v1.0", "refs/pr/3", "refs/convert/parquet", "release_2024-01",
                "0123456789abcdef0123456789abcdef01234567"}) {
            assertThat(ModelSource.parseHubSource("hf:org/name@" + good).revision()).isEqualTo(good);
        }
        Map<String, String> bad = new java.util.LinkedHashMap<>();
        bad.put("", "it is empty");
        bad.put("/tmp/pwned", "it starts or ends with '/' or has an empty component");
        bad.put("refs//pr", "it starts or ends with '/' or has an empty component");
        bad.put("main/", "it starts or ends with '/' or has an empty component");
        bad.put("../x", "it contains '..' or ends with '.'");
        bad.put("a/../../b", "it contains '..' or ends with '.'");
        bad.put("v1.", "it contains '..' or ends with '.'");
        bad.put(".hidden", "a component starts with '.' or ends with '.lock'");
        bad.put("refs/.x", "a component starts with '.' or ends with '.lock'");
        bad.put("main.lock", "a component starts with '.' or ends with '.lock'");
        bad.put("-x", "it starts with '-'");
        bad.put("a@b", "only letters, digits, '.', '_', '-' and '/' are allowed");
        bad.put("a b", "only letters, digits, '.', '_', '-' and '/' are allowed");
        bad.put("a\\b", "only letters, digits, '.', '_', '-' and '/' are allowed");
        bad.put("x".repeat(257), "it is longer than 256 characters");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            String source = "hf:org/name@" + e.getKey();
            assertThatThrownBy(() -> ModelSource.parseHubSource(source)).as(e.getKey())
                    .isInstanceOf(ModelSourceException.class)
                    .hasMessage("invalid model source '" + source + "': invalid revision '" + e.getKey() + "': "
                            + e.getValue() + " (expected a branch, a tag, refs/pr/N or a 40-hex commit)");
            assertThatThrownBy(() -> io.aneforge.hub.HubCache.checkRevision(e.getKey())).as(e.getKey())
                    .isInstanceOf(io.aneforge.hub.HubException.class);
        }
    }

    @Test
    void localDirectoryIsASnapshotWithoutCommit() throws Exception {
        Path dir = TinyModels.gpt2(tmp.resolve("gpt2"), 1);
        ModelSnapshot s = ModelSource.open(dir.toString(), null);
        assertThat(s.commitSha()).isEmpty();
        assertThat(s.format()).isEqualTo(WeightsFormat.SAFETENSORS);
        Files.delete(dir.resolve("tokenizer.json"));
        assertThatThrownBy(() -> ModelSource.open(dir.toString(), null)).hasMessageContaining("tokenizer.json is missing");
    }

    /**
     * Many Hub repos (older BERT fine-tunes above all) ship only a slow tokenizer's files: the refusal names them and
     * says how transformers writes tokenizer.json, locally and for a Hub repo (it said "export it with tokenizers'
     * save()", and nothing for a Hub repo).
     */
    @Test
    void aMissingTokenizerJsonSaysHowToWriteIt() throws Exception {
        Path dir = TinyModels.bert(tmp.resolve("slow-tokenizer"), 1);
        Files.delete(dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n[UNK]\n");
        assertThatThrownBy(() -> ModelSource.open(dir.toString(), null)).isInstanceOf(ModelSourceException.class)
                .hasMessage(dir + ": tokenizer.json is missing (there is only vocab.txt, a slow tokenizer's files): the "
                        + "converter reads the fast tokenizer's tokenizer.json; write it with transformers, "
                        + "AutoTokenizer.from_pretrained(\"" + dir + "\").save_pretrained(\"" + dir + "\"), and convert "
                        + "the directory that holds it with config.json and the weights");

        String commit = "0123456789abcdef0123456789abcdef01234567";
        RepoInfo info = new RepoInfo("acme/bpe", commit, List.of("config.json", "model.safetensors", "vocab.json",
                "merges.txt"));
        assertThatThrownBy(() -> ModelSource.filesToFetch(ModelSource.parseHubSource("hf:acme/bpe"), info))
                .isInstanceOf(ModelSourceException.class)
                .hasMessage("acme/bpe@" + commit + " has no tokenizer.json; a convertible repo needs config.json, "
                        + "tokenizer.json and safetensors or ONNX weights (there is only vocab.json, merges.txt, a slow "
                        + "tokenizer's files): the converter reads the fast tokenizer's tokenizer.json; write it with "
                        + "transformers, AutoTokenizer.from_pretrained(\"acme/bpe\", revision=\"" + commit + "\")"
                        + ".save_pretrained(\"<dir>\"), and convert the directory that holds it with config.json and "
                        + "the weights");
    }

    /** A Hub repo id typed as from_pretrained takes it ({@code org/name}) gets the hf: spelling as its fix. */
    @Test
    void aRepoIdWithoutHfPrefixIsPointedToTheHub() {
        assertThatThrownBy(() -> ModelSource.open("sentence-transformers/not-a-local-dir", null))
                .isInstanceOf(ModelSourceException.class)
                .hasMessage("model source 'sentence-transformers/not-a-local-dir' is not a directory (use a snapshot "
                        + "directory or hf:org/name[@revision]); no such directory exists: for the Hugging Face Hub "
                        + "model, write hf:sentence-transformers/not-a-local-dir");
        // an existing file, an absolute path, or a path that is no repo id keeps the plain message
        for (String path : new String[] {tmp.resolve("a/b").toString(), "nowhere", "a/b/c"}) {
            assertThatThrownBy(() -> ModelSource.open(path, null)).as(path).isInstanceOf(ModelSourceException.class)
                    .hasMessage("model source '" + path + "' is not a directory (use a snapshot directory or "
                            + "hf:org/name[@revision])");
        }
    }

    @Test
    void shardedHubRepoDownloadsIndexAndShardsAndImports() throws Exception {
        Path tiny = TinyModels.bert(tmp.resolve("tiny"), 4);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", Files.readAllBytes(tiny.resolve("config.json")));
        files.put("tokenizer.json", Files.readAllBytes(tiny.resolve("tokenizer.json")));
        // Split the tiny model into two shards by re-reading it through the reader.
        RawSafetensors first = new RawSafetensors();
        RawSafetensors second = new RawSafetensors();
        StringBuilder map = new StringBuilder();
        try (var f = io.aneforge.safetensors.SafetensorsFile.open(tiny.resolve("model.safetensors"))) {
            int i = 0;
            for (var t : f.tensors()) {
                boolean one = i++ % 2 == 0;
                (one ? first : second).f32(t.name(), f.readFloat(t.name()).data(), t.shape());
                map.append(map.length() == 0 ? "" : ",").append('"').append(t.name()).append("\":\"model-0000")
                        .append(one ? 1 : 2).append("-of-00002.safetensors\"");
            }
        }
        files.put("model-00001-of-00002.safetensors", first.bytes());
        files.put("model-00002-of-00002.safetensors", second.bytes());
        files.put("model.safetensors.index.json", ("{\"weight_map\":{" + map + "}}").getBytes(StandardCharsets.UTF_8));
        files.put("pytorch_model.bin", new byte[] {1, 2, 3});
        try (FakeHub hub = FakeHub.start()) {
            hub.repo("acme/sharded").commit(COMMIT, "main", files);
            HttpHubClient client = new HttpHubClient(new HubConfig(URI.create(hub.endpoint()), tmp.resolve("cache"),
                    null, false, Duration.ofSeconds(5), Duration.ofSeconds(10), 2, Duration.ofMillis(5)));
            ModelSnapshot snap = ModelSource.open("hf:acme/sharded", client);
            assertThat(snap.format()).isEqualTo(WeightsFormat.SHARDED_SAFETENSORS);
            assertThat(snap.directory().resolve("pytorch_model.bin")).doesNotExist();
            ImportedModel model = ModelImporter.importWeights(snap);
            assertThat(model.commit()).isEqualTo(COMMIT);
            assertThat(model.weights()).containsKey("pooler.dense.bias").hasSize(5 + 2 * 16 + 2);
        }
    }

    @Test
    void pickleOnlyHubRepoIsRefusedBeforeDownloadingAnything() throws Exception {
        try (FakeHub hub = FakeHub.start()) {
            hub.repo("acme/pickled").commit(COMMIT, "main", Map.of("config.json", "{}".getBytes(),
                    "tokenizer.json", "{}".getBytes(), "pytorch_model.bin", new byte[] {1}));
            HttpHubClient client = new HttpHubClient(new HubConfig(URI.create(hub.endpoint()), tmp.resolve("cache"),
                    null, false, Duration.ofSeconds(5), Duration.ofSeconds(10), 2, Duration.ofMillis(5)));
            assertThatThrownBy(() -> ModelSource.open("hf:acme/pickled", client))
                    .isInstanceOf(ModelSourceException.class)
                    .hasMessageContaining("only has pickled PyTorch weights ([pytorch_model.bin])")
                    .hasMessageContaining("hf:acme/pickled@refs/pr/N");
            assertThat(hub.requests()).allMatch(r -> r.path().startsWith("/api/"));
        }
    }
}
