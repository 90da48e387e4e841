package io.aneforge.agent.config;

import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.bench.BenchmarkRunner;
import io.aneforge.agent.bench.PeakMemory;
import io.aneforge.agent.cache.ArtifactCache;
import io.aneforge.agent.cache.HttpArtifactSource;
import io.aneforge.agent.cache.UnzipLimits;
import io.aneforge.agent.coreml.CoreMlRuntime;
import io.aneforge.agent.golden.GoldenStore;
import io.aneforge.agent.loop.JobExecutor;
import io.aneforge.agent.loop.RuntimeJobExecutor;
import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.host.HostProbe;
import io.aneforge.agent.watchdog.RuntimeCallWatch;
import io.aneforge.runtime.ModelRuntime;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.info.BuildProperties;
import org.springframework.boot.info.GitProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Wires the agent: host facts, runtimes, cache, golden store, the HTTP registry client and the
 * lease/report loop ({@link AgentRunner}), which starts with the context and drains on shutdown.
 */
@Configuration(proxyBeanMethods = false)
class AgentConfiguration {

    private static final Logger log = LoggerFactory.getLogger(AgentConfiguration.class);

    @Bean
    List<ModelRuntime> offeredRuntimes(AgentProperties props) {
        List<ModelRuntime> discovered = new ArrayList<>();
        // Core ML is built here so that its compiled models live under the configured cache dir, claimed by the name
        // the agent registers with (aneforge.agent.host-name, when set).
        discovered.add(new CoreMlRuntime(props.cache().compiledDir(), props.cache().compiledMaxSize().toBytes(),
                props.hostName()));
        for (ModelRuntime r : ServiceLoader.load(ModelRuntime.class)) {
            if (!r.id().equals(CoreMlRuntime.ID)) {
                discovered.add(r);
            }
        }
        return RuntimeSelection.select(props.runtimes(), discovered);
    }

    @Bean
    HostFacts hostFacts(AgentProperties props, List<ModelRuntime> offeredRuntimes) {
        // aneforge.agent.host-name, when set, is the name the registry knows this host by (Helm: <namespace>.<pod>)
        return HostProbe.forCurrentOs().read(offeredRuntimes.stream().map(ModelRuntime::id).toList()).named(props.hostName());
    }

    @Bean
    ArtifactCache artifactCache(AgentProperties props) {
        return new ArtifactCache(props.cache().artifactsDir(), props.cache().maxSize().toBytes(), downloads(props),
                UnzipLimits.defaults(), Clock.systemUTC());
    }

    @Bean
    GoldenStore goldenStore(AgentProperties props) {
        return new GoldenStore(downloads(props), props.goldenMaxMemory().toBytes());
    }

    private static HttpArtifactSource downloads(AgentProperties props) {
        return new HttpArtifactSource(props.registry().url(), props.registry().token(), props.download().timeout(),
                props.download().minThroughput().toBytes());
    }

    @Bean
    JobExecutor jobExecutor(AgentProperties props, ArtifactCache cache, GoldenStore golden,
            List<ModelRuntime> offeredRuntimes, BenchmarkRunner runner, HostFacts host) {
        return new RuntimeJobExecutor(cache, golden, offeredRuntimes, runner, host, Clock.systemUTC(),
                new RuntimeCallWatch(props.maxRuntimeCall()));
    }

    @Bean
    AgentRunner agentRunner(AgentProperties props, HostFacts host, JobExecutor executor,
            @Value("${aneforge.agent.liveness-file:}") String livenessFile) {
        return new AgentRunner(props, host, executor, livenessFile.isBlank() ? null : Path.of(livenessFile));
    }

    @Bean
    BenchmarkRunner benchmarkRunner() {
        return new BenchmarkRunner(PeakMemory.forCurrentOs());
    }

    @Bean
    BenchmarkProtocol defaultBenchmarkProtocol(AgentProperties props) {
        AgentProperties.Benchmark b = props.benchmark();
        return new BenchmarkProtocol(b.warmupIterations(), b.timedIterations(), b.maxDuration());
    }

    @Bean
    ApplicationRunner logHost(HostFacts host, AgentProperties props, ObjectProvider<BuildProperties> build,
            ObjectProvider<GitProperties> git) {
        return args -> {
            log.info("device agent on {}: {} {} ({}), {}, chip {}, {} bytes RAM, offering {}; registry {}", host.hostName(),
                    host.osName(), host.osVersion(), host.osBuild(), host.cpuBrand(),
                    host.chip() == null ? "none" : host.chip(), host.memoryBytes(), host.runtimes(),
                    props.registry().url());
            // What the registry and the worker show at /actuator/info: the agent has no web server, so its log says it.
            BuildProperties b = build.getIfAvailable();
            GitProperties g = git.getIfAvailable();
            log.info("device agent version {}, commit {} ({})", b == null ? "unknown" : b.getVersion(),
                    g == null || g.getShortCommitId() == null ? "unknown" : g.getShortCommitId(),
                    g == null || g.getCommitTime() == null ? "no commit time" : g.getCommitTime());
            if (props.registry().token().isBlank()) {
                log.warn("aneforge.agent.registry.token is empty: the registry will refuse this agent"
                        + " (set ANEFORGE_AGENT_REGISTRY_TOKEN)");
            }
        };
    }
}
