package io.aneforge.worker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * A reverse proxy in front of the real registry that injects the failures a worker meets between itself
 * and the registry: a gateway's 503, a connection closed before the registry saw the request, an answer lost
 * after the registry applied the request, a request that is never answered (a half-open connection).
 * Every request is logged with what happened to it.
 */
final class FaultProxy implements AutoCloseable {

    enum Fault {
        /** Answered 503 by the "gateway"; the registry never sees the request. */
        UNAVAILABLE,
        /** The connection is closed before the request reaches the registry. */
        DROP,
        /** The registry applies the request; its answer is lost (the connection is closed instead). */
        LOST_ANSWER,
        /** Never answered while the proxy runs. */
        HANG,
        /**
         * The registry applies the request; its 200 answer is replaced by a proxy's HTML page (also 200). Counted only
         * for requests the registry answered 200 (a 204 "nothing to lease" passes through unchanged).
         */
        HTML_PAGE,
        /**
         * A lease call: the registry grants it (200); its answer is lost (the connection is closed instead). Counted
         * only for calls the registry answered 200 (a 204 "nothing to lease" passes through unchanged).
         */
        LOST_GRANT,
        /**
         * A lease call held back until the worker gave up on it and its first release by that call's request id
         * ({@code /lease-requests/<request>/release}) has been answered; only then is it sent to the registry, whose
         * answer is lost (the worker is long gone). Lease calls that come meanwhile wait for it.
         */
        LATE_GRANT
    }

    /**
     * A request: its method, path, body and the fault injected (null: forwarded), the status answered (0: none) and
     * the registry's answer (empty when it did not see the request).
     */
    record Seen(String method, String path, String body, Fault fault, int status, String answer) {}

    private record Rule(String method, Pattern path, String bodyContains, Fault fault, AtomicInteger left) {}

    private static final Set<String> HOP_BY_HOP = Set.of("connection", "content-length", "expect", "host", "upgrade",
            "transfer-encoding", "keep-alive", "http2-settings", "date");

    private final String target;
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fault-proxy");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    /** The request id of the lease call held by {@link Fault#LATE_GRANT}, while it is held. */
    private volatile String heldRequest;
    private volatile CountDownLatch heldReleaseAnswered = new CountDownLatch(0);
    private volatile CountDownLatch heldDone = new CountDownLatch(0);
    private static final Pattern REQUEST = Pattern.compile("\"request\"\\s*:\\s*\"([0-9a-f-]{36})\"");

    private FaultProxy(String target) throws IOException {
        this.target = target;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    static FaultProxy start(String target) throws IOException {
        return new FaultProxy(target);
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The next {@code times} requests with this method and path (a regex), whose body contains {@code bodyContains} (or any). */
    void inject(String method, String pathRegex, String bodyContains, Fault fault, int times) {
        rules.add(new Rule(method, Pattern.compile(pathRegex), bodyContains, fault, new AtomicInteger(times)));
    }

    List<Seen> seen(String method, String pathRegex) {
        Pattern p = Pattern.compile(pathRegex);
        List<Seen> out = new ArrayList<>();
        for (Seen s : seen) if (s.method().equals(method) && p.matcher(s.path()).matches()) out.add(s);
        return out;
    }

    /** How many injected faults have not happened yet. */
    int pending() {
        return rules.stream().mapToInt(r -> Math.max(0, r.left().get())).sum();
    }

    private void handle(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getRawPath();
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readAllBytes();
        }
        String text = new String(body, StandardCharsets.UTF_8);
        Fault fault = null;
        Rule matched = null;
        for (Rule r : rules) {
            if (r.method().equals(method) && r.path().matcher(path).matches()
                    && (r.bodyContains() == null || text.contains(r.bodyContains())) && r.left().getAndDecrement() > 0) {
                fault = r.fault();
                matched = r;
                break;
            }
        }
        if (fault == Fault.UNAVAILABLE) {
            byte[] page = "<html>503 Service Unavailable</html>".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/html");
            ex.sendResponseHeaders(503, page.length);
            ex.getResponseBody().write(page);
            ex.close();
            seen.add(new Seen(method, path, text, fault, 503, ""));
            return;
        }
        if (fault == Fault.DROP) {
            seen.add(new Seen(method, path, text, fault, 0, ""));
            ex.close(); // no answer: the connection is closed
            return;
        }
        if (fault == Fault.HANG) {
            seen.add(new Seen(method, path, text, fault, 0, ""));
            try {
                closed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
            return;
        }
        if (fault == Fault.LATE_GRANT) {
            java.util.regex.Matcher m = REQUEST.matcher(text);
            heldRequest = m.find() ? m.group(1) : null;
            heldReleaseAnswered = new CountDownLatch(1);
            heldDone = new CountDownLatch(1);
            try {
                heldReleaseAnswered.await(); // the worker gave up on this call and its first release came back
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.close();
                return;
            }
        } else if (path.endsWith("/lease")) {
            try {
                heldDone.await(); // a held lease call reaches the registry first
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.close();
                return;
            }
        }
        HttpResponse<byte[]> r;
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target + ex.getRequestURI()))
                    .method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            ex.getRequestHeaders().forEach((name, values) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) values.forEach(v -> b.header(name, v));
            });
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ex.close();
            return;
        }
        if ((fault == Fault.HTML_PAGE || fault == Fault.LOST_GRANT) && r.statusCode() != 200) {
            matched.left().incrementAndGet(); // not a 200: passed through, the fault waits for one
            fault = null;
        }
        String answered = new String(r.body(), StandardCharsets.UTF_8);
        boolean lost = fault == Fault.LOST_ANSWER || fault == Fault.LOST_GRANT || fault == Fault.LATE_GRANT;
        seen.add(new Seen(method, path, text, fault, lost ? 0 : r.statusCode(), answered));
        if (heldRequest != null && path.equals("/api/v1/conversions/lease-requests/" + heldRequest + "/release")) {
            heldReleaseAnswered.countDown();
        }
        if (fault == Fault.LATE_GRANT) {
            heldRequest = null;
            heldDone.countDown();
        }
        if (fault == Fault.HTML_PAGE) {
            byte[] page = "<html><body>Down for maintenance</body></html>".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/html");
            ex.sendResponseHeaders(200, page.length);
            ex.getResponseBody().write(page);
            ex.close();
            return;
        }
        if (lost) {
            ex.close();
            return;
        }
        r.headers().map().forEach((name, values) -> {
            if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT)) && !name.startsWith(":")) {
                ex.getResponseHeaders().put(name, values);
            }
        });
        byte[] answer = r.body();
        boolean noBody = method.equals("HEAD") || r.statusCode() == 204 || r.statusCode() == 304 || answer.length == 0;
        ex.sendResponseHeaders(r.statusCode(), noBody ? -1 : answer.length);
        if (!noBody) ex.getResponseBody().write(answer);
        ex.close();
    }

    @Override
    public void close() {
        closed.countDown();
        heldReleaseAnswered.countDown();
        heldDone.countDown();
        server.stop(0);
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
