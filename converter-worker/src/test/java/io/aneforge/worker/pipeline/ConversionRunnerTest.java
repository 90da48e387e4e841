package io.aneforge.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import com.sun.net.httpserver.HttpServer;
import io.aneforge.worker.WorkerProperties;
import io.aneforge.worker.lease.Leases;
import io.aneforge.worker.registry.RegistryClient;
import io.aneforge.worker.workdir.WorkDirs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.dao.DataAccessResourceFailureException;

/**
 * The runner's loop without a job (a stand-in registry answering the lease call, a mocked job
 * repository): it keeps polling through answers it cannot read and repository outages, and reports a dead
 * thread on liveness. Conversions themselves: {@code ConversionEndToEndTest}, {@code CrashRecoveryTest}.
 */
class ConversionRunnerTest {

    @TempDir
    Path dir;

    private final AtomicInteger leaseCalls = new AtomicInteger();
    private final List<Object> events = new CopyOnWriteArrayList<>();
    private HttpServer server;
    private WorkerProperties props;
    private RegistryClient registry;

    /** The lease endpoint: first a proxy's maintenance page (200, HTML), then 204 (queue empty). */
    @BeforeEach
    void registry() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/conversions/lease", ex -> {
            if (leaseCalls.incrementAndGet() == 1) {
                byte[] body = "<html>maintenance</html>".getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
            } else {
                ex.sendResponseHeaders(204, -1);
            }
            ex.close();
        });
        server.start();
        props = new WorkerProperties(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "token", "w1", 1,
                dir, Duration.ofMillis(50), true);
        registry = new RegistryClient(props);
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private ConversionRunner runner(JobRepository repo) {
        return new ConversionRunner(null, repo, null, registry, new Leases(registry, props), props, new SimpleMeterRegistry(),
                events::add, new WorkDirs(props), new VariantPool(props));
    }

    private int pollFor(ConversionRunner runner, long ms) throws InterruptedException {
        runner.start();
        runner.ready();
        Thread.sleep(ms);
        int calls = leaseCalls.get();
        runner.stop();
        return calls;
    }

    /** One 200 lease answer that is not JSON (a proxy's maintenance page) does not end the worker's polling. */
    @Test
    void anUnparsableLeaseAnswerDoesNotStopPolling() throws Exception {
        JobRepository repo = mock(JobRepository.class);
        when(repo.findRunningJobExecutions(ConversionJobConfig.JOB)).thenReturn(Set.of());
        int calls = pollFor(runner(repo), 1500);
        assertThat(calls).as("lease calls in 1.5 s at a 50 ms poll interval").isGreaterThan(3);
        assertThat(events).isEmpty();
    }

    /** The job repository unreachable at start: recovery is tried again, then polling starts. */
    @Test
    void aJobRepositoryOutageAtRecoveryIsRetried() throws Exception {
        JobRepository repo = mock(JobRepository.class);
        when(repo.findRunningJobExecutions(ConversionJobConfig.JOB))
                .thenThrow(new DataAccessResourceFailureException("simulated: database down"))
                .thenReturn(Set.of());
        int calls = pollFor(runner(repo), 1500);
        assertThat(calls).isGreaterThan(3);
        assertThat(events).isEmpty();
    }

    /** If the loop's thread dies anyway (an Error), liveness says BROKEN: the worker is restarted, not left UP and idle. */
    @Test
    void aDeadRunnerThreadBreaksLiveness() throws Exception {
        JobRepository repo = mock(JobRepository.class);
        when(repo.findRunningJobExecutions(ConversionJobConfig.JOB)).thenThrow(new StackOverflowError("simulated"));
        pollFor(runner(repo), 500);
        assertThat(events).singleElement().isInstanceOfSatisfying(AvailabilityChangeEvent.class,
                e -> assertThat(e.getState()).isEqualTo(LivenessState.BROKEN));
    }
}
