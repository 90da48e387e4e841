package io.aneforge.agent.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * {@code aneforge.agent.*}, documented in {@code application.yml}. Every property can be set
 * from the environment, e.g. {@code ANEFORGE_AGENT_REGISTRY_URL},
 * {@code ANEFORGE_AGENT_REGISTRY_TOKEN}, {@code ANEFORGE_AGENT_CACHE_DIR},
 * {@code ANEFORGE_AGENT_CACHE_MAX_SIZE}, {@code ANEFORGE_AGENT_CACHE_COMPILED_MAX_SIZE},
 * {@code ANEFORGE_AGENT_POLL_INTERVAL},
 * {@code ANEFORGE_AGENT_RUNTIMES=coreml,reference-cpu}, {@code ANEFORGE_AGENT_DRAIN_TIMEOUT},
 * {@code ANEFORGE_AGENT_DOWNLOAD_TIMEOUT}, {@code ANEFORGE_AGENT_DOWNLOAD_MIN_THROUGHPUT},
 * {@code ANEFORGE_AGENT_MAX_RUNTIME_CALL}, {@code ANEFORGE_AGENT_STUCK_EXIT_GRACE},
 * {@code ANEFORGE_AGENT_GOLDEN_MAX_MEMORY}, {@code ANEFORGE_AGENT_HOST_NAME}.
 *
 * <p>{@code pollInterval} is how long one lease call waits for a job (the registry long-polls,
 * capped by its {@code aneforge.agents.max-lease-wait}); {@code drainTimeout} is how long a
 * stopping agent (SIGTERM) lets the job in hand finish before handing it back to the queue; {@code maxRuntimeCall}
 * is how long one runtime call (load, predict) may run before the agent gives its job up and lets its liveness file
 * go stale ({@link io.aneforge.agent.watchdog.RuntimeCallWatch}); {@code stuckExitGrace} is how long such a call may
 * stay stuck after that before the agent exits non-zero for its supervisor to restart it; {@code goldenMaxMemory}
 * bounds the golden data held in memory: one blob as downloaded, and the decoded blobs kept together (what their
 * tensors hold: no padded positions, {@link io.aneforge.eval.GoldenTensor}); and, on their own, the parts of a variant's
 * outputs a job keeps to compare with them ({@link io.aneforge.agent.golden.GoldenComparison}).
 * {@code hostName}, when not empty, is the name the agent registers with instead of the OS's host name (two
 * Kubernetes namespaces with the same release name have pods of the same name, which the registry takes for one host).
 *
 * <p>The defaults are the {@link DefaultValue}s here and nowhere else in code (a bare {@code @DefaultValue} on a nested
 * record has Spring build it from its own, so a missing {@code registry.url} or {@code cache.dir} is refused by
 * that record), so they hold whatever configuration file is used. The shipped
 * {@code application.yml} repeats them for operators to read; {@code AgentPropertiesTest} fails when the two disagree.
 */
