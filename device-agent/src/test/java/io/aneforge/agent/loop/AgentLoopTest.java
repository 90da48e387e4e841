package io.aneforge.agent.loop;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.bench.Provenance;
import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.registry.AgentRegistration;
import io.aneforge.agent.registry.HandBack;
import io.aneforge.agent.registry.HeartbeatAck;
import io.aneforge.agent.registry.HttpRegistryClient;
import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import io.aneforge.agent.registry.RegistryClient;
import io.aneforge.agent.registry.RegistryException;
import io.aneforge.agent.watchdog.RuntimeCallWatch;
import io.aneforge.eval.FidelityReport;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeOptions;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AgentLoop} against registry stand-ins (and once the real {@link HttpRegistryClient} against a
 * stand-in server): stale heartbeat answers, answers it cannot read, errors from jobs, refused reports.
 * The loop against the real registry is {@code AgentFleetTest} (registry-api).
 */
class AgentLoopTest {

    private static final HostFacts HOST = new HostFacts("loop-host", "Linux", "6.1", "#1", "x86_64", "Xeon", 8L << 30,
            null, List.of("reference-cpu"));

    private static JobLease lease(String id) {
        ArtifactRef a = new ArtifactRef("a".repeat(64), 1, URI.create("http://x/a"));
        return new JobLease("lease-" + id, "job-" + id, 1, JobLease.Kind.ACCURACY, "m", 1, "v", a, "reference-cpu",
                new RuntimeOptions("cpuOnly", false, 0), BenchmarkProtocol.defaults(), a, a,
                Instant.now().plusSeconds(300));
    }

    private static JobReport done(JobLease l) {
        return JobReport.failed(l, "done (a failed report is enough to see it delivered)");
    }

    private static JobReport succeeded(JobLease l) {
        return JobReport.succeeded(l, new Provenance(HOST, "reference-cpu", "1", RuntimeOptions.defaults(), null,
                Instant.now()), null, Map.of("out", new FidelityReport(1, 4, 1, 1, 1, 0, 0, 200, null)));
    }

    /** A registry stand-in: leases {@code jobs} in order, then none; records reports and releases. */
    private static class Registry implements RegistryClient {
        final List<JobLease> jobs;
        final AtomicInteger leases = new AtomicInteger();
        final List<JobReport> reports = new CopyOnWriteArrayList<>();
        final List<String> released = new CopyOnWriteArrayList<>();
        /** Whether each release said trouble (counted by the registry). */
        final List<Boolean> trouble = new CopyOnWriteArrayList<>();
        Function<JobReport, RuntimeException> refuse = r -> null;
        /** The registry's answer to a release (by job id): released unless a test says otherwise. */
        Function<String, HandBack> verdict = jobId -> new HandBack(jobId, HandBack.RELEASED, null);

        Registry(JobLease... jobs) {
            this.jobs = List.of(jobs);
        }

        public AgentRegistration register(HostFacts h) {
            return new AgentRegistration("agent-1", Duration.ofSeconds(10));
        }

        public HeartbeatAck heartbeat(String id, List<String> held) {
            return new HeartbeatAck(Instant.now(), List.of(), false);
        }

        public Optional<JobLease> lease(String id, Duration wait) {
            int n = leases.getAndIncrement();
            if (n < jobs.size()) {
                return Optional.of(jobs.get(n));
            }
            sleep(20);
            return Optional.empty();
        }

        public void report(String id, JobReport r) {
            RuntimeException e = refuse.apply(r);
            if (e != null) {
                throw e;
            }
            reports.add(r);
        }

        public HandBack release(String id, String jobId, String leaseId, String reason, boolean t) {
            released.add(leaseId + ": " + reason);
            trouble.add(t);
            return verdict.apply(jobId);
        }

        public HandBack releaseLeaseRequest(String id, String request, String reason, boolean trouble) {
            throw new UnsupportedOperationException("not used by these tests");
        }

        public void drain(String id, boolean d) {
        }
    }

    /** The stand-in registry that also logs its calls in order: register and lease here, more in a test's overrides. */
    private static class LoggingRegistry extends Registry {
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public AgentRegistration register(HostFacts h) {
            calls.add("register");
            return super.register(h);
        }

        @Override
        public Optional<JobLease> lease(String id, Duration wait) {
            calls.add("lease");
            return super.lease(id, wait);
        }
    }

    /** A job executor that fails {@code t} with transient trouble (counting its runs) and reports any other as done. */
    private static JobExecutor troubleFor(JobLease t, AtomicInteger runs) {
        return l -> {
            if (l == t) {
                runs.incrementAndGet();
                throw new TransientJobException("download of artifact x answered HTTP 503", false, null);
            }
            return done(l);
        };
    }

    /**
     * A heartbeat that listed lease A is answered "A lost" (A was just reported, so the registry no longer
     * holds it) after the loop has moved on to lease B: the stale answer must not flag B as lost.
     */
    @Test
    void aStaleHeartbeatAnswerForTheFinishedLeaseDoesNotDropTheNextJob() {
        JobLease a = lease("A");
        JobLease b = lease("B");
        CountDownLatch heartbeatWithA = new CountDownLatch(1);
        CountDownLatch bStarted = new CountDownLatch(1);
        CountDownLatch staleAckDelivered = new CountDownLatch(1);
        Registry client = new Registry(a, b) {
            @Override
            public AgentRegistration register(HostFacts h) {
                return new AgentRegistration("agent-1", Duration.ofMillis(20));
            }

            @Override
            public HeartbeatAck heartbeat(String id, List<String> held) {
                if (held.contains(a.leaseId()) && heartbeatWithA.getCount() > 0) {
                    heartbeatWithA.countDown();
                    await(bStarted); // the answer arrives late: the loop has reported A and leased B meanwhile
                    staleAckDelivered.countDown();
                    return new HeartbeatAck(Instant.now(), List.of(a.leaseId()), false);
                }
                return super.heartbeat(id, held);
            }
        };
        AgentLoop loop = new AgentLoop(client, HOST, l -> {
            if (l == a) {
                await(heartbeatWithA); // A finishes while a heartbeat naming A is in flight
            } else {
                bStarted.countDown();
                await(staleAckDelivered);
                sleep(100); // let the heartbeat thread apply the stale answer
            }
            return done(l);
        }, Duration.ofMillis(10), Duration.ofMillis(10));
        runUntil(loop, () -> client.reports.size() >= 2);
        assertThat(client.reports).extracting(JobReport::leaseId).containsExactly(a.leaseId(), b.leaseId());
    }

