package io.aneforge.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.agent.AgentApplication;
import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.cache.ArtifactCache;
import io.aneforge.agent.host.HostFacts;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.context.ConfigurableApplicationContext;

/** The agent starts without a web server and wires host facts, cache and runner. */
class AgentApplicationTest {

    @TempDir
    Path dir;

    @Test
    void startsAndDescribesThisHost() {
        SpringApplication app = new SpringApplication(AgentApplication.class);
        // Only Core ML is on the classpath today (reference-cpu comes with ane-core's runtime).
        try (ConfigurableApplicationContext ctx = app.run("--aneforge.agent.cache.dir=" + dir,
                "--aneforge.agent.runtimes=coreml", "--aneforge.agent.benchmark.warmup-iterations=3")) {
            assertThat(app.getWebApplicationType()).isEqualTo(WebApplicationType.NONE);
            HostFacts host = ctx.getBean(HostFacts.class);
            assertThat(host.hostName()).isNotBlank();
            if (System.getProperty("os.name").startsWith("Linux")) {
                assertThat(host.chip()).isNull();
                assertThat(host.runtimes()).isEmpty(); // coreml is not available here
            }
            assertThat(ctx.getBean(BenchmarkProtocol.class).warmupIterations()).isEqualTo(3);
            ctx.getBean(ArtifactCache.class);
            assertThat(Files.isDirectory(dir.resolve("artifacts/sha256"))).isTrue();
        }
    }
}
