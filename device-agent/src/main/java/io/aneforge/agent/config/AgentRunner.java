package io.aneforge.agent.config;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.instance.AgentInstance;
import io.aneforge.agent.loop.AgentLoop;
import io.aneforge.agent.loop.JobExecutor;
import io.aneforge.agent.registry.HttpRegistryClient;
import io.aneforge.agent.registry.RegistryClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Runs the {@link AgentLoop} for the application's lifetime. Context close (SIGTERM, via Spring
 * Boot's shutdown hook) drains it: no new job, the job in hand finishes within
 * {@code aneforge.agent.drain-timeout} or goes back to the queue. Without a token or without any
 * offered runtime the loop does not start (the log says why). If the loop dies (a
 * {@link VirtualMachineError}), or a runtime call it gave up is still stuck {@code aneforge.agent.stuck-exit-grace}
 * later, the process exits with status 1.
 */
class AgentRunner implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(AgentRunner.class);

    private final AgentProperties props;
    private final HostFacts host;
    private final JobExecutor executor;
    /** Null: no liveness file (outside a container, where nothing probes the agent). */
    private final Path livenessFile;
    private volatile AgentLoop loop;
    /** This process's instance id and the lock that keeps it this process's, while the loop runs. */
    private volatile AgentInstance instance;

    AgentRunner(AgentProperties props, HostFacts host, JobExecutor executor) {
        this(props, host, executor, null);
    }

    AgentRunner(AgentProperties props, HostFacts host, JobExecutor executor, Path livenessFile) {
        this.props = props;
        this.host = host;
        this.executor = executor;
        this.livenessFile = livenessFile;
    }

    @Override
    public void start() {
        LivenessFile alive = livenessFile == null ? null
                : new LivenessFile(livenessFile, Clock.systemUTC(), executor::overrunningCall);
        if (alive != null) {
            alive.touch(); // started; kept fresh by every registry call from here on (none without a token)
        }
        if (props.registry().token().isBlank()) {
            log.warn("not leasing jobs: aneforge.agent.registry.token is empty (set ANEFORGE_AGENT_REGISTRY_TOKEN)");
            return;
        }
        if (host.runtimes().isEmpty()) {
            log.warn("not leasing jobs: none of the configured runtimes {} is available on this host", props.runtimes());
            return;
        }
        // Held until stop (the OS lets go of it if the process dies): a restart on this cache directory registers
        // as the same instance, and the registry hands back the leases this process may die holding.
        instance = AgentInstance.claim(props.cache().dir());
        // The slot also notes each lease call until it is answered: the next process on the slot releases a call this
        // one never saw answered (the long poll an idle agent dies in), and this one releases what the last one left.
        RegistryClient client = new HttpRegistryClient(props.registry().url(), props.registry().token(),
                Duration.ofSeconds(30), instance.id(), instance);
        if (alive != null) {
            client = alive.around(client);
        }
        loop = new AgentLoop(client, host, executor, props.pollInterval(), Duration.ofSeconds(5), props.cache().dir())
                .releaseFirst(instance.unansweredLeaseCall())
                .onCrash(e -> exit())
                .onStillStuck(props.stuckExitGrace(), why -> exit());
        loop.start();
    }

    /**
     * The loop died of an error it does not survive (out of memory, after reporting the job), or its thread is stuck
     * in a runtime call given up (reported failed) past the grace: exit 1 so the supervisor (launchd KeepAlive,
     * systemd, compose, Kubernetes) starts a fresh agent. The agent is not a web app, so
     * without this the JVM would end with status 0 once the loop thread is gone, or linger. From another
     * thread: exiting runs the shutdown hook, whose drain joins the loop thread.
     */
    private static void exit() {
        new Thread(() -> System.exit(1), "aneforge-agent-exit").start();
    }

    @Override
    public void stop() {
        AgentLoop l = loop;
        if (l != null) {
            log.info("draining: finishing or releasing the job in hand (up to {})", props.drainTimeout());
            l.drain(props.drainTimeout());
            loop = null;
        }
        AgentInstance i = instance;
        if (i != null) {
            i.close();
            instance = null;
        }
    }

    @Override
    public boolean isRunning() {
        AgentLoop l = loop;
        return l != null && l.isRunning();
    }
}
