package io.aneforge.testsupport.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.aneforge.testsupport.http.ForwardingProxy.Answer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy against a small echo server: what a test's hook can do to an exchange, and what is passed on. */
class ForwardingProxyTest {

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** Every request the echo server saw: method, target and body. */
    private final List<String> reached = new CopyOnWriteArrayList<>();
    private HttpServer server;

    @BeforeEach
    void startEchoServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        server.createContext("/", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            reached.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + body);
            byte[] answer = ("echo " + ex.getRequestHeaders().getFirst("X-Token") + " " + body).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("X-Served-By", "echo");
            ex.sendResponseHeaders(201, answer.length);
            ex.getResponseBody().write(answer);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stopEchoServer() {
        server.stop(0);
    }

    private String target() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private HttpResponse<String> post(ForwardingProxy proxy, String pathAndQuery, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(proxy.url() + pathAndQuery)).header("X-Token", "t1")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void forwardsMethodTargetHeadersAndBodyAndCopiesTheAnswerBack() throws Exception {
        try (ForwardingProxy proxy = ForwardingProxy.start(target())) {
            HttpResponse<String> r = post(proxy, "/a/b?x=1", "hello");
            assertThat(r.statusCode()).isEqualTo(201);
            assertThat(r.body()).isEqualTo("echo t1 hello");
            assertThat(r.headers().firstValue("X-Served-By")).hasValue("echo");
        }
        assertThat(reached).containsExactly("POST /a/b?x=1 hello");
    }

    @Test
    void aHookAnswersInTheServersStead() throws Exception {
        try (ForwardingProxy proxy = ForwardingProxy.start(target(),
                (request, upstream) -> Optional.of(Answer.html(503, "<html>down</html>")))) {
            HttpResponse<String> r = post(proxy, "/a", "hello");
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).isEqualTo("<html>down</html>");
            assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html");
        }
        assertThat(reached).as("the server never saw it").isEmpty();
    }

    @Test
    void aHookReplacesTheServersAnswerAfterForwarding() throws Exception {
        List<String> answered = new CopyOnWriteArrayList<>();
        try (ForwardingProxy proxy = ForwardingProxy.start(target(), (request, upstream) -> {
            Answer real = upstream.forward(request);
            answered.add(real.status() + " " + real.text());
            return Optional.of(Answer.html(200, "<html>maintenance</html>"));
        })) {
            HttpResponse<String> r = post(proxy, "/a", "hello");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("<html>maintenance</html>");
        }
        assertThat(answered).containsExactly("201 echo t1 hello");
        assertThat(reached).hasSize(1);
    }

    @Test
    void aHookDropsTheAnswerAfterTheServerAppliedTheRequest() throws Exception {
        try (ForwardingProxy proxy = ForwardingProxy.start(target(), (request, upstream) -> {
            upstream.forward(request);
            return Optional.empty();
        })) {
            assertThatThrownBy(() -> post(proxy, "/a", "hello")).isInstanceOf(IOException.class);
        }
        assertThat(reached).as("applied, though the client got no answer").containsExactly("POST /a hello");
    }
}
