package io.aneforge.testsupport.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A reverse proxy for tests, on {@code 127.0.0.1} and a free port, that stands between a client under test and a real
 * server ({@code target}) and lets the test meddle with each exchange through a {@link Hook}: answer in the server's
 * stead, forward and pass the answer on, forward and replace the answer, or close the connection without answering
 * (before or after forwarding). Hop-by-hop headers are not passed on either way.
 */
public final class ForwardingProxy implements AutoCloseable {

    /** A request as the client sent it; {@code uri} is the request target (path and query, raw). */
    public record Request(String method, URI uri, Map<String, List<String>> headers, byte[] body) {
        /** The raw path, without the query. */
        public String path() {
            return uri.getRawPath();
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** An answer: the server's (headers as it sent them) or one the hook makes up. */
    public record Answer(int status, Map<String, List<String>> headers, byte[] body) {
        /** An HTML page, as a gateway or a maintenance proxy would answer. */
        public static Answer html(int status, String page) {
            return new Answer(status, Map.of("Content-Type", List.of("text/html")), page.getBytes(StandardCharsets.UTF_8));
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Sends a request on to the target server. */
    @FunctionalInterface
    public interface Upstream {
        Answer forward(Request request) throws IOException, InterruptedException;
    }

    /**
     * What happens to one exchange. The hook may call {@code upstream} (or not, to answer in the server's stead) and
     * returns the answer the client gets, or empty to close the connection without an answer. It runs on a thread of
     * its own per exchange, so it may block; an {@link InterruptedException} (the proxy closing) closes the
     * connection unanswered.
     */
    @FunctionalInterface
    public interface Hook {
        Optional<Answer> exchange(Request request, Upstream upstream) throws IOException, InterruptedException;
    }

    /**
     * Headers that belong to one connection, or that the JDK's client and server set themselves (and refuse or
     * duplicate when given).
     */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "content-length", "expect", "host", "upgrade",
            "transfer-encoding", "keep-alive", "http2-settings", "date");

    private final String target;
    private final Hook hook;
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "forwarding-proxy");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final AtomicBoolean closed = new AtomicBoolean();

    private ForwardingProxy(String target, Hook hook) throws IOException {
        this.target = target;
        this.hook = hook;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    /** A proxy to {@code target} (a base URL such as {@code http://127.0.0.1:8080}) that runs every exchange through {@code hook}. */
    public static ForwardingProxy start(String target, Hook hook) throws IOException {
        return new ForwardingProxy(target, hook);
    }

    /** A proxy that forwards everything unchanged. */
    public static ForwardingProxy start(String target) throws IOException {
        return start(target, (request, upstream) -> Optional.of(upstream.forward(request)));
    }

    /** The base URL to give the client under test. */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            Request request = new Request(ex.getRequestMethod(), ex.getRequestURI(), ex.getRequestHeaders(), body);
            Optional<Answer> answer;
            try {
                answer = hook.exchange(request, this::forward);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return; // closed unanswered
            }
            if (answer.isPresent()) send(ex, request, answer.get());
        } finally {
            ex.close();
        }
    }

    private Answer forward(Request request) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target + request.uri()))
                .method(request.method(), request.body().length == 0 ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(request.body()));
        request.headers().forEach((name, values) -> {
            if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) values.forEach(v -> b.header(name, v));
        });
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Answer(r.statusCode(), r.headers().map(), r.body());
    }

    private static void send(HttpExchange ex, Request request, Answer answer) throws IOException {
        answer.headers().forEach((name, values) -> {
            // HTTP/2 pseudo-headers (":status") are no headers to send on
            if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT)) && !name.startsWith(":")) {
                ex.getResponseHeaders().put(name, values);
            }
        });
        int status = answer.status();
        byte[] body = answer.body();
        boolean noBody = request.method().equals("HEAD") || status == 204 || status == 304 || body.length == 0;
        ex.sendResponseHeaders(status, noBody ? -1 : body.length);
        if (!noBody) ex.getResponseBody().write(body);
    }

    /** Stops the proxy; exchanges still in a hook are interrupted and their connections closed. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        server.stop(0);
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
