package io.aneforge.agent.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.aneforge.agent.host.HostFacts;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry client against the JDK's HTTP server. */
class HttpRegistryClientTest {

    static final HostFacts HOST = new HostFacts("test-host", "Linux", "6.1", "#1", "x86_64", "Xeon", 8L << 30, null,
            List.of("reference-cpu"));

    /**
     * A registry (or proxy) that sends the headers and part of a JSON body, then stalls: the call fails as
     * retryable instead of blocking the agent (the request timeout alone ends with the headers).
     */
    @Test
    void aStalledRegistryBodyTimesOut() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/api/v1/agents", ex -> {
            ex.sendResponseHeaders(200, 1000);
            ex.getResponseBody().write("{\"id\":".getBytes(StandardCharsets.UTF_8));
            ex.getResponseBody().flush();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        server.start();
        try {
            HttpRegistryClient client = new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofSeconds(1));
            CompletableFuture<AgentRegistration> call = CompletableFuture.supplyAsync(() -> client.register(HOST));

            assertThatThrownBy(() -> call.get(15, TimeUnit.SECONDS))
                    .as("register() with a 1 s timeout against a registry that stalled mid-body")
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(RegistryException.class)
                    .hasMessageContaining("no data from http://127.0.0.1:" + server.getAddress().getPort()
                            + "/api/v1/agents for 1 s");
            RegistryException e = (RegistryException) call.handle((r, t) -> t.getCause()).get();
            assertThat(e.retryable()).as("a stall is worth retrying").isTrue();
        } finally {
            release.countDown();
            server.stop(0);
        }
    }

    /**
     * Registration and heartbeats say which golden data format the agent reads: the registry leases it only jobs it
     * can read.
     */
    @Test
    void registrationSaysTheNewestGoldenFormatItReads() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> sent = new java.util.concurrent.atomic.AtomicReference<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/agents", ex -> {
            sent.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            byte[] body = (ex.getRequestURI().getPath().endsWith("/heartbeat")
                    ? "{\"extendedUntil\":\"2026-11-28T00:00:00Z\",\"lostLeaseIds\":[],\"draining\":false}"
                    : "{\"id\":\"a1\",\"heartbeatIntervalMs\":1000}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            HttpRegistryClient client = new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofSeconds(5));
            assertThat(client.register(HOST).agentId()).isEqualTo("a1");
            assertThat(tools.jackson.databind.json.JsonMapper.builder().build().readTree(sent.get()).path("goldenFormat")
                    .asInt()).isEqualTo(io.aneforge.eval.golden.GoldenOutputsCodec.VERSION).isEqualTo(3);
            // and on every heartbeat: a registry migrated after this agent registered learns it without a restart
            client.heartbeat("a1", List.of());
            assertThat(tools.jackson.databind.json.JsonMapper.builder().build().readTree(sent.get()).path("goldenFormat")
                    .asInt()).isEqualTo(3);
        } finally {
            server.stop(0);
        }
    }

    /**
     * A release answered 200 with a body was counted by the registry; one answered 204 (a registry before V13, which
     * ignores {@code trouble}) was not, and the agent has to bound the job's hand-backs itself.
     */
    @Test
    void aReleaseAnswered204IsNotCounted() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/agents", ex -> {
            ex.getRequestBody().readAllBytes();
            if (ex.getRequestURI().getPath().contains("/jobs/7/")) {
                ex.sendResponseHeaders(204, -1);
            } else {
                byte[] body = "{\"jobId\":8,\"outcome\":\"failed\",\"handBacks\":3,\"maxHandBacks\":2,\"failure\":\"x\"}"
                        .getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
            }
            ex.close();
        });
        server.start();
        try {
            HttpRegistryClient client = new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofSeconds(5));
            assertThat(client.release("a", "7", "l", "why", true)).isEqualTo(HandBack.uncounted("7"))
                    .matches(h -> !h.counted());
            assertThat(client.release("a", "8", "l", "why", true)).isEqualTo(new HandBack("8", HandBack.FAILED, "x"))
                    .matches(HandBack::counted);
        } finally {
            server.stop(0);
        }
    }

    /**
     * A lease call that gets no answer the agent can trust to have leased nothing: a connection closed without an
     * answer, a body cut short, an answer later than the timeout, a proxy's 502 page. Each is a
     * {@link LeaseAnswerLostException} naming the request id the call carried and a grant window that covers the wait
     * and the timeout. The registry's own 503 problem and a 400 are plain refusals: the registry ended those calls
     * without a lease.
     */
    @Test
    void leaseCallsWithoutAnAnswerNameTheirRequestAndGrantWindow() throws Exception {
        java.util.Map<String, String> requests = new java.util.concurrent.ConcurrentHashMap<>();
        CountDownLatch stop = new CountDownLatch(1);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/api/v1/agents", ex -> {
            String agent = ex.getRequestURI().getPath().split("/")[4];
            String query = ex.getRequestURI().getQuery();
            requests.put(agent, query.substring(query.indexOf("request=") + "request=".length()));
            try {
                switch (agent) {
                    case "reset" -> {
                        // closed without an answer
                    }
                    case "cut" -> {
                        ex.sendResponseHeaders(200, 1000);
                        ex.getResponseBody().write("{\"leaseId\":".getBytes(StandardCharsets.UTF_8));
                    }
                    case "late" -> stop.await(10, TimeUnit.SECONDS);
                    case "proxy" -> answer(ex, 502, "<html>502 Bad Gateway</html>");
                    case "registry" -> answer(ex, 503, "{\"type\":\"https://aneforge.io/problems/unavailable\","
                            + "\"detail\":\"database down\"}");
                    default -> answer(ex, 400, "{\"type\":\"https://aneforge.io/problems/invalid-parameter\"}");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                ex.close();
            }
        });
        server.start();
        try {
            HttpRegistryClient client = new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofMillis(500));
            for (String agent : List.of("reset", "cut", "late", "proxy")) {
                java.time.Instant before = java.time.Instant.now();
                assertThatThrownBy(() -> client.lease(agent, Duration.ofMillis(200))).as(agent)
                        .isInstanceOfSatisfying(LeaseAnswerLostException.class, e -> {
                            assertThat(e.request()).isEqualTo(requests.get(agent));
                            assertThat(e.retryable()).isTrue();
                            assertThat(e.grantWindowEnd()).as("the wait and the timeout after the failure")
                                    .isAfterOrEqualTo(before.plusMillis(700));
                        });
            }
            assertThatThrownBy(() -> client.lease("registry", Duration.ZERO))
                    .isInstanceOf(RegistryException.class).isNotInstanceOf(LeaseAnswerLostException.class)
                    .hasMessageContaining("503 unavailable");
            assertThatThrownBy(() -> client.lease("refused", Duration.ZERO))
                    .isInstanceOf(RegistryException.class).isNotInstanceOf(LeaseAnswerLostException.class);
        } finally {
            stop.countDown();
            server.stop(0);
        }
    }

    /**
     * The lease call note in the instance slot (a real {@link io.aneforge.agent.instance.AgentInstance} on a temporary
     * cache directory) per way a call ends: whatever the registry itself answered (a job, 204, a 200 it cannot read, its
     * own 4xx or 5xx problem) ends the call, so the note goes, and a job the process then runs is the registration's to
     * hand back (counted) should the process die, not the next process's to release (uncounted). No answer (a reset)
     * or a proxy's 5xx without the registry's problem keeps it: the registry may still grant that call a lease, which
     * the next process releases by the note, until the loop says the call's release is kept. A refused connection never
     * reached the registry: nothing can be granted, so the note goes.
     */
    @Test
    void theLeaseCallNoteGoesOnceTheRegistryAnsweredAndStaysWhileAnAnswerIsLost(@TempDir java.nio.file.Path cache)
            throws Exception {
        java.util.Map<String, String> kind = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.function.Function<String, String> agent = k -> {
            String id = java.util.UUID.randomUUID().toString();
            kind.put(id, k);
            return id;
        };
        String lease = "{\"leaseId\":\"l-1\",\"jobId\":\"7\",\"attempt\":1,\"kind\":\"benchmark\",\"model\":\"m\","
                + "\"version\":1,\"variant\":{\"id\":\"v\"},\"artifact\":" + blob() + ",\"runtime\":\"coreml\","
                + "\"computeUnits\":\"cpuOnly\",\"protocol\":{\"warmupIterations\":1,\"timedIterations\":1,"
                + "\"maxDurationMs\":1000},\"goldenInputs\":" + blob() + ",\"goldenOutputs\":" + blob() + ","
                + "\"expiresAt\":\"2026-11-28T10:05:00Z\"}";
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/agents", ex -> {
            try {
                switch (kind.get(ex.getRequestURI().getPath().split("/")[4])) {
                    case "job" -> answer(ex, 200, lease);
                    case "none" -> ex.sendResponseHeaders(204, -1);
                    case "unreadable" -> answer(ex, 200, "<html>a portal page</html>");
                    case "refusal" -> answer(ex, 403, "{\"type\":\"https://aneforge.io/problems/not-your-agent\","
                            + "\"detail\":\"not yours\"}");
                    case "registry-5xx" -> answer(ex, 503, "{\"type\":\"https://aneforge.io/problems/unavailable\","
                            + "\"detail\":\"database down\"}");
                    case "proxy-5xx" -> answer(ex, 502, "<html>502 Bad Gateway</html>");
                    default -> {
                        // "reset": closed without an answer
                    }
                }
            } finally {
                ex.close();
            }
        });
        server.start();
        try (io.aneforge.agent.instance.AgentInstance slot = io.aneforge.agent.instance.AgentInstance.claim(cache)) {
            java.nio.file.Path note = cache.resolve("instance/0.request");
            HttpRegistryClient client = new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofMillis(500),
                    slot.id(), slot);

            assertThat(client.lease(agent.apply("job"), Duration.ZERO)).isPresent();
            assertThat(note).as("200 with a job").doesNotExist();
            assertThat(client.lease(agent.apply("none"), Duration.ZERO)).isEmpty();
            assertThat(note).as("204").doesNotExist();
            assertThatThrownBy(() -> client.lease(agent.apply("unreadable"), Duration.ZERO))
                    .isInstanceOf(UnreadableLeaseException.class);
            assertThat(note).as("200 it cannot read: answered, the loop releases it itself").doesNotExist();
            assertThatThrownBy(() -> client.lease(agent.apply("refusal"), Duration.ZERO))
                    .isInstanceOf(RegistryException.class).isNotInstanceOf(LeaseAnswerLostException.class);
            assertThat(note).as("the registry's 403 problem").doesNotExist();
            assertThatThrownBy(() -> client.lease(agent.apply("registry-5xx"), Duration.ZERO))
                    .isInstanceOf(RegistryException.class).isNotInstanceOf(LeaseAnswerLostException.class);
            assertThat(note).as("the registry's own 503 problem: it ended the call without a lease").doesNotExist();

            for (String lost : List.of("reset", "proxy-5xx")) {
                String id = agent.apply(lost);
                LeaseAnswerLostException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                        () -> client.lease(id, Duration.ZERO), LeaseAnswerLostException.class);
                assertThat(e).as(lost).isNotNull();
                assertThat(java.nio.file.Files.readString(note)).as(lost + ": the note stays for the next process")
                        .startsWith(id + " " + e.request() + " ");
                e.releaseKept();
                assertThat(note).as(lost + ": the loop kept the call's release, which covers it").doesNotExist();
            }
        } finally {
            server.stop(0);
        }

        int dead;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            dead = s.getLocalPort(); // closed again: connections are refused
        }
        try (io.aneforge.agent.instance.AgentInstance slot = io.aneforge.agent.instance.AgentInstance.claim(cache)) {
            HttpRegistryClient client = new HttpRegistryClient(URI.create("http://127.0.0.1:" + dead), "t",
                    Duration.ofSeconds(1), slot.id(), slot);
            assertThatThrownBy(() -> client.lease(java.util.UUID.randomUUID().toString(), Duration.ofSeconds(30)))
                    .isNotInstanceOf(LeaseAnswerLostException.class);
            assertThat(cache.resolve("instance/0.request")).as("a refused connection never reached the registry")
                    .doesNotExist();
        }
    }

    private static String blob() {
        return "{\"digest\":\"" + "a".repeat(64) + "\",\"size\":1,\"url\":\"/api/v1/blobs/x\"}";
    }

    /** A lease call refused at connect never reached the registry: a failure to retry, not a lost answer. */
    @Test
    void aRefusedLeaseCallIsNotALostAnswer() throws Exception {
        int dead;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            dead = s.getLocalPort(); // closed again: connections are refused
        }
        HttpRegistryClient client = new HttpRegistryClient(URI.create("http://127.0.0.1:" + dead), "t",
                Duration.ofSeconds(1));
        assertThatThrownBy(() -> client.lease("agent-1", Duration.ofSeconds(30)))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.retryable()).isTrue())
                .isNotInstanceOf(LeaseAnswerLostException.class);
    }

    /**
     * An agent with an instance id sends it with a process id of its own at registration and with every lease call
     * (the same process id each time: the registry hands back only leases of another process start of the instance),
     * and reads the jobs the registration handed back.
     */
    @Test
    void theInstanceAndProcessGoWithRegistrationAndLeaseCallsAndHandBacksAreRead() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> body = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<String> query = new java.util.concurrent.atomic.AtomicReference<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/agents", ex -> {
            if (ex.getRequestURI().getPath().endsWith("/lease")) {
                query.set(ex.getRequestURI().getQuery());
                ex.sendResponseHeaders(204, -1);
            } else {
                body.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                answer(ex, 200, "{\"id\":\"a1\",\"heartbeatIntervalMs\":1000,"
                        + "\"handedBack\":{\"released\":[7,9],\"failed\":[12]}}");
            }
            ex.close();
        });
        server.start();
        try {
            java.util.UUID instance = java.util.UUID.randomUUID();
            HttpRegistryClient client = new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofSeconds(5), instance);
            AgentRegistration r = client.register(HOST);
            assertThat(r.handedBack()).containsExactly("7", "9");
            assertThat(r.failedAtHandBack()).containsExactly("12");
            tools.jackson.databind.JsonNode sent = tools.jackson.databind.json.JsonMapper.builder().build().readTree(body.get());
            assertThat(sent.path("instanceId").asString()).isEqualTo(instance.toString());
            String process = sent.path("processId").asString();
            assertThat(java.util.UUID.fromString(process)).isNotEqualTo(instance);
            client.lease("a1", Duration.ZERO);
            assertThat(query.get()).contains("&instance=" + instance + "&process=" + process);
            client.register(HOST);
            assertThat(tools.jackson.databind.json.JsonMapper.builder().build().readTree(body.get()).path("processId")
                    .asString()).as("one process id per client (process)").isEqualTo(process);
            HttpRegistryClient next = new HttpRegistryClient(
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofSeconds(5), instance);
            next.register(HOST);
            assertThat(tools.jackson.databind.json.JsonMapper.builder().build().readTree(body.get()).path("processId")
                    .asString()).as("another process start").isNotEqualTo(process);
        } finally {
            server.stop(0);
        }
    }

    private static void answer(com.sun.net.httpserver.HttpExchange ex, int status, String body) throws java.io.IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    /**
     * A registry (or proxy) that trickles its answer, a byte every 100 ms (never idle for the 1 s timeout): the
     * whole answer must arrive within the timeout, so the call fails (retryably) after about a second.
     */
    @Test
    void aTricklingRegistryBodyIsCutOffAtTheTimeout() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/api/v1/agents", ex -> {
            byte[] body = ("{\"id\":\"a\",\"heartbeatIntervalMs\":1000}" + " ".repeat(100)).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (var out = ex.getResponseBody()) {
                for (byte b : body) {
                    Thread.sleep(100);
                    out.write(b);
                    out.flush();
                }
            } catch (java.io.IOException | InterruptedException cutOff) {
                // the agent hung up
            }
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            HttpRegistryClient client = new HttpRegistryClient(URI.create(base), "t", Duration.ofSeconds(1));
            long t0 = System.nanoTime();

            assertThatThrownBy(() -> client.register(HOST))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageContaining(base + "/api/v1/agents did not send its whole answer within 1 s")
                    .matches(e -> ((RegistryException) e).retryable());
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
        } finally {
            server.stop(0);
        }
    }
}
