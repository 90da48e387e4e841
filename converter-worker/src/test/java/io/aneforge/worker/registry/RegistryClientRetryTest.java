package io.aneforge.worker.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import io.aneforge.worker.WorkerProperties;
import io.aneforge.worker.registry.RegistryModels.Progress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How the worker's registry client sorts failures, against a stand-in registry over real HTTP that answers
 * whatever status the test queues: transient answers (429, 502, 503, 504) and connection failures are retried
 * for calls that are safe to repeat, refusals are not, leases are never repeated, and a heartbeat gives up
 * after its own short timeout. (Against the real registry: {@code TransientFailureTest}, {@code HeartbeatTest}.)
 */
class RegistryClientRetryTest {

    private static final String CONVERSION = "{\"id\": 7, \"model\": \"m\", \"version\": 1, \"state\": \"running\","
            + " \"seqLen\": 32, \"attempts\": 1, \"maxAttempts\": 3, \"variants\": []}";

    private HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();
    private final ConcurrentLinkedQueue<Integer> answers = new ConcurrentLinkedQueue<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final java.util.concurrent.atomic.AtomicBoolean trickle = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicBoolean lateThenTrickle = new java.util.concurrent.atomic.AtomicBoolean();

    @BeforeEach
    void registry() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", ex -> {
            requests.incrementAndGet();
            ex.getRequestBody().readAllBytes();
            if (lateThenTrickle.get()) {
                try {
                    Thread.sleep(1500); // headers late, but inside the 2 s bound
                    ex.sendResponseHeaders(200, 100);
                    for (int i = 0; i < 100 && stopped.getCount() > 0; i++) {
                        ex.getResponseBody().write(' ');
                        ex.getResponseBody().flush();
                        Thread.sleep(100);
                    }
                } catch (IOException | InterruptedException clientGaveUp) {
                    // expected
                }
                ex.close();
                return;
            }
            if (ex.getRequestURI().getPath().endsWith("/heartbeat")) {
                try {
                    stopped.await(); // never answers while the test runs
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ex.close();
                return;
            }
            if (trickle.get()) {
                ex.sendResponseHeaders(200, 100);
                try {
                    for (int i = 0; i < 100 && stopped.getCount() > 0; i++) {
                        ex.getResponseBody().write(' ');
                        ex.getResponseBody().flush();
                        Thread.sleep(300); // one byte well inside the 5 s idle period
                    }
                } catch (IOException | InterruptedException clientGaveUp) {
                    // expected
                }
                ex.close();
                return;
            }
            Integer status = answers.poll();
            int s = status == null ? 200 : status;
            byte[] body = (s == 200 ? CONVERSION : "{\"type\": \"https://aneforge.io/problems/x\", \"detail\": \"status " + s + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(s, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        stopped.countDown();
        server.stop(0);
    }

    private RegistryClient client(URI url) {
        return new RegistryClient(new WorkerProperties(url, "token", "w1", 1, Path.of("unused"), Duration.ofSeconds(1),
                false, Duration.ofSeconds(5), Duration.ofSeconds(5), 2, Duration.ofMillis(10)));
    }

    private RegistryClient client() {
        return client(URI.create("http://127.0.0.1:" + server.getAddress().getPort()));
    }

    /** A local port nothing listens on (taken and closed again): connections to it are refused. */
    private static int refusingPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Progress progress() {
        return new Progress("token", "fetch", null, null, null);
    }

    @Test
    void transientAnswersAreRetriedAndAfterTheRetriesReportedAsTransient() {
        for (int status : List.of(429, 502, 503, 504)) {
            requests.set(0);
            answers.clear();
            answers.addAll(List.of(status, status, status));
            RegistryException e = catchThrowableOfType(RegistryException.class, () -> client().progress(7, progress()));
            assertThat(e.status()).isEqualTo(status);
            assertThat(e.isTransient()).as("HTTP " + status).isTrue();
            assertThat(requests.get()).as("HTTP " + status + ": one call and two retries").isEqualTo(3);
        }
        requests.set(0);
        answers.addAll(List.of(503, 502));
        assertThat(client().complete(7, "token").id()).as("the third try succeeds").isEqualTo(7);
        assertThat(requests.get()).isEqualTo(3);
    }

    @Test
    void refusalsAreNotRetriedAndNotTransient() {
        for (int status : List.of(400, 404, 409, 422, 500)) {
            requests.set(0);
            answers.clear();
            answers.add(status);
            RegistryException e = catchThrowableOfType(RegistryException.class, () -> client().progress(7, progress()));
            assertThat(e.status()).isEqualTo(status);
            assertThat(e.isTransient()).as("HTTP " + status).isFalse();
            assertThat(requests.get()).as("HTTP " + status).isEqualTo(1);
        }
    }

    @Test
    void leasesAreNeverRepeated() {
        answers.addAll(List.of(503, 503, 503));
        RegistryException e = catchThrowableOfType(RegistryException.class, () -> client().leaseNext("w1"));
        assertThat(e.isTransient()).isTrue();
        assertThat(requests.get()).as("a repeated lease could lease a second conversion").isEqualTo(1);
    }

    @Test
    void anUnreachableRegistryIsTransientAfterTheRetries() throws Exception {
        int dead = refusingPort();
        RegistryException e = catchThrowableOfType(RegistryException.class,
                () -> client(URI.create("http://127.0.0.1:" + dead)).release(7, "token", "stopping", false));
        assertThat(e.isTransient()).isTrue();
        assertThat(e.getMessage()).contains("unreachable").contains("after 3 tries").contains("/release");
    }

    /**
     * A lease call refused at connect never reached the registry: a plain transient failure, nothing to release. One
     * whose connection is closed after the request went out may have been granted: a lost answer, and transient (its
     * cause is the transport failure, not a refusal).
     */
    @Test
    void aRefusedLeaseCallIsNotALostAnswerButAClosedOneIsAndBothAreTransient() throws Exception {
        int dead = refusingPort();
        RegistryException refused = catchThrowableOfType(RegistryException.class,
                () -> client(URI.create("http://127.0.0.1:" + dead)).leaseNext("w1"));
        assertThat(refused).isNotInstanceOf(LeaseAnswerLostException.class);
        assertThat(refused.isTransient()).isTrue();

        try (ServerSocket closing = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try (java.net.Socket s = closing.accept()) {
                    s.getInputStream().read(new byte[8192]); // the request arrived; closed without an answer
                } catch (IOException ignored) {
                    // the test fails on the client's side if this goes wrong
                }
            });
            acceptor.start();
            LeaseAnswerLostException lost = catchThrowableOfType(LeaseAnswerLostException.class,
                    () -> client(URI.create("http://127.0.0.1:" + closing.getLocalPort())).leaseNext("w1"));
            assertThat(lost.request()).isNotBlank();
            assertThat(lost.isTransient()).as("a transport failure").isTrue();
            acceptor.join(5_000);
        }
    }

