package io.aneforge.worker.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.source.ModelSourceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real symbolic links in a temporary directory: what the registry's lexical check lets through, the worker refuses. */
class LocalSourceRootsTest {

    @TempDir
    Path tmp;

    Path root;
    Path outside;
    LocalSourceRoots roots;

    @BeforeEach
    void layout() throws Exception {
        root = Files.createDirectories(tmp.resolve("allowed"));
        outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("config.json"), "{\"secret\": true}");
        roots = new LocalSourceRoots(List.of(root.toString()));
    }

    private static Path snapshot(Path dir) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{}");
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        Files.write(dir.resolve("model.safetensors"), new byte[8]);
        return dir;
    }

    @Test
    void aSnapshotUnderARootIsItsRealPath() throws Exception {
        Path snap = snapshot(root.resolve("org/model"));
        assertThat(roots.realSource(snap)).isEqualTo(snap.toRealPath());
    }

    @Test
    void aSourceDirectoryLinkingOutOfTheRootIsRefused() throws Exception {
        Path away = snapshot(outside.resolve("model"));
        Path link = Files.createSymbolicLink(root.resolve("model"), away);
        assertThatThrownBy(() -> roots.realSource(link)).isInstanceOf(ModelSourceException.class)
                .hasMessageContaining("'" + link + "'").hasMessageContaining("'" + away.toRealPath() + "'")
                .hasMessageContaining("'" + root + "'").hasMessageContaining("ANEFORGE_SOURCES_LOCAL_ROOTS");
    }

    @Test
    void aParentDirectoryLinkingOutOfTheRootIsRefused() throws Exception {
        snapshot(outside.resolve("org/model"));
        Files.createSymbolicLink(root.resolve("org"), outside.resolve("org"));
        Path source = root.resolve("org/model");
        assertThatThrownBy(() -> roots.realSource(source)).isInstanceOf(ModelSourceException.class)
                .hasMessageContaining("'" + source + "'").hasMessageContaining("ANEFORGE_SOURCES_LOCAL_ROOTS");
    }

    @Test
    void aFileInTheSnapshotLinkingOutOfTheRootIsRefused() throws Exception {
        Path snap = snapshot(root.resolve("model"));
        Files.delete(snap.resolve("config.json"));
        Files.createSymbolicLink(snap.resolve("config.json"), outside.resolve("config.json"));
        assertThatThrownBy(() -> roots.realSource(snap)).isInstanceOf(ModelSourceException.class)
                .hasMessageContaining("'config.json' is a symbolic link to '" + outside.resolve("config.json").toRealPath() + "'")
                .hasMessageContaining("'" + root + "'").hasMessageContaining("ANEFORGE_SOURCES_LOCAL_ROOTS");
    }

    @Test
    void aDirectoryInTheSnapshotLinkingOutOfTheRootIsRefused() throws Exception {
        Path snap = snapshot(root.resolve("model"));
        Files.createDirectories(outside.resolve("onnx"));
        Files.write(outside.resolve("onnx/model.onnx"), new byte[4]);
        Files.createSymbolicLink(snap.resolve("onnx"), outside.resolve("onnx"));
        assertThatThrownBy(() -> roots.realSource(snap)).isInstanceOf(ModelSourceException.class)
                .hasMessageContaining("'onnx' is a symbolic link");
    }

    /** A Hub cache snapshot: its files are links to ../../blobs, outside the snapshot but under the root. */
    @Test
    void linksThatStayUnderARootAreFollowed() throws Exception {
        Path blobs = Files.createDirectories(root.resolve("models--org--m/blobs"));
        Files.writeString(blobs.resolve("abc"), "{}");
        Path snap = snapshot(root.resolve("models--org--m/snapshots/0123"));
        Files.delete(snap.resolve("config.json"));
        Files.createSymbolicLink(snap.resolve("config.json"), Path.of("../../blobs/abc"));
        Files.createSymbolicLink(snap.resolve("dangling.json"), Path.of("../../blobs/gone"));
        assertThat(roots.realSource(snap)).isEqualTo(snap.toRealPath());
    }

    /** A root that is itself a link (macOS's /tmp is /private/tmp) allows what really lies under its target. */
    @Test
    void aRootThatIsALinkAllowsWhatLiesUnderItsTarget() throws Exception {
        Path linkedRoot = Files.createSymbolicLink(tmp.resolve("root-link"), root);
        Path snap = snapshot(root.resolve("model"));
        LocalSourceRoots viaLink = new LocalSourceRoots(List.of(linkedRoot.toString()));
        assertThat(viaLink.realSource(linkedRoot.resolve("model"))).isEqualTo(snap.toRealPath());
        assertThat(viaLink.realSource(snap)).isEqualTo(snap.toRealPath());
    }

    @Test
    void noRootsRefuseEveryLocalSourceNamingTheSetting() throws Exception {
        Path snap = snapshot(root.resolve("model"));
        assertThatThrownBy(() -> new LocalSourceRoots(List.of("")).realSource(snap)).isInstanceOf(ModelSourceException.class)
                .hasMessageContaining("'" + snap + "'").hasMessageContaining("ANEFORGE_SOURCES_LOCAL_ROOTS")
                .hasMessageContaining("allows no local sources");
    }

    @Test
    void aMissingRootAllowsNothingAndIsNamed() throws Exception {
        Path snap = snapshot(outside.resolve("model"));
        LocalSourceRoots gone = new LocalSourceRoots(List.of(tmp.resolve("gone").toString()));
        assertThatThrownBy(() -> gone.realSource(snap)).isInstanceOf(ModelSourceException.class)
                .hasMessageContaining("missing on this worker");
    }

    @Test
    void aMissingSourceIsLeftToTheSnapshotCheck() throws Exception {
        Path nowhere = root.resolve("nowhere");
        assertThat(roots.realSource(nowhere)).isEqualTo(nowhere);
    }

    @Test
    void aRelativeRootStopsTheWorkerNamingTheVariable() {
        assertThatThrownBy(() -> new LocalSourceRoots(List.of("snapshots"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ANEFORGE_SOURCES_LOCAL_ROOTS").hasMessageContaining("'snapshots' is not absolute");
        assertThatThrownBy(() -> new LocalSourceRoots(List.of("/srv/../etc"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'..'");
    }
}
