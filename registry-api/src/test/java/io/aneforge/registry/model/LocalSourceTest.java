package io.aneforge.registry.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.RegistryTestBase;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A {@code local} source's path must lie under aneforge.sources.local-roots (here /srv/snapshots and /data/models,
 * {@link RegistryTestBase#LOCAL_ROOTS}); anything else is refused before a version exists, so a publisher cannot
 * point the workers at /etc or /proc and read the failure texts.
 */
class LocalSourceTest extends RegistryTestBase {

    private Response local(String model, String path) {
        return send("POST", "/api/v1/models/" + model + "/versions", publisher(),
                Map.of("source", Map.of("type", "local", "path", path)));
    }

    @Test
    void pathsOutsideTheAllowedRootsAreRefused() {
        createModel("local-roots");
        for (String path : List.of("/etc", "/proc/self/root/etc", "/srv/snapshotsX/m", "/srv", "/tmp/x")) {
            Response r = local("local-roots", path);
            assertThat(r.status()).as(path + ": " + r.text()).isEqualTo(400);
            assertThat(r.problem()).isEqualTo("local-source-not-allowed");
            assertThat(r.json().path("detail").asString()).isEqualTo("source.path '" + path + "' is not under a directory"
                    + " this registry allows local sources from (/srv/snapshots, /data/models, set by"
                    + " aneforge.sources.local-roots (ANEFORGE_SOURCES_LOCAL_ROOTS))");
            assertThat(r.json().path("setting").asString()).isEqualTo("aneforge.sources.local-roots");
        }
        Response dots = local("local-roots", "/srv/snapshots/../../etc");
        assertThat(dots.status()).as(dots.text()).isEqualTo(400);
        assertThat(dots.problem()).isEqualTo("invalid-source");
        assertThat(dots.json().path("detail").asString()).startsWith("source.path '/srv/snapshots/../../etc' has a '..' segment");
        // a conversion request goes through the same check
        Response conversion = send("POST", "/api/v1/models/local-roots/versions", publisher(),
                Map.of("source", Map.of("type", "local", "path", "/etc"), "chips", List.of("M2")));
        assertThat(conversion.problem()).as(conversion.text()).isEqualTo("local-source-not-allowed");
        assertThat(get("/api/v1/models/local-roots/versions", reader()).json().size()).isZero();

        Response ok = local("local-roots", "/data/models/./minilm//");
        assertThat(ok.status()).as(ok.text()).isEqualTo(201);
        assertThat(ok.json().path("source").path("path").asString()).isEqualTo("/data/models/minilm");
    }

    @Test
    void theSettingIsCheckedAtStartAndEmptyMeansOff() {
        SourceProperties off = new SourceProperties(null);
        assertThat(off.localRoots()).isEmpty();
        assertThat(off.rootOf(Path.of("/srv/snapshots/m"))).isNull();
        assertThat(new SourceProperties(List.of("", " /srv/a/ ")).localRoots()).containsExactly("/srv/a");
        assertThatThrownBy(() -> new SourceProperties(List.of("snapshots")))
                .hasMessage("aneforge.sources.local-roots (ANEFORGE_SOURCES_LOCAL_ROOTS): root 'snapshots' is not absolute;"
                        + " give comma-separated absolute directories, the same on the registry and the workers, e.g. /srv/snapshots");
        assertThatThrownBy(() -> new SourceProperties(List.of("/srv/../etc"))).hasMessageContaining("has a '..' segment");
    }
}
