package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.ClassPathResource;

/** The default worker id is this host's name, also for a worker started from a shell (no exported HOSTNAME). */
class WorkerIdTest {

    @TempDir
    Path dir;

    /**
     * application.yml as a native worker sees it when started from bash: no ANEFORGE_WORKER_ID and no HOSTNAME
     * in the environment (bash does not export it). The id must be the host's name, not one literal shared by
     * every such worker.
     */
    @Test
    void aWorkerWithoutWorkerIdOrHostnameVariableIsIdentifiedByTheHostName() throws Exception {
        StandardEnvironment env = new StandardEnvironment();
        env.getPropertySources().remove(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME);
        env.getPropertySources().addFirst(new MapPropertySource("env", Map.of("ANEFORGE_WORKER_TOKEN", "t")));
        for (PropertySource<?> yaml : new YamlPropertySourceLoader().load("application.yml", new ClassPathResource("application.yml"))) {
            env.getPropertySources().addLast(yaml);
        }
        WorkerProperties props = Binder.get(env).bind("aneforge.worker", WorkerProperties.class).get();
        String hostname = System.getenv("HOSTNAME"); // ofThisHost() prefers an exported one (containers)
        Path etc = Path.of("/etc/hostname"); // then /etc/hostname (no DNS), then the system's name
        String etcName = Files.isRegularFile(etc) ? Files.readString(etc).trim() : "";
        String expected = hostname != null && !hostname.isBlank() ? hostname
                : !etcName.isEmpty() ? etcName : InetAddress.getLocalHost().getHostName();
        assertThat(props.id()).isEqualTo(expected).isNotEqualTo("worker");

        env.getPropertySources().addFirst(new MapPropertySource("id", Map.of("ANEFORGE_WORKER_ID", "builder-7")));
        assertThat(Binder.get(env).bind("aneforge.worker", WorkerProperties.class).get().id()).isEqualTo("builder-7");
    }

    /**
     * HOSTNAME, then /etc/hostname (a file read), then the system's name last: getLocalHost also resolves the name,
     * which can block for seconds where DNS is broken.
     */
    @Test
    void theHostNameComesFromTheVariableEtcHostnameOrTheSystemAndItsAbsenceIsAClearError() throws Exception {
        Path etc = dir.resolve("hostname");
        assertThat(WorkerId.resolve(" pod-3 ", () -> "ignored", etc)).isEqualTo("pod-3");
        assertThat(WorkerId.resolve(null, () -> "mac-mini-2", etc)).isEqualTo("mac-mini-2");
        // The name is set but does not resolve: getLocalHost's exception still starts with it.
        assertThat(WorkerId.resolve("", () -> {
            throw new UnknownHostException("build-9: build-9: Name or service not known");
        }, etc)).isEqualTo("build-9");
        Files.writeString(etc, "from-etc\n");
        assertThat(WorkerId.resolve(null, () -> {
            throw new AssertionError("getLocalHost is not asked when /etc/hostname names the host");
        }, etc)).isEqualTo("from-etc");
        assertThat(WorkerId.resolve("pod-3", () -> "ignored", etc)).isEqualTo("pod-3");
        Files.writeString(etc, "  \n");
        assertThatThrownBy(() -> WorkerId.resolve(null, () -> "", etc)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("ANEFORGE_WORKER_ID is not set and this machine's host name cannot be found")
                .hasMessageContaining("set ANEFORGE_WORKER_ID");
    }
}
