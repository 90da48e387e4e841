package io.aneforge.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.agent.coreml.CoreMlRuntime;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.util.unit.DataSize;

/** Binds the shipped application.yml, with and without environment overrides, as Boot does. */
class AgentPropertiesTest {

    /** {@code properties} alone, as {@code aneforge.agent.*} keys: no application.yml, so the record's defaults. */
    private static AgentProperties bindWithoutYml(Map<String, Object> properties) {
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("aneforge.agent.registry.url", "http://localhost:8080");
        all.put("aneforge.agent.cache.dir", "/home/qa/.cache/aneforge-agent");
        all.putAll(properties);
        return bindOnly(all);
    }

    /** {@code properties} and nothing else: neither application.yml nor this machine's environment. */
    private static AgentProperties bindOnly(Map<String, Object> properties) {
        return new Binder(ConfigurationPropertySources.from(new MapPropertySource("test", properties)))
                .bindOrCreate("aneforge.agent", AgentProperties.class);
    }

    private static AgentProperties bind(Map<String, Object> env) throws IOException {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().remove(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME);
        environment.getPropertySources().addFirst(new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, env));
        environment.getPropertySources().addFirst(new MapPropertySource("test-home", Map.of("user.home", "/home/qa")));
        for (PropertySource<?> yml : new YamlPropertySourceLoader().load("application.yml",
                new ClassPathResource("application.yml"))) {
            environment.getPropertySources().addLast(yml);
        }
        return new Binder(ConfigurationPropertySources.get(environment),
                new org.springframework.boot.context.properties.bind.PropertySourcesPlaceholdersResolver(environment))
                .bindOrCreate("aneforge.agent", AgentProperties.class);
    }

    @Test
    void shippedDefaults() throws IOException {
        AgentProperties p = bind(Map.of());

        assertThat(p.registry().url()).isEqualTo(URI.create("http://localhost:8080"));
        assertThat(p.registry().token()).isEmpty();
        assertThat(p.cache().dir()).isEqualTo(Path.of("/home/qa/.cache/aneforge-agent"));
        assertThat(p.cache().artifactsDir()).isEqualTo(Path.of("/home/qa/.cache/aneforge-agent/artifacts"));
        assertThat(p.cache().compiledDir()).isEqualTo(Path.of("/home/qa/.cache/aneforge-agent/coreml-compiled"));
        assertThat(p.cache().maxSize()).isEqualTo(DataSize.ofGigabytes(20));
        assertThat(p.cache().compiledMaxSize()).isEqualTo(DataSize.ofGigabytes(10));
        assertThat(p.cache().compiledMaxSize().toBytes()).isEqualTo(CoreMlRuntime.DEFAULT_COMPILED_CACHE_BYTES);
        assertThat(p.pollInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(p.runtimes()).containsExactly("coreml", "reference-cpu");
        assertThat(p.benchmark()).isEqualTo(new AgentProperties.Benchmark(10, 100, Duration.ofMinutes(5)));
        assertThat(p.download()).isEqualTo(new AgentProperties.Download(Duration.ofSeconds(60), DataSize.ofKilobytes(64)));
        assertThat(p.stuckExitGrace()).isEqualTo(Duration.ofSeconds(60));
        assertThat(p.goldenMaxMemory()).isEqualTo(DataSize.ofGigabytes(1));
    }

    /**
     * The defaults live in AgentProperties' {@code @DefaultValue}s; application.yml and docs/agents.md repeat them for
     * operators. Binding the yml must give what binding nothing gives, and each default the docs' table names, set
     * explicitly, must too.
     */
    @Test
    void shippedYmlAndDocsRepeatTheRecordsDefaults() throws IOException {
        AgentProperties recordDefaults = bindWithoutYml(Map.of());

        assertThat(bind(Map.of())).isEqualTo(recordDefaults);

        Matcher row = Pattern.compile("(?m)^\\| `aneforge\\.agent\\.([a-z.{},-]+)` \\| `[A-Z_…]+` \\| ((?:`[^`]*`(?:, )?)+)")
                .matcher(Files.readString(Path.of("..", "docs", "agents.md")));
        Map<String, String> documented = new LinkedHashMap<>();
        while (row.find()) {
            List<String> values = Pattern.compile("`([^`]*)`").matcher(row.group(2)).results().map(r -> r.group(1)).toList();
            Matcher group = Pattern.compile("(.*)\\{(.*)}").matcher(row.group(1));
            if (group.matches()) { // benchmark.{warmup-iterations,timed-iterations,max-duration}: `10`, `100`, `5m`
                List<String> keys = List.of(group.group(2).split(","));
                assertThat(values).as(row.group()).hasSameSizeAs(keys);
                for (int i = 0; i < keys.size(); i++) documented.put(group.group(1) + keys.get(i), values.get(i));
            } else {
                documented.put(row.group(1), values.get(0));
            }
        }
        documented.remove("cache.dir"); // ~/.cache/aneforge-agent: the yml's ${user.home}, checked above
        assertThat(documented).containsKeys("cache.max-size", "cache.compiled-max-size", "poll-interval", "runtimes",
                "benchmark.warmup-iterations", "benchmark.timed-iterations", "benchmark.max-duration", "drain-timeout",
                "download.timeout",
                "download.min-throughput", "max-runtime-call", "stuck-exit-grace", "golden-max-memory");
        documented.forEach((key, value) -> assertThat(bindWithoutYml(Map.of("aneforge.agent." + key, value)))
                .as("docs/agents.md's default for aneforge.agent.%s, `%s`", key, value).isEqualTo(recordDefaults));
    }

    @Test
    void environmentOverridesEveryProperty() throws IOException {
        AgentProperties p = bind(Map.ofEntries(
                Map.entry("ANEFORGE_AGENT_REGISTRY_URL", "https://registry.example.com"),
                Map.entry("ANEFORGE_AGENT_REGISTRY_TOKEN", "agt_123"),
                Map.entry("ANEFORGE_AGENT_CACHE_DIR", "/var/cache/aneforge"),
                Map.entry("ANEFORGE_AGENT_CACHE_MAX_SIZE", "50GB"),
                Map.entry("ANEFORGE_AGENT_CACHE_COMPILED_MAX_SIZE", "3GB"),
                Map.entry("ANEFORGE_AGENT_POLL_INTERVAL", "5s"),
                Map.entry("ANEFORGE_AGENT_RUNTIMES", "reference-cpu"),
                Map.entry("ANEFORGE_AGENT_BENCHMARK_TIMED_ITERATIONS", "500"),
                Map.entry("ANEFORGE_AGENT_DOWNLOAD_TIMEOUT", "2m"),
                Map.entry("ANEFORGE_AGENT_DOWNLOAD_MIN_THROUGHPUT", "1MB"),
                Map.entry("ANEFORGE_AGENT_STUCK_EXIT_GRACE", "5m"),
                Map.entry("ANEFORGE_AGENT_GOLDEN_MAX_MEMORY", "4GB"),
                Map.entry("ANEFORGE_AGENT_HOST_NAME", "eu-1.team-a.af-aneforge-agent-0")));

        assertThat(p.registry().url()).isEqualTo(URI.create("https://registry.example.com"));
        assertThat(p.registry().token()).isEqualTo("agt_123");
        assertThat(p.cache().dir()).isEqualTo(Path.of("/var/cache/aneforge"));
        assertThat(p.cache().maxSize()).isEqualTo(DataSize.ofGigabytes(50));
        assertThat(p.cache().compiledMaxSize()).isEqualTo(DataSize.ofGigabytes(3));
        assertThat(p.pollInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(p.runtimes()).containsExactly("reference-cpu");
        assertThat(p.benchmark().timedIterations()).isEqualTo(500);
        assertThat(p.download()).isEqualTo(new AgentProperties.Download(Duration.ofMinutes(2), DataSize.ofMegabytes(1)));
        assertThat(p.stuckExitGrace()).isEqualTo(Duration.ofMinutes(5));
        assertThat(p.goldenMaxMemory()).isEqualTo(DataSize.ofGigabytes(4));
        assertThat(p.hostName()).isEqualTo("eu-1.team-a.af-aneforge-agent-0");
    }

    /** The host name the agent registers with: the override when set, the probed one otherwise. */
    @Test
    void theHostNameMayBeOverridden() throws IOException {
        assertThat(bind(Map.of()).hostName()).isEmpty();
        AgentConfiguration wiring = new AgentConfiguration();
        String probed = wiring.hostFacts(bind(Map.of()), List.of()).hostName();
        assertThat(probed).isNotBlank();
        assertThat(wiring.hostFacts(bind(Map.of("ANEFORGE_AGENT_HOST_NAME", "team-a.af-aneforge-agent-0")), List.of())
                .hostName()).isEqualTo("team-a.af-aneforge-agent-0");
        assertThat(wiring.hostFacts(bind(Map.of("ANEFORGE_AGENT_HOST_NAME", "  ")), List.of()).hostName())
                .as("blank: the OS's").isEqualTo(probed);
    }

    @Test
    void theRequiredSettingsAreNamedWhenMissing() {
        assertThatThrownBy(() -> bindOnly(Map.of())).rootCause()
                .hasMessage("aneforge.agent.registry.url is required (env ANEFORGE_AGENT_REGISTRY_URL)");
        assertThatThrownBy(() -> bindOnly(Map.of("aneforge.agent.registry.url", "http://r"))).rootCause()
                .hasMessage("aneforge.agent.cache.dir is required (env ANEFORGE_AGENT_CACHE_DIR)");
    }

    @Test
    void badValuesAreNamed() {
        assertThatThrownBy(() -> bind(Map.of("ANEFORGE_AGENT_REGISTRY_URL", "ftp://x")))
                .rootCause().hasMessageContaining("aneforge.agent.registry.url must be an http(s) URL, got 'ftp://x'");
        assertThatThrownBy(() -> bind(Map.of("ANEFORGE_AGENT_POLL_INTERVAL", "0s")))
                .rootCause().hasMessageContaining("aneforge.agent.poll-interval must be positive");
        assertThatThrownBy(() -> bind(Map.of("ANEFORGE_AGENT_CACHE_COMPILED_MAX_SIZE", "0B")))
                .rootCause().hasMessageContaining("aneforge.agent.cache.compiled-max-size must be positive");
        assertThatThrownBy(() -> bind(Map.of("ANEFORGE_AGENT_DOWNLOAD_MIN_THROUGHPUT", "0B")))
                .rootCause().hasMessageContaining("aneforge.agent.download.min-throughput must be positive");
        assertThatThrownBy(() -> bind(Map.of("ANEFORGE_AGENT_STUCK_EXIT_GRACE", "-1s")))
                .rootCause().hasMessageContaining("aneforge.agent.stuck-exit-grace must be >= 0");
        assertThatThrownBy(() -> bind(Map.of("ANEFORGE_AGENT_GOLDEN_MAX_MEMORY", "0B")))
                .rootCause().hasMessageContaining("aneforge.agent.golden-max-memory must be positive");
        assertThatThrownBy(() -> bind(Map.of("ANEFORGE_AGENT_HOST_NAME", "h".repeat(256))))
                .rootCause().hasMessageContaining("aneforge.agent.host-name must be at most 255 characters");
    }

    record StubRuntime(String id, boolean isAvailable) implements ModelRuntime {
        @Override
        public String version() {
            return "1";
        }

        @Override
        public LoadedModel load(Path mlpackage, RuntimeOptions options) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void offersConfiguredRuntimesThatAreAvailableAndRejectsUnknownIds() {
        List<ModelRuntime> discovered = List.of(new StubRuntime("coreml", false), new StubRuntime("reference-cpu", true));

        assertThat(RuntimeSelection.select(List.of("coreml", "reference-cpu"), discovered))
                .extracting(ModelRuntime::id).containsExactly("reference-cpu");
        assertThatThrownBy(() -> RuntimeSelection.select(List.of("corml"), discovered))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("aneforge.agent.runtimes lists 'corml'")
                .hasMessageContaining("known: [coreml, reference-cpu]");
    }
}
