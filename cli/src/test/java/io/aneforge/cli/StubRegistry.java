package io.aneforge.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A registry of another release (or one the test shapes), stood in for by a real HTTP server on loopback: each call,
 * {@code "METHOD /path"}, gets the {@link Answer} the test gives for it (404 with {@code {}} when it gives none), and
 * every call is recorded in order, so a test can say what the CLI asked as well as what it did with the answers. The
 * real registry cannot play these parts: it answers as this release does.
 */
final class StubRegistry implements AutoCloseable {

    /** One answer: its status, its Content-Type (none when null) and its body (none for a HEAD). */
    record Answer(int status, String contentType, byte[] body) {
        static Answer json(int status, String json) {
            return new Answer(status, "application/json", json.getBytes(StandardCharsets.UTF_8));
        }

        static Answer problem(int status, String json) {
            return new Answer(status, "application/problem+json", json.getBytes(StandardCharsets.UTF_8));
        }

        /** A blob's bytes, 200 without a Content-Type (the CLI reads a blob's bytes whatever it says). */
        static Answer bytes(byte[] body) {
            return new Answer(200, null, body);
        }
    }

    private static final Answer NOT_FOUND = Answer.json(404, "{}");

    private final HttpServer server;
    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());

    private StubRegistry(HttpServer server) {
        this.server = server;
    }

    /** Started, answering each call as {@code answers} says (null for 404). */
    static StubRegistry start(Function<String, Answer> answers) throws IOException {
        StubRegistry stub = new StubRegistry(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0));
        stub.server.createContext("/", ex -> {
            String call = ex.getRequestMethod() + " " + ex.getRequestURI().getPath();
            stub.calls.add(call);
            ex.getRequestBody().readAllBytes(); // read to the end, as the registry does, before answering
            Answer a = answers.apply(call);
            if (a == null) {
                a = NOT_FOUND;
            }
            if (a.contentType() != null) {
                ex.getResponseHeaders().add("Content-Type", a.contentType());
            }
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(a.status(), -1);
            } else {
                ex.sendResponseHeaders(a.status(), a.body().length);
                ex.getResponseBody().write(a.body());
            }
            ex.close();
        });
        stub.server.start();
        return stub;
    }

    /** The CLI's environment for this registry. */
    Map<String, String> env() {
        return Map.of("ANEFORGE_REGISTRY_URL", "http://127.0.0.1:" + server.getAddress().getPort(), "ANEFORGE_TOKEN", "t");
    }

    /** The calls so far, in order ({@code "METHOD /path"}); clearing it starts the record anew. */
    List<String> calls() {
        return calls;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