    /**
     * A runtime that never returns from its load (a native call ignoring interrupts), watched by the real
     * {@link RuntimeCallWatch} with a 200 ms bound. Once past it, the heartbeat thread gives the job up: the job is
     * reported failed naming the job, the runtime call and the bound, the lease is no longer named in heartbeats, and
     * what the call returns later is not reported. With the report refused too (the registry unreachable), the lease
     * is simply no longer extended, so it expires and the registry leases the job again.
     */
    @Test
    void aRuntimeCallPastItsBoundGivesTheJobUpAndStopsExtendingItsLease() {
        for (boolean registryAnswersReports : new boolean[] {true, false}) {
            JobLease a = lease("stuck");
            List<List<String>> heartbeats = new CopyOnWriteArrayList<>();
            Registry client = new Registry(a) {
                @Override
                public AgentRegistration register(HostFacts h) {
                    return new AgentRegistration("agent-1", Duration.ofMillis(20));
                }

                @Override
                public HeartbeatAck heartbeat(String id, List<String> held) {
                    heartbeats.add(held);
                    return super.heartbeat(id, held);
                }
            };
            if (!registryAnswersReports) {
                client.refuse = r -> new RegistryException("registry unreachable", 0, true, null);
            }
            CountDownLatch unstick = new CountDownLatch(1);
            RuntimeCallWatch watch = new RuntimeCallWatch(Duration.ofMillis(200));
            JobExecutor executor = new JobExecutor() {
                @Override
                public JobReport execute(JobLease l) {
                    ModelRuntime runtime = watch.around(new NeverLoads(unstick), "accuracy job " + l.jobId());
                    try (LoadedModel m = runtime.load(Path.of("model.mlpackage"), l.options())) {
                        return succeeded(l);
                    }
                }

                @Override
                public Optional<String> overrunningCall() {
                    return watch.overrun();
                }
            };
            AgentLoop loop = new AgentLoop(client, HOST, executor, Duration.ofMillis(10), Duration.ofMillis(10));
            loop.start();
            try {
                waitFor(() -> watch.overrun().isPresent() && heartbeats.size() > 2 && heartbeats.get(heartbeats.size() - 1).isEmpty());
                assertThat(watch.overrun()).hasValueSatisfying(o -> assertThat(o)
                        .contains("runtime reference-cpu's load call for accuracy job job-stuck", "aneforge.agent.max-runtime-call"));
                assertThat(heartbeats).as("the lease was extended while the call ran").anySatisfy(h -> assertThat(h).contains(a.leaseId()));
                int given = heartbeats.size();
                sleep(100);
                List<List<String>> seen = List.copyOf(heartbeats); // a copy-on-write list's subList fails once the list grows
                assertThat(seen.subList(given - 1, seen.size())).as("no longer extended once given up")
                        .allSatisfy(h -> assertThat(h).isEmpty());
                if (registryAnswersReports) {
                    assertThat(client.reports).singleElement().satisfies(r -> {
                        assertThat(r.outcome()).isEqualTo(JobReport.Outcome.FAILED);
                        assertThat(r.failure()).contains("agent loop-host", "load call for accuracy job job-stuck",
                                "aneforge.agent.max-runtime-call (200 ms", "ANEFORGE_AGENT_MAX_RUNTIME_CALL");
                    });
                } else {
                    assertThat(client.reports).isEmpty();
                }
                unstick.countDown(); // the call returns after all: its result is not reported, the loop goes on
                waitFor(() -> client.leases.get() >= 3);
                assertThat(watch.overrun()).isEmpty();
                assertThat(client.reports).as("the late result is dropped").hasSize(registryAnswersReports ? 1 : 0);
                assertThat(loop.isRunning()).isTrue();
            } finally {
                unstick.countDown();
                loop.halt();
            }
        }
    }

    /**
     * After the job of a stuck call is given up, heartbeats go on, so the registry would list a wedged agent online for
     * ever (and launchd has no liveness probe): when the call is still stuck the grace later, the loop tells its
     * still-stuck handler (the application exits 1 for its supervisor), once, and not before the grace. A call that
     * returns within the grace does not tell it: the loop goes on.
     */
    @Test
    void aCallStillStuckAGracePeriodAfterItWasGivenUpEndsTheAgent() throws Exception {
        for (boolean returnsWithinGrace : new boolean[] {false, true}) {
            JobLease a = lease("wedged");
            List<Instant> reportedAt = new CopyOnWriteArrayList<>();
            Registry client = new Registry(a) {
                @Override
                public AgentRegistration register(HostFacts h) {
                    return new AgentRegistration("agent-1", Duration.ofMillis(20));
                }

                @Override
                public void report(String id, JobReport r) {
                    reportedAt.add(Instant.now());
                    super.report(id, r);
                }
            };
            CountDownLatch unstick = new CountDownLatch(1);
            RuntimeCallWatch watch = new RuntimeCallWatch(Duration.ofMillis(100));
            JobExecutor executor = new JobExecutor() {
                @Override
                public JobReport execute(JobLease l) {
                    try (LoadedModel m = watch.around(new NeverLoads(unstick), "accuracy job " + l.jobId())
                            .load(Path.of("model.mlpackage"), l.options())) {
                        return succeeded(l);
                    }
                }

                @Override
                public Optional<String> overrunningCall() {
                    return watch.overrun();
                }
            };
            List<String> stillStuck = new CopyOnWriteArrayList<>();
            List<Instant> toldAt = new CopyOnWriteArrayList<>();
            Duration grace = Duration.ofMillis(400);
            AgentLoop loop = new AgentLoop(client, HOST, executor, Duration.ofMillis(10), Duration.ofMillis(10))
                    .onStillStuck(grace, why -> {
                        toldAt.add(Instant.now());
                        stillStuck.add(why);
                    });
            loop.start();
            try {
                waitFor(() -> !client.reports.isEmpty());
                assertThat(client.reports).singleElement().satisfies(r -> assertThat(r.outcome())
                        .isEqualTo(JobReport.Outcome.FAILED));
                if (returnsWithinGrace) {
                    unstick.countDown();
                    sleep(grace.toMillis() * 2);
                    assertThat(stillStuck).as("the call returned within the grace").isEmpty();
                    waitFor(() -> client.leases.get() >= 3);
                    assertThat(loop.isRunning()).isTrue();
                } else {
                    waitFor(() -> !stillStuck.isEmpty());
                    assertThat(stillStuck).singleElement().satisfies(why -> assertThat(why).contains("job job-wedged",
                            "lease lease-wedged", "given up 400 ms ago (aneforge.agent.stuck-exit-grace)",
                            "still has not returned"));
                    assertThat(Duration.between(reportedAt.get(0), toldAt.get(0))).as("not before the grace")
                            .isGreaterThanOrEqualTo(grace);
                    sleep(200);
                    assertThat(stillStuck).as("told once").hasSize(1);
                }
            } finally {
                unstick.countDown();
                loop.halt();
            }
        }
    }