    @Test
    void aHeartbeatGivesUpAfterItsOwnTimeout() {
        long start = System.nanoTime();
        RegistryException e = catchThrowableOfType(RegistryException.class,
                () -> client().heartbeat(7, "token", Duration.ofMillis(300)));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(e.isTransient()).isTrue();
        assertThat(ms).as("the heartbeat's 300 ms, not the 5 s request timeout").isLessThan(2500);
        assertThat(requests.get()).as("not repeated: the next heartbeat is the retry").isEqualTo(1);
    }

    @Test
    void anAnswerTricklingInIsCutOffAtTheRequestTimeout() {
        trickle.set(true);
        long start = System.nanoTime();
        RegistryException e = catchThrowableOfType(RegistryException.class, () -> client().leaseNext("w1"));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(e).as("a lease answer sent a byte every 300 ms").isNotNull();
        assertThat(e.getMessage()).contains("did not send its whole answer within 5 s");
        assertThat(ms).as("the 5 s request timeout for the whole answer, not the 30 s the server would take")
                .isLessThan(15_000);
    }

    @Test
    void theBodyGetsWhatIsLeftOfTheTimeoutNotTheWholeTimeoutAgain() {
        lateThenTrickle.set(true);
        long start = System.nanoTime();
        RegistryException e = catchThrowableOfType(RegistryException.class,
                () -> client().heartbeat(7, "token", Duration.ofSeconds(2)));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(e).as("headers after 1.5 s, then a byte every 100 ms").isNotNull();
        assertThat(e.isTransient()).isTrue();
        assertThat(e.getMessage()).contains("did not send its whole answer within 2 s of the request");
        assertThat(ms).as("the heartbeat's 2 s for headers and body together, not 1.5 s + another 2 s")
                .isBetween(1900L, 3000L);
    }
}
