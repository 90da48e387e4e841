package io.aneforge.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.hub.HttpHubClient;
import io.aneforge.hub.HubConfig;
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
        for (String bad : new String[] {"hf:noslash", "hf:org/name@", "hf:../etc/passwd", "hf:org/na me"}) {
            assertThatThrownBy(() -> ModelSource.parseHubSource(bad)).isInstanceOf(ModelSourceException.class)
                    .hasMessageContaining("expected hf:org/name or hf:org/name@revision");
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