@ConfigurationProperties("aneforge.agent")
public record AgentProperties(
        @DefaultValue Registry registry,
        @DefaultValue Cache cache,
        @DefaultValue("30s") Duration pollInterval,
        @DefaultValue({"coreml", "reference-cpu"}) List<String> runtimes,
        @DefaultValue Benchmark benchmark,
        @DefaultValue("2m") Duration drainTimeout,
        @DefaultValue Download download,
        @DefaultValue("30m") Duration maxRuntimeCall,
        @DefaultValue("60s") Duration stuckExitGrace,
        @DefaultValue("1GB") DataSize goldenMaxMemory,
        @DefaultValue("") String hostName) {

    public AgentProperties {
        if (pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException("aneforge.agent.poll-interval must be positive, got " + pollInterval);
        }
        if (runtimes.isEmpty()) {
            throw new IllegalArgumentException("aneforge.agent.runtimes must list at least one runtime id"
                    + " (coreml, reference-cpu)");
        }
        runtimes = List.copyOf(runtimes);
        if (drainTimeout == null || drainTimeout.isNegative()) {
            throw new IllegalArgumentException("aneforge.agent.drain-timeout must be >= 0, got " + drainTimeout);
        }
        if (maxRuntimeCall == null || maxRuntimeCall.isNegative() || maxRuntimeCall.isZero()) {
            throw new IllegalArgumentException("aneforge.agent.max-runtime-call must be positive, got " + maxRuntimeCall
                    + " (env ANEFORGE_AGENT_MAX_RUNTIME_CALL, e.g. 30m)");
        }
        if (stuckExitGrace == null || stuckExitGrace.isNegative()) {
            throw new IllegalArgumentException("aneforge.agent.stuck-exit-grace must be >= 0, got " + stuckExitGrace
                    + " (env ANEFORGE_AGENT_STUCK_EXIT_GRACE, e.g. 60s)");
        }
        if (goldenMaxMemory == null || goldenMaxMemory.toBytes() <= 0) {
            throw new IllegalArgumentException("aneforge.agent.golden-max-memory must be positive, got " + goldenMaxMemory
                    + " (env ANEFORGE_AGENT_GOLDEN_MAX_MEMORY, e.g. 1GB)");
        }
        hostName = hostName == null ? "" : hostName.strip();
        if (hostName.length() > 255 || hostName.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("aneforge.agent.host-name must be at most 255 characters without control "
                    + "characters (the registry's limit), got " + hostName.length() + " characters (env "
                    + "ANEFORGE_AGENT_HOST_NAME, e.g. ns-a.aneforge-agent-0; empty: the OS's host name)");
        }
    }

    /**
     * @param url base URL of the registry API, e.g. {@code https://registry.example.com}
     * @param token bearer token with the {@code agent} role; blank until the registry issues one
     */
    public record Registry(URI url, @DefaultValue("") String token) {
        public Registry {
            if (url == null) {
                throw new IllegalArgumentException("aneforge.agent.registry.url is required (env ANEFORGE_AGENT_REGISTRY_URL)");
            }
            if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
                throw new IllegalArgumentException("aneforge.agent.registry.url must be an http(s) URL, got '" + url + "'");
            }
        }
    }

    /**
     * @param dir root of the artifact cache ({@code <dir>/sha256/<hex>/…}) and of compiled Core ML
     *     models ({@code <dir>/coreml-compiled/<osBuild>/…}); agents on one host may share it, agents on several
     *     may not (the compiled models' in-use marks name processes by pid, and a second host is refused)
     * @param maxSize cap for downloaded artifacts; least recently used ones are evicted above it
     * @param compiledMaxSize cap for compiled Core ML models (macOS), counted apart from {@code maxSize}; least
     *     recently used ones not in use are evicted above it
     */
    public record Cache(Path dir, @DefaultValue("20GB") DataSize maxSize,
            @DefaultValue("10GB") DataSize compiledMaxSize) {
        public Cache {
            if (dir == null) {
                throw new IllegalArgumentException("aneforge.agent.cache.dir is required (env ANEFORGE_AGENT_CACHE_DIR)");
            }
            if (maxSize.toBytes() <= 0) {
                throw new IllegalArgumentException("aneforge.agent.cache.max-size must be positive, got " + maxSize);
            }
            if (compiledMaxSize.toBytes() <= 0) {
                throw new IllegalArgumentException("aneforge.agent.cache.compiled-max-size must be positive, got "
                        + compiledMaxSize + " (env ANEFORGE_AGENT_CACHE_COMPILED_MAX_SIZE, e.g. 10GB)");
            }
        }

        public Path artifactsDir() {
            return dir.resolve("artifacts");
        }

        public Path compiledDir() {
            return dir.resolve("coreml-compiled");
        }
    }

    /**
     * Artifact and golden downloads.
     *
     * @param timeout connect, wait for the response headers, longest gap in a body, and the grace period before
     *     the minimum throughput applies
     * @param minThroughput bytes per second a download must average after its first {@code timeout}; a slower one
     *     (a server or proxy trickling) is cut off and the job goes back to the queue
     */
    public record Download(@DefaultValue("60s") Duration timeout, @DefaultValue("64KB") DataSize minThroughput) {
        public Download {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("aneforge.agent.download.timeout must be positive, got " + timeout);
            }
            if (minThroughput == null || minThroughput.toBytes() <= 0) {
                throw new IllegalArgumentException("aneforge.agent.download.min-throughput must be positive (bytes per"
                        + " second, e.g. 64KB), got " + minThroughput);
            }
        }
    }

    /** Protocol used when a job does not carry its own. */
    public record Benchmark(@DefaultValue("10") int warmupIterations, @DefaultValue("100") int timedIterations,
            @DefaultValue("5m") Duration maxDuration) {}
}