    /** A runtime whose load blocks until released and ignores interrupts, as a native call does. */
    private record NeverLoads(CountDownLatch released) implements ModelRuntime {
        @Override public String id() { return "reference-cpu"; }
        @Override public String version() { return "stuck-1"; }
        @Override public boolean isAvailable() { return true; }
        @Override public LoadedModel load(Path mlpackage, RuntimeOptions options) {
            boolean interrupted = false;
            while (true) {
                try {
                    released.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return new LoadedModel() {
                @Override public Map<String, io.aneforge.tensor.FloatTensor> predict(Map<String, io.aneforge.tensor.FloatTensor> in) {
                    return Map.of();
                }
                @Override public void close() {}
            };
        }
    }

    /**
     * 200 lease answers the agent cannot parse (a job kind it does not know; a proxy's HTML page that names no lease
     * at all) do not kill the loop, and do not leave the lease to expire (which spends an attempt): the agent
     * releases the lease granted for that call by the request id it sent with the call. When that release fails
     * and the answer's ids could be read, it releases by those. Every such release is counted as trouble.
     */
    @Test
    void anUnparsableLeaseAnswerIsReleasedByItsRequestIdAndTheLoopGoesOn() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicInteger leaseCalls = new AtomicInteger();
        AtomicInteger registerCalls = new AtomicInteger();
        List<String> requests = new CopyOnWriteArrayList<>();
        List<String> calls = new CopyOnWriteArrayList<>();
        server.createContext("/api/v1/agents", ex -> {
            String path = ex.getRequestURI().getPath();
            String request = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String body;
            int status = 200;
            if (path.endsWith("/lease")) {
                int n = leaseCalls.incrementAndGet();
                String query = ex.getRequestURI().getQuery();
                requests.add(query.substring(query.indexOf("request=") + "request=".length()));
                body = n == 1 || n == 3 ? "{\"kind\":\"compile\",\"leaseId\":\"lease-" + n + "\",\"jobId\":\"42\"}"
                        : "<html>not a lease</html>";
            } else if (path.endsWith("/heartbeat")) {
                body = "{\"extendedUntil\":\"" + Instant.now() + "\",\"lostLeaseIds\":[]}";
            } else if (path.contains("/lease-requests/") && leaseCalls.get() == 3) {
                calls.add(path + " " + request);
                status = 503; // the release by request fails: the ids of this answer are the fallback
                body = "{}";
            } else if (path.endsWith("/release") || path.endsWith("/result")) {
                calls.add(path + " " + request);
                body = "{\"jobId\":42,\"outcome\":\"released\",\"handBacks\":1,\"maxHandBacks\":2}";
            } else if (registerCalls.getAndIncrement() == 0) {
                body = "{\"id\":\"agent-1\"}"; // no heartbeatIntervalMs: not understood, retried
            } else {
                body = "{\"id\":\"agent-1\",\"heartbeatIntervalMs\":1000}";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        server.start();
        try {
            HttpRegistryClient client = new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofSeconds(5));
            AgentLoop loop = new AgentLoop(client, HOST, AgentLoopTest::done, Duration.ofMillis(10), Duration.ofMillis(10));
            loop.start();
            assertThat(loop.awaitRegistered(Duration.ofSeconds(5))).isTrue();
            waitFor(() -> leaseCalls.get() >= 5);
            boolean alive = loop.isRunning();
            int leases = leaseCalls.get();
            loop.halt();
            assertThat(registerCalls.get()).isEqualTo(2);
            assertThat(alive).as("agent loop thread alive after %d lease call(s)", leases).isTrue();
            assertThat(requests).as("a fresh request id per lease call").doesNotHaveDuplicates()
                    .allSatisfy(r -> assertThat(java.util.UUID.fromString(r)).isNotNull());
            assertThat(calls.size()).isGreaterThanOrEqualTo(4);
            // 1: a job kind the agent does not know: released by the request id
            assertThat(calls.get(0)).startsWith("/api/v1/agents/agent-1/lease-requests/" + requests.get(0) + "/release ")
                    .contains("could not read the registry's lease answer for job 42", "No enum constant");
            // 2: an HTML page naming nothing: released by the request id all the same
            assertThat(calls.get(1)).startsWith("/api/v1/agents/agent-1/lease-requests/" + requests.get(1) + "/release ")
                    .contains("could not read the registry's lease answer", "not a lease");
            // 3: the release by request fails (503): the ids read from the answer are the fallback, counted as trouble
            assertThat(calls.get(2)).startsWith("/api/v1/agents/agent-1/lease-requests/" + requests.get(2) + "/release ");
            assertThat(calls.get(3)).startsWith("/api/v1/agents/agent-1/jobs/42/release ")
                    .contains("\"leaseId\":\"lease-3\"", "\"trouble\":true");
            assertThat(calls).noneMatch(c -> c.contains("/result"));
        } finally {
            server.stop(0);
        }
    }

    /**
     * Lease calls whose answers are lost (the connection closed without an answer, as a reset): the agent releases
     * the lease granted for each by its request id. For the first call the release finds nothing yet ({@code none}:
     * the call may still be granted); the loop does not lease again before the call's grant window (the 10 ms wait
     * and the 500 ms timeout) closed, and sends the release once more first, when it releases job 42. The second
     * call's releases are all lost: tried again after pauses that double, and kept (a lease granted for it would
     * last minutes). The loop goes on throughout. (Against the real registry: HandBackTest in registry-api.)
     */
    @Test
    void aLostLeaseAnswerIsReleasedByRequestAgainAfterItsWindowAndFailedReleasesAreRetriedBoundedly() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        AtomicInteger leaseCalls = new AtomicInteger();
        List<String> requests = new CopyOnWriteArrayList<>();
        java.util.Map<String, List<Long>> releases = new java.util.concurrent.ConcurrentHashMap<>();
        List<Long> lostAt = new CopyOnWriteArrayList<>();
        server.createContext("/api/v1/agents", ex -> {
            String path = ex.getRequestURI().getPath();
            ex.getRequestBody().readAllBytes();
            String body;
            if (path.endsWith("/lease")) {
                int n = leaseCalls.incrementAndGet();
                if (n <= 2) {
                    String query = ex.getRequestURI().getQuery();
                    requests.add(query.substring(query.indexOf("request=") + "request=".length()));
                    lostAt.add(System.nanoTime());
                    ex.close(); // the answer is lost: no status, no body
                    return;
                }
                sleep(20);
                ex.sendResponseHeaders(204, -1);
                ex.close();
                return;
            } else if (path.contains("/lease-requests/")) {
                String request = path.split("/")[6];
                List<Long> tries = releases.computeIfAbsent(request, r -> new CopyOnWriteArrayList<>());
                tries.add(System.nanoTime());
                if (requests.size() > 1 && request.equals(requests.get(1))) {
                    ex.close(); // this release is lost too
                    return;
                }
                body = tries.size() == 1 ? "{\"jobId\":null,\"outcome\":\"none\",\"handBacks\":0,\"maxHandBacks\":2}"
                        : "{\"jobId\":42,\"outcome\":\"released\",\"handBacks\":1,\"maxHandBacks\":2}";
            } else if (path.endsWith("/heartbeat")) {
                body = "{\"extendedUntil\":\"" + Instant.now() + "\",\"lostLeaseIds\":[]}";
            } else {
                body = "{\"id\":\"agent-1\",\"heartbeatIntervalMs\":1000}";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        server.start();
        try {
            HttpRegistryClient client = new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofMillis(500));
            AgentLoop loop = new AgentLoop(client, HOST, AgentLoopTest::done, Duration.ofMillis(10), Duration.ofMillis(10));
            boolean alive = runUntil(loop, () -> requests.size() == 2
                    && releases.getOrDefault(requests.get(0), List.of()).size() >= 2
                    && releases.getOrDefault(requests.get(1), List.of()).size() >= 4);
            assertThat(alive).isTrue();
            List<Long> first = releases.get(requests.get(0));
            assertThat(first).as("none (not yet), released after the window").hasSize(2);
            assertThat(TimeUnit.NANOSECONDS.toMillis(first.get(1) - lostAt.get(0)))
                    .as("the last release waits for the call's grant window (10 ms wait + 500 ms timeout)")
                    .isGreaterThanOrEqualTo(500);
            assertThat(TimeUnit.NANOSECONDS.toMillis(lostAt.get(1) - lostAt.get(0)))
                    .as("no lease call while the lost call's grant window is open").isGreaterThanOrEqualTo(500);
            assertThat(first.get(1)).as("the second release goes out before the next lease call").isLessThan(lostAt.get(1));
        } finally {
            server.stop(0);
        }
    }

    /**
     * An idle agent sits in a long poll (here one the registry would hold for a minute): drain ends that call at once
     * instead of waiting it out, and the lease the registry might have granted for the call cut short is released by
     * its request id; the registry is told of the drain before the call is cut.
     */
    @ParameterizedTest(name = "releases kept in the cache directory: {0}")
    @ValueSource(booleans = {true, false})
    void drainCutsALongPollShortAndReleasesItsLeaseByRequest(boolean keptInCacheDir, @TempDir Path cache)
            throws Exception {
        String agentId = java.util.UUID.randomUUID().toString();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        List<String> requests = new CopyOnWriteArrayList<>();
        List<String> calls = new CopyOnWriteArrayList<>();
        CountDownLatch polling = new CountDownLatch(1);
        CountDownLatch serverStops = new CountDownLatch(1);
        List<String> releaseBodies = new CopyOnWriteArrayList<>();
        server.createContext("/api/v1/agents", ex -> {
            String path = ex.getRequestURI().getPath();
            String sent = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String body;
            if (path.endsWith("/lease")) {
                String query = ex.getRequestURI().getQuery();
                requests.add(query.substring(query.indexOf("request=") + "request=".length()).split("&")[0]);
                calls.add("lease");
                polling.countDown();
                try {
                    serverStops.await(60, TimeUnit.SECONDS); // the registry's long poll: no job comes
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ex.close();
                return;
            } else if (path.contains("/lease-requests/")) {
                calls.add("release " + path.split("/")[6]);
                releaseBodies.add(sent);
                body = "{\"jobId\":null,\"outcome\":\"none\",\"handBacks\":0,\"maxHandBacks\":2}";
            } else if (path.endsWith("/drain")) {
                calls.add("drain");
                ex.sendResponseHeaders(204, -1);
                ex.close();
                return;
            } else if (path.endsWith("/heartbeat")) {
                body = "{\"extendedUntil\":\"" + Instant.now() + "\",\"lostLeaseIds\":[]}";
            } else {
                body = "{\"id\":\"" + agentId + "\",\"heartbeatIntervalMs\":10000}";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        server.start();
        AgentLoop loop = null;
        io.aneforge.agent.instance.AgentInstance slot = io.aneforge.agent.instance.AgentInstance.claim(cache);
        try {
            HttpRegistryClient client = new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofSeconds(30),
                    slot.id(), slot);
            loop = new AgentLoop(client, HOST, AgentLoopTest::done, Duration.ofSeconds(60), Duration.ofSeconds(5),
                    keptInCacheDir ? cache : null);
            loop.start();
            assertThat(polling.await(10, TimeUnit.SECONDS)).as("the agent is in its long poll").isTrue();
            sleep(200); // well inside the poll
            long start = System.nanoTime();
            loop.drain(Duration.ofMinutes(2));
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(loop.isRunning()).isFalse();
            assertThat(tookMs).as("drain does not wait out the 60 s poll (nor its 30 s request timeout)")
                    .isLessThan(5_000);
            assertThat(requests).hasSize(1);
            assertThat(calls).as("told the registry, then cut the call").startsWith("lease", "drain");
            // Released at once (none yet: the call's grant window is open) and once more as the loop ends.
            assertThat(calls.subList(2, calls.size())).as("the cut call's lease released by its request id, nothing else")
                    .containsOnly("release " + requests.get(0)).hasSizeBetween(1, 2);
            assertThat(releaseBodies).as("a drain is not trouble: the registry must not count it against the job")
                    .allSatisfy(b -> assertThat(b).contains("\"trouble\":false", "shut down during its lease call"));
            slot.close();
            // Review q, finding 3: the release kept in the cache directory covers the cut call, so its note in the
            // instance slot goes; kept, the next process would release that call again after every clean stop.
            Path note = cache.resolve("instance/0.request");
            if (keptInCacheDir) {
                assertThat(note).as("the kept release covers the call: no note").doesNotExist();
                assertThat(files(cache.resolve(UnsentReleases.DIR))).as("the release kept for the next process (its"
                        + " grant window is still open)").singleElement().asString().startsWith("request-");
                try (var next = io.aneforge.agent.instance.AgentInstance.claim(cache)) {
                    assertThat(next.unansweredLeaseCall()).as("nothing for the next process to release by note").isEmpty();
                }
            } else {
                assertThat(next(cache)).as("no release kept: the note stays for the next process to release")
                        .hasValueSatisfying(c -> assertThat(c.request()).isEqualTo(requests.get(0)));
            }
        } finally {
            slot.close();
            if (loop != null) {
                loop.halt();
            }
            serverStops.countDown();
            server.stop(0);
        }
    }

    /** The lease call the next process on {@code cache}'s first instance slot would release. */
    private static Optional<io.aneforge.agent.registry.UnansweredLeaseCall> next(Path cache) {
        try (var next = io.aneforge.agent.instance.AgentInstance.claim(cache)) {
            return next.unansweredLeaseCall();
        }
    }

    /**
     * A release by request that keeps failing (the registry answers 503, or a 401 after a token rotation) is tried
     * after pauses that double, once per pause however often the loop asks, and kept until a lease granted late would
     * have expired (the grant window plus the lease duration); a 404 drops it at once. Time is passed in.
     */
    @Test
    void aFailingReleaseByRequestBacksOffAndIsKeptForTheLeaseDuration() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        List<String> tried = new CopyOnWriteArrayList<>();
        server.createContext("/api/v1/agents", ex -> {
            ex.getRequestBody().readAllBytes();
            String request = ex.getRequestURI().getPath().split("/")[6];
            tried.add(request);
            ex.sendResponseHeaders(request.equals("gone") ? 404 : request.equals("token") ? 401 : 503, -1);
            ex.close();
        });
        server.start();
        try {
            LeaseRequestReleases pending = new LeaseRequestReleases(new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofSeconds(2)),
                    Duration.ofSeconds(1), null);
            pending.leaseLasts(Duration.ofSeconds(60));
            Instant start = Instant.now();
            pending.add("agent-1", "down", start.plusSeconds(5), "lost", 0, start);
            for (int second = 0; second < 60; second++) {
                pending.releaseDue(start.plusSeconds(second), h -> { });
            }
            assertThat(tried).as("tried at 0, 1, 3, 7, 15, 31 s: once per doubling pause").hasSize(6);
            assertThat(pending.size()).as("kept: a late grant could still be held").isEqualTo(1);
            pending.releaseDue(start.plusSeconds(65), h -> { });
            assertThat(pending.size()).as("given up once a late grant expired (window + lease)").isZero();

            tried.clear();
            pending.add("agent-1", "token", start, "lost", 0, start);
            pending.add("agent-1", "gone", start, "lost", 0, start);
            pending.releaseDue(start, h -> { });
            assertThat(pending.size()).as("a 401 is kept").isEqualTo(2);
            pending.releaseDue(start.plusSeconds(1), h -> { }); // the round stops at the 401: 'gone' waits
            pending.releaseDue(start.plusMillis(1500), h -> { }); // 'token' not due: 'gone' answered 404
            assertThat(tried).containsExactly("token", "token", "gone");
            assertThat(pending.size()).as("a 404 drops it").isEqualTo(1);
        } finally {
            server.stop(0);
        }
    }

    /**
     * A job whose input cannot be had now (a 503, a reset) is released for trouble, not failed, and against a registry
     * that counts hand-backs the agent keeps no count of its own: the registry counts such releases per job and agent (across agent restarts) and, past
     * its bound, answers that it failed the job. The agent then moves on without a report.
     */
    @Test
    void transientTroubleReleasesTheJobAndTheRegistryBoundsIt() {
        JobLease t = lease("T");
        JobLease next = lease("N");
        Registry client = new Registry(t, t, t, next); // released jobs come back (oldest first)
        AtomicInteger releases = new AtomicInteger();
        client.verdict = jobId -> releases.incrementAndGet() < 3 ? new HandBack(jobId, HandBack.RELEASED, null)
                : new HandBack(jobId, HandBack.FAILED, "agent loop-host could not run job " + jobId + " 3 times");
        AtomicInteger runs = new AtomicInteger();
        AgentLoop loop = new AgentLoop(client, HOST, troubleFor(t, runs), Duration.ofMillis(10), Duration.ofMillis(10));
        runUntil(loop, () -> client.reports.size() >= 1);
        assertThat(runs).hasValue(3);
        assertThat(client.released).hasSize(3).allSatisfy(r -> assertThat(r)
                .isEqualTo(t.leaseId() + ": agent loop-host: download of artifact x answered HTTP 503"));
        assertThat(client.trouble).containsExactly(true, true, true);
        assertThat(client.reports).as("the registry failed T; the agent reports nothing for it")
                .extracting(JobReport::leaseId).containsExactly(next.leaseId());
        assertThat(loop.hostTrouble()).isEmpty();
    }

    /**
     * A registry before V13 ignores {@code trouble} and answers every release 204 (released, not counted): the agent
     * then bounds the job's hand-backs itself, as it did before the registry counted them. The third time the job
     * hits trouble on this agent it is reported failed naming the problem, instead of being handed back for ever.
     */
    @Test
    void againstARegistryThatDoesNotCountHandBacksTheAgentReportsTheThirdTroubleAsAFailure() {
        JobLease t = lease("T");
        JobLease next = lease("N");
        Registry client = new Registry(t, t, t, next);
        client.verdict = HandBack::uncounted;
        AtomicInteger runs = new AtomicInteger();
        AgentLoop loop = new AgentLoop(client, HOST, troubleFor(t, runs), Duration.ofMillis(10), Duration.ofMillis(10));
        runUntil(loop, () -> client.reports.size() >= 2);
        assertThat(runs).hasValue(3);
        assertThat(client.released).as("handed back twice, then reported").hasSize(2);
        assertThat(client.reports).extracting(JobReport::leaseId).containsExactly(t.leaseId(), next.leaseId());
        JobReport failed = client.reports.get(0);
        assertThat(failed.outcome()).isEqualTo(JobReport.Outcome.FAILED);
        assertThat(failed.failure()).contains("agent loop-host could not run job job-T 3 times",
                "this registry does not count hand-backs", "the last: download of artifact x answered HTTP 503");
    }

    /**
     * A registry that counts hand-backs leaves the bound to the registry: the agent keeps handing the job back
     * (here the registry never fails it), no local count fails it.
     */
    @Test
    void aRegistryThatCountsHandBacksKeepsTheBoundToItself() {
        JobLease t = lease("T");
        JobLease next = lease("N");
        Registry client = new Registry(t, t, t, t, next);
        AgentLoop loop = new AgentLoop(client, HOST, troubleFor(t, new AtomicInteger()), Duration.ofMillis(10),
                Duration.ofMillis(10));
        runUntil(loop, () -> client.reports.size() >= 1);
        assertThat(client.released).hasSize(4);
        assertThat(client.reports).extracting(JobReport::leaseId).containsExactly(next.leaseId());
    }

    /**
     * The release by request id answers {@code none} (a registry instance on older code ignored ?request= and kept
     * no request id with the lease): when the unreadable answer's ids could be read, the lease is released by those.
     * Without ids, {@code none} means there is nothing to release.
     */
    @Test
    void aReleaseByRequestThatFindsNothingFallsBackToTheAnswersIds() {
        JobLease next = lease("N");
        AtomicInteger leaseCalls = new AtomicInteger();
        List<String> requests = new CopyOnWriteArrayList<>();
        Registry client = new Registry() {
            @Override
            public Optional<JobLease> lease(String id, Duration wait) {
                int n = leaseCalls.incrementAndGet();
                if (n == 1) {
                    throw new io.aneforge.agent.registry.UnreadableLeaseException("lease answer not understood",
                            "req-1", "lease-U", "job-U", null);
                }
                if (n == 2) {
                    throw new io.aneforge.agent.registry.UnreadableLeaseException("lease answer is not JSON",
                            "req-2", null, null, null);
                }
                if (n == 3) {
                    return Optional.of(next);
                }
                sleep(20);
                return Optional.empty();
            }

            @Override
            public HandBack releaseLeaseRequest(String id, String request, String reason, boolean trouble) {
                requests.add(request);
                return new HandBack(null, HandBack.NONE, null);
            }
        };
        AgentLoop loop = new AgentLoop(client, HOST, AgentLoopTest::done, Duration.ofMillis(10), Duration.ofMillis(10));
        runUntil(loop, () -> client.reports.size() >= 1);
        assertThat(requests).containsExactly("req-1", "req-2");
        assertThat(client.released).singleElement().asString()
                .startsWith("lease-U: agent loop-host could not read the registry's lease answer for job job-U");
        assertThat(client.trouble).containsExactly(true);
    }

    /**
     * Host trouble (a full disk): the job is released, and the agent takes no job until the executor says the host
     * is fixed; meanwhile hostTrouble() names the problem.
     */
    @Test
    void hostTroubleStopsLeasingUntilTheHostIsFixed() {
        JobLease h = lease("H");
        JobLease next = lease("N");
        Registry client = new Registry(h, next);
        AtomicInteger checks = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean fixed = new java.util.concurrent.atomic.AtomicBoolean();
        JobExecutor executor = new JobExecutor() {
            @Override
            public JobReport execute(JobLease l) {
                if (l == h) {
                    throw new TransientJobException("cannot write artifact x: the disk is full", true, null);
                }
                return done(l);
            }

            @Override
            public Optional<String> hostProblem() {
                checks.incrementAndGet();
                return fixed.get() ? Optional.empty() : Optional.of("cannot write into the artifact cache: disk full");
            }
        };
        AgentLoop loop = new AgentLoop(client, HOST, executor, Duration.ofMillis(10), Duration.ofMillis(10));
        loop.start();
        waitFor(() -> checks.get() >= 4);
        int leasesWhileBroken = client.leases.get();
        Optional<String> health = loop.hostTrouble();
        sleep(100);
        int leasesLater = client.leases.get();
        fixed.set(true);
        waitFor(() -> client.reports.size() >= 1);
        Optional<String> healthAfter = loop.hostTrouble();
        loop.halt();
        assertThat(client.released).singleElement().asString()
                .isEqualTo(h.leaseId() + ": agent loop-host: cannot write artifact x: the disk is full");
        assertThat(leasesWhileBroken).isEqualTo(1);
        assertThat(leasesLater).as("no lease while the host is broken").isEqualTo(1);
        assertThat(health).contains("cannot write into the artifact cache: disk full");
        assertThat(client.reports).extracting(JobReport::leaseId).containsExactly(next.leaseId());
        assertThat(healthAfter).isEmpty();
    }

    /** An Error from the job (a JNA LinkageError, say) is reported as the job's failure; the loop goes on. */
    @Test
    void anErrorFromAJobIsReportedAndTheLoopGoesOn() {
        JobLease e = lease("E");
        JobLease next = lease("N");
        Registry client = new Registry(e, next);
        AgentLoop loop = new AgentLoop(client, HOST, l -> {
            if (l == e) {
                throw new UnsatisfiedLinkError("simulated: CoreML framework");
            }
            return done(l);
        }, Duration.ofMillis(10), Duration.ofMillis(10));
        boolean alive = runUntil(loop, () -> client.reports.size() >= 2);
        assertThat(client.reports).extracting(JobReport::leaseId).containsExactly(e.leaseId(), next.leaseId());
        assertThat(client.reports.get(0).failure()).contains("UnsatisfiedLinkError", "simulated: CoreML framework");
        assertThat(alive).isTrue();
    }

    /** Out of memory: the job is reported, then the loop ends through onCrash (the application exits non-zero). */
    @Test
    void aVirtualMachineErrorIsReportedThenEndsTheLoop() throws Exception {
        JobLease e = lease("OOM");
        Registry client = new Registry(e);
        CompletableFuture<Throwable> crashed = new CompletableFuture<>();
        AgentLoop loop = new AgentLoop(client, HOST, l -> {
            throw new OutOfMemoryError("simulated: golden blob");
        }, Duration.ofMillis(10), Duration.ofMillis(10)).onCrash(crashed::complete);
        loop.start();
        assertThat(crashed.get(10, TimeUnit.SECONDS)).isInstanceOf(OutOfMemoryError.class);
        waitFor(() -> !loop.isRunning());
        assertThat(loop.isRunning()).isFalse();
        assertThat(client.reports).singleElement().satisfies(r -> {
            assertThat(r.leaseId()).isEqualTo(e.leaseId());
            assertThat(r.failure()).contains("OutOfMemoryError", "simulated: golden blob");
        });
        assertThat(client.leases.get()).isEqualTo(1);
    }

    /**
     * A succeeded report refused with 400 invalid-result: a failed report naming the refusal follows, so the
     * job fails with the real reason instead of staying leased until it expires (and running again elsewhere).
     */
    @Test
    void aRefusedReportIsFollowedByAFailedReportNamingTheRefusal() {
        JobLease r = lease("R");
        Registry client = new Registry(r);
        client.refuse = rep -> rep.outcome() == JobReport.Outcome.SUCCEEDED
                ? new RegistryException("POST /api/v1/agents/agent-1/jobs/job-R/result answered HTTP 400 invalid-result:"
                        + " field 'fidelity.out.cosineMin' must be in [-1, 1]", 400, false, null)
                : null;
        AgentLoop loop = new AgentLoop(client, HOST, AgentLoopTest::succeeded, Duration.ofMillis(10), Duration.ofMillis(10));
        runUntil(loop, () -> !client.reports.isEmpty());
        assertThat(client.reports).singleElement().satisfies(rep -> {
            assertThat(rep.outcome()).isEqualTo(JobReport.Outcome.FAILED);
            assertThat(rep.leaseId()).isEqualTo(r.leaseId());
            assertThat(rep.failure()).contains("succeeded report of job job-R was refused", "invalid-result",
                    "fidelity.out.cosineMin");
        });
        assertThat(client.released).isEmpty();
    }

    /** When the failed report is refused too, the lease is released rather than left to expire. */
    @Test
    void aLeaseWhoseReportsAreAllRefusedIsReleased() {
        JobLease r = lease("X");
        Registry client = new Registry(r);
        client.refuse = rep -> new RegistryException("answered HTTP 400 invalid-result", 400, false, null);
        AgentLoop loop = new AgentLoop(client, HOST, AgentLoopTest::succeeded, Duration.ofMillis(10), Duration.ofMillis(10));
        boolean alive = runUntil(loop, () -> !client.released.isEmpty());
        assertThat(client.reports).isEmpty();
        assertThat(client.released).singleElement().asString()
                .startsWith(r.leaseId() + ": agent loop-host could not report job job-X");
        assertThat(alive).isTrue();
    }

    /**
     * Registration: a race (409 agent-registration-race) is retried at the backoff like an outage; a refusal that
     * needs a person (here a 401) is named by registrationRefused() and retried at a pause that doubles, until it
     * passes. (The real registry's 409 host-owned-by-another-token and the one ERROR line: AgentHostOwnershipTest
     * in registry-api.)
     */
    @Test
    void aRefusedRegistrationIsRetriedSlowlyAndARaceAtOnce() {
        List<Long> tries = new CopyOnWriteArrayList<>();
        CountDownLatch fix = new CountDownLatch(1);
        Registry client = new Registry() {
            @Override
            public AgentRegistration register(HostFacts h) {
                tries.add(System.nanoTime());
                if (tries.size() == 1) {
                    throw new RegistryException("POST /api/v1/agents answered HTTP 409 agent-registration-race: again",
                            409, "agent-registration-race", false, null);
                }
                if (fix.getCount() > 0) {
                    throw new RegistryException("POST /api/v1/agents answered HTTP 401 invalid-token: revoked", 401,
                            "invalid-token", false, null);
                }
                return super.register(h);
            }
        };
        AgentLoop loop = new AgentLoop(client, HOST, AgentLoopTest::done, Duration.ofMillis(10), Duration.ofMillis(20));
        loop.start();
        try {
            waitFor(() -> tries.size() >= 6);
            assertThat(loop.agentId()).isNull();
            assertThat(loop.registrationRefused()).get().asString().contains("401 invalid-token");
            // after the race: 20 ms; after the refusals: 20, 40, 80, 160 ms
            long[] gaps = new long[5];
            for (int i = 0; i < 5; i++) gaps[i] = TimeUnit.NANOSECONDS.toMillis(tries.get(i + 1) - tries.get(i));
            assertThat(gaps[0]).as("race retried at the backoff").isLessThan(200);
            assertThat(gaps[4]).as("refusals back off: %s", java.util.Arrays.toString(gaps)).isGreaterThanOrEqualTo(150);
            fix.countDown();
            waitFor(() -> loop.agentId() != null);
            assertThat(loop.agentId()).isEqualTo("agent-1");
            assertThat(loop.registrationRefused()).isEmpty();
        } finally {
            loop.halt();
        }
    }

    /**
     * The registry is unreachable when the agent releases (a lease answer lost, then a job that hit trouble): both
     * releases are kept in the cache directory, and the agent is stopped like a crash. A new agent on the same cache
     * directory, with the registry back, sends them before its first lease call (as recorded: the trouble flag, the
     * reason) and forgets them. In memory only, the restart would have lost both and the leases expired.
     */
    @Test
    void releasesThatDidNotGetThroughAreSentByTheNextAgentOnTheCacheDirectory(@TempDir Path cache) {
        JobLease a = lease("a");
        List<String> calls = new CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean down = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicBoolean lostOne = new java.util.concurrent.atomic.AtomicBoolean();
        Registry registry = new Registry(a) {
            @Override
            public Optional<JobLease> lease(String id, Duration wait) {
                calls.add("lease");
                if (lostOne.compareAndSet(false, true)) {
                    throw new io.aneforge.agent.registry.LeaseAnswerLostException(
                            new RegistryException("connection reset", -1, true, null), "req-1", Instant.now());
                }
                return down.get() ? super.lease(id, wait) : Optional.empty();
            }

            @Override
            public HandBack release(String id, String jobId, String leaseId, String reason, boolean t) {
                calls.add("release " + jobId + (t ? " trouble" : ""));
                if (down.get()) {
                    throw new RegistryException("HTTP 503", 503, true, null);
                }
                return super.release(id, jobId, leaseId, reason, t);
            }

            @Override
            public HandBack releaseLeaseRequest(String id, String request, String reason, boolean trouble) {
                calls.add("release request " + request);
                if (down.get()) {
                    throw new RegistryException("connection refused", -1, true, null);
                }
                return new HandBack("job-x", HandBack.RELEASED, null);
            }
        };
        AgentLoop first = new AgentLoop(registry, HOST, l -> {
            throw new TransientJobException("artifact download answered HTTP 503", false, null);
        }, Duration.ofMillis(10), Duration.ofMillis(10), cache);
        first.start();
        Path kept = cache.resolve(UnsentReleases.DIR);
        waitFor(() -> calls.contains("release job-a trouble") && files(kept).size() == 2);
        first.halt();
        waitFor(() -> !first.isRunning()); // a call it was in the middle of must not land after the restart
        assertThat(first.isRunning()).isFalse();
        assertThat(files(kept)).as("one release of a lease in hand, one by request")
                .anyMatch(f -> f.startsWith("lease-")).anyMatch(f -> f.startsWith("request-")).hasSize(2);

        calls.clear();
        down.set(false);
        Registry registering = new Registry() {
            @Override
            public AgentRegistration register(HostFacts h) {
                calls.add("register");
                return registry.register(h);
            }

            @Override
            public Optional<JobLease> lease(String id, Duration wait) {
                return registry.lease(id, wait);
            }

            @Override
            public HandBack release(String id, String jobId, String leaseId, String reason, boolean t) {
                return registry.release(id, jobId, leaseId, reason, t);
            }

            @Override
            public HandBack releaseLeaseRequest(String id, String request, String reason, boolean trouble) {
                return registry.releaseLeaseRequest(id, request, reason, trouble);
            }
        };
        AgentLoop restarted = new AgentLoop(registering, HOST, AgentLoopTest::done, Duration.ofMillis(10),
                Duration.ofMillis(10), cache);
        runUntil(restarted, () -> calls.contains("lease"));
        // Before the registration, whose hand-back of this instance's leases the registry counts like trouble: a
        // release kept without trouble (a drain's) must reach the registry first, as it was recorded.
        assertThat(calls.subList(0, 4)).as("both releases before the registration and the first lease call")
                .containsExactly("release job-a trouble", "release request req-1", "register", "lease");
        assertThat(registry.released).last().asString().startsWith("lease-a: agent loop-host: artifact download"
                + " answered HTTP 503").endsWith("(sent again: the first release did not get through)");
        assertThat(files(kept)).as("delivered, so forgotten").isEmpty();
    }

    /**
     * The previous process on this agent's instance slot ended during a lease call (nearly always the long poll of an
     * idle agent): the next one releases that call by request before it registers, without trouble (the job never
     * reached an agent), once (the registry since V15 refuses a grant to a call released before it), and leases at
     * once: no grant window to wait out. A drain release kept in the cache directory goes before the registration too,
     * still without trouble.
     */
    @Test
    void theLeaseCallAnEndedProcessLeftUnansweredIsReleasedBeforeRegisteringWithoutTrouble(@TempDir Path cache) {
        String request = java.util.UUID.randomUUID().toString();
        String agent0 = java.util.UUID.randomUUID().toString(); // the registry's agent ids are UUIDs, and a note's must be
        List<String> reasons = new CopyOnWriteArrayList<>();
        new UnsentReleases(cache).record(new UnsentReleases.LeaseRelease(agent0, "job-d", "lease-d",
                "agent loop-host shut down before job job-d finished", false, Instant.now()));
        LoggingRegistry registry = new LoggingRegistry() {
            @Override
            public HandBack release(String id, String jobId, String leaseId, String reason, boolean t) {
                calls.add("release " + jobId + " as " + id + (t ? " trouble" : ""));
                return super.release(id, jobId, leaseId, reason, t);
            }

            @Override
            public HandBack releaseLeaseRequest(String id, String req, String reason, boolean trouble) {
                calls.add("release request " + req + " as " + id + (trouble ? " trouble" : ""));
                reasons.add(reason);
                return new HandBack(null, HandBack.NONE, null);
            }
        };
        Instant sent = Instant.now().minusSeconds(3);
        AgentLoop loop = new AgentLoop(registry, HOST, AgentLoopTest::done, Duration.ofMillis(10), Duration.ofMillis(10),
                cache).releaseFirst(Optional.of(new io.aneforge.agent.registry.UnansweredLeaseCall(agent0, request,
                        sent)));
        List<String> calls = registry.calls;
        runUntil(loop, () -> calls.contains("lease"));
        assertThat(calls.subList(0, 4)).containsExactly("release job-d as " + agent0, "release request " + request
                + " as " + agent0, "register", "lease");
        assertThat(calls).as("released once: 'none' is final for it").containsOnlyOnce("release request " + request
                + " as " + agent0);
        assertThat(reasons).singleElement().asString().contains("process ended during this lease call (sent " + sent);
        assertThat(files(cache.resolve(UnsentReleases.DIR))).as("answered, so forgotten").isEmpty();
    }

    /**
     * Review q, finding 1: the kept releases without trouble (a drain's release of a lease in hand, the release of the
     * lease call an ended process left unanswered) must reach the registry before the registration, which would hand
     * their jobs back counted like trouble. When their first try fails (a 503), the agent does not register in the
     * same pass but tries them again after a pause, and registers once they got through. A kept release for trouble
     * that keeps failing does not hold the registration up: its hand-back is counted either way.
     */
    @Test
    void aKeptReleaseWithoutTroubleThatFailsIsTriedAgainBeforeRegistering(@TempDir Path cache) {
        String request = java.util.UUID.randomUUID().toString();
        String agent0 = java.util.UUID.randomUUID().toString();
        UnsentReleases kept = new UnsentReleases(cache);
        kept.record(new UnsentReleases.LeaseRelease(agent0, "job-d", "lease-d",
                "agent loop-host shut down before job job-d finished", false, Instant.now()));
        kept.record(new UnsentReleases.LeaseRelease(agent0, "job-t", "lease-t", "artifact download answered 503", true,
                Instant.now().plusMillis(1)));
        AtomicInteger leaseTries = new AtomicInteger();
        AtomicInteger requestTries = new AtomicInteger();
        LoggingRegistry registry = new LoggingRegistry() {
            @Override
            public HandBack release(String id, String jobId, String leaseId, String reason, boolean t) {
                if (jobId.equals("job-t")) {
                    calls.add("release job-t failed");
                    throw new RegistryException("HTTP 503 from a proxy", 503, true, null);
                }
                if (leaseTries.getAndIncrement() == 0) {
                    calls.add("release " + jobId + " failed");
                    throw new RegistryException("HTTP 503 from a proxy", 503, true, null);
                }
                calls.add("release " + jobId);
                return super.release(id, jobId, leaseId, reason, t);
            }

            @Override
            public HandBack releaseLeaseRequest(String id, String req, String reason, boolean trouble) {
                if (requestTries.getAndIncrement() == 0) {
                    calls.add("release request failed");
                    throw new RegistryException("timed out", -1, true, null);
                }
                calls.add("release request");
                return new HandBack(null, HandBack.NONE, null);
            }
        };
        AgentLoop loop = new AgentLoop(registry, HOST, AgentLoopTest::done, Duration.ofMillis(10), Duration.ofMillis(10),
                cache).releaseFirst(Optional.of(new io.aneforge.agent.registry.UnansweredLeaseCall(agent0, request,
                        Instant.now())));
        List<String> calls = registry.calls;
        runUntil(loop, () -> calls.contains("lease"));
        int registered = calls.indexOf("register");
        assertThat(calls.subList(0, 2)).as("the first pass: both fail, so no registration")
                .containsExactly("release job-d failed", "release request failed");
        assertThat(calls.subList(0, registered)).as("tried again before registering, both got through")
                .contains("release job-d", "release request");
        assertThat(calls.subList(registered, calls.size())).as("the release for trouble, still failing, did not hold"
                + " the registration up").contains("lease").doesNotContain("release job-d", "release request");
    }

    /**
     * A kept release without trouble that never gets through holds the registration up only until a lease it could
     * give back has expired (a lease duration, 5 min by default, after it was recorded): then the agent registers.
     */
    @Test
    void aKeptReleaseWithoutTroubleThatNeverGetsThroughHoldsTheRegistrationOnlyUntilItsLeaseExpired(
            @TempDir Path cache) {
        // recorded a lease duration ago but for 300 ms: its lease, if still held, expires then
        new UnsentReleases(cache).record(new UnsentReleases.LeaseRelease(java.util.UUID.randomUUID().toString(),
                "job-d", "lease-d", "agent loop-host shut down before job job-d finished", false, Instant.now()
                        .minus(LeaseRequestReleases.DEFAULT_LEASE_DURATION).plusMillis(300)));
        LoggingRegistry registry = new LoggingRegistry() {
            @Override
            public HandBack release(String id, String jobId, String leaseId, String reason, boolean t) {
                calls.add("release " + jobId + " failed");
                throw new RegistryException("HTTP 503 from a proxy", 503, true, null);
            }
        };
        AgentLoop loop = new AgentLoop(registry, HOST, AgentLoopTest::done, Duration.ofMillis(10), Duration.ofMillis(10),
                cache);
        List<String> calls = registry.calls;
        long start = System.nanoTime();
        runUntil(loop, () -> calls.contains("register"));
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(calls.indexOf("register")).as("tried more than once before giving up waiting").isGreaterThan(1);
        assertThat(tookMs).as("held up until its lease expired, about 300 ms, not longer").isBetween(200L, 5_000L);
    }

    /**
     * A release kept in the cache directory that does not parse is moved aside (never deleted: it is the only way to
     * give its attempt back) and does not stop the others; a record older than a day is dropped unsent.
     */
    @Test
    void anUnreadableKeptReleaseIsMovedAsideAndAnOldOneDropped(@TempDir Path cache) throws Exception {
        UnsentReleases unsent = new UnsentReleases(cache);
        Instant now = Instant.now();
        assertThat(unsent.record(new UnsentReleases.LeaseRelease("agent-1", "7", "lease-7", "why", true, now))).isTrue();
        assertThat(unsent.record(new UnsentReleases.LeaseRelease("agent-1", "8", "lease-8", "old", false,
                now.minus(Duration.ofHours(25))))).isTrue();
        assertThat(unsent.record(new UnsentReleases.RequestRelease("agent-1", "req-9", "drained", now, now, false)))
                .isTrue();
        // written before the trouble field: read as trouble, as its release was then
        java.nio.file.Files.writeString(unsent.dir().resolve("request-before.json"), "{\"agentId\":\"agent-1\","
                + "\"request\":\"req-10\",\"reason\":\"lost\",\"windowEnd\":\"" + now + "\",\"recordedAt\":\""
                + now.plusMillis(1) + "\"}");
        java.nio.file.Files.writeString(unsent.dir().resolve("lease-broken.json"), "{\"agentId\":\"agent-1\",");
        java.nio.file.Files.writeString(unsent.dir().resolve("request-noid.json"),
                "{\"agentId\":\"agent-1\",\"windowEnd\":\"" + now + "\",\"recordedAt\":\"" + now + "\"}");

        assertThat(unsent.leases(now)).singleElement().satisfies(r -> {
            assertThat(r.jobId()).isEqualTo("7");
            assertThat(r.trouble()).isTrue();
            assertThat(r.recordedAt()).isEqualTo(now);
        });
        assertThat(unsent.requests(now)).extracting(UnsentReleases.RequestRelease::request,
                UnsentReleases.RequestRelease::trouble).containsExactly(org.assertj.core.groups.Tuple.tuple("req-9", false),
                org.assertj.core.groups.Tuple.tuple("req-10", true));
        assertThat(files(unsent.dir())).as("the unreadable ones set aside, the old one gone")
                .contains("lease-broken.json.unreadable", "request-noid.json.unreadable")
                .noneMatch(f -> f.endsWith(".tmp")).hasSize(5);
    }

    private static List<String> files(Path dir) {
        if (!java.nio.file.Files.isDirectory(dir)) {
            return List.of();
        }
        try (java.util.stream.Stream<Path> s = java.nio.file.Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Runs {@code loop} until {@code condition} holds, then halts it, also when the wait fails; fails the test when the
     * condition did not hold within 10 s. Returns whether the loop was still running when the condition held.
     */
    private static boolean runUntil(AgentLoop loop, java.util.function.BooleanSupplier condition) {
        loop.start();
        try {
            boolean held = waitFor(condition);
            // Read at once: a condition that is not monotone (an exact count) may stop holding while the loop runs on.
            boolean running = loop.isRunning();
            assertThat(held).as("the condition the loop was run until did not hold within 10 s").isTrue();
            return running;
        } finally {
            loop.halt();
        }
    }

    /** Waits up to 10 s for {@code condition}; returns whether it held. */
    private static boolean waitFor(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() >= deadline) return false;
            sleep(20);
        }
        return true;
    }

    private static void await(CountDownLatch l) {
        try {
            l.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
