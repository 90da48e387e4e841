package io.aneforge.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link IdleTimeoutInputStream} with a {@link BodyTimeout} against a real HTTP server that trickles: the idle rule
 * alone never cuts off a server that sends a little before every idle period ends; the budget does.
 */
class BodyTimeoutTest {

    private HttpServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "trickle-server");
            t.setDaemon(true);
            return t;
        }));
        // /trickle/<chunks>/<chunkBytes>/<pauseMs>: that many chunks, each after a pause
        server.createContext("/trickle/", ex -> {
            String[] p = ex.getRequestURI().getPath().split("/");
            int chunks = Integer.parseInt(p[2]);
            int size = Integer.parseInt(p[3]);
            long pause = Long.parseLong(p[4]);
            ex.sendResponseHeaders(200, (long) chunks * size);
            try (OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < chunks; i++) {
                    Thread.sleep(pause);
                    out.write(new byte[size]);
                    out.flush();
                }
            } catch (InterruptedException | IOException gone) {
                // the client cut the body off
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private HttpResponse<InputStream> get(String path) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
    }

    /** A byte every 50 ms for 2 s: the idle rule alone (500 ms) reads it all; an answer's 500 ms deadline cuts it off. */
    @Test
    void aTricklingAnswerIsCutOffAtItsDeadline() throws Exception {
        String path = "/trickle/40/1/50";
        assertThat(IdleTimeoutInputStream.readAll(get(path).body(), Duration.ofMillis(500), "idle-only"))
                .as("idle rule alone: never cut off").hasSize(40);

        long t0 = System.nanoTime();
        assertThatThrownBy(() -> IdleTimeoutInputStream.readAll(get(path).body(),
                BodyTimeout.answer(Duration.ofMillis(500)), "http://registry/x"))
                .isInstanceOf(HttpTimeoutException.class)
                .hasMessageStartingWith("http://registry/x did not send its whole answer within 500 ms (")
                .hasMessageContaining(" bytes arrived; the server or a proxy is stalling or trickling)");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(1500));
    }

    /**
     * A download below the minimum throughput (1 KiB every 100 ms = 10 KiB/s against 64 KiB/s) is cut off shortly
     * after its grace period; one above it (8 KiB every 100 ms against 32 KiB/s) completes although it takes three
     * times its grace period.
     */
    @Test
    void aDownloadMustKeepItsMinimumThroughputNotFinishByADeadline() throws Exception {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> {
            try (InputStream in = IdleTimeoutInputStream.wrap(get("/trickle/100/1024/100").body(),
                    BodyTimeout.download(Duration.ofMillis(300), 64 << 10), "http://blobs/a")) {
                in.transferTo(OutputStream.nullOutputStream());
            }
        }).isInstanceOf(HttpTimeoutException.class)
                .hasMessageStartingWith("http://blobs/a sent only ")
                .hasMessageContaining(", below the minimum of 64 KiB/s after the first 300 ms (the server, a proxy or the"
                        + " link is too slow; the transfer was cut off)");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(1500));

        long t1 = System.nanoTime();
        byte[] steady = IdleTimeoutInputStream.readAll(get("/trickle/10/8192/100").body(),
                BodyTimeout.download(Duration.ofMillis(300), 32 << 10), "http://blobs/b");
        assertThat(steady).hasSize(10 * 8192);
        assertThat(Duration.ofNanos(System.nanoTime() - t1)).isGreaterThan(Duration.ofMillis(900));
    }

    /** The idle rule still applies on its own, with its own message. */
    @Test
    void aStallIsStillAnIdleTimeout() throws Exception {
        assertThatThrownBy(() -> IdleTimeoutInputStream.readAll(get("/trickle/2/10/2000").body(),
                BodyTimeout.download(Duration.ofMillis(300), 1), "http://blobs/c"))
                .isInstanceOf(HttpTimeoutException.class)
                .hasMessage("no data from http://blobs/c for 300 ms (the server or a proxy stalled mid-response)");
    }

    @Test
    void badLimitsAreRefused() {
        assertThatThrownBy(() -> BodyTimeout.download(Duration.ofSeconds(1), 0))
                .hasMessageContaining("minimum throughput must be > 0");
        assertThatThrownBy(() -> new BodyTimeout(Duration.ZERO, null, 0)).hasMessageContaining("idle timeout must be > 0");
        assertThatThrownBy(() -> new BodyTimeout(Duration.ofSeconds(1), null, 5)).hasMessageContaining("needs a deadline");
        assertThat(BodyTimeout.rate(64 << 10)).isEqualTo("64 KiB/s");
        assertThat(BodyTimeout.rate(3 << 20)).isEqualTo("3 MiB/s");
        assertThat(BodyTimeout.rate(1000)).isEqualTo("1000 bytes/s");
    }
}
