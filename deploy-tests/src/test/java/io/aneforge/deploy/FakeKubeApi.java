package io.aneforge.deploy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two Kubernetes API calls the chart's {@code lookup} makes (discovery of {@code v1}, GET of one
 * Secret), over HTTP. helm-java renders `helm template` as a dry-run install that still resolves
 * {@code lookup} against a cluster (the helm CLI's template answers it with nothing), so the
 * renders need an API to talk to; tests put Secrets here to play an existing install. The surefire
 * configuration points KUBECONFIG at the file this writes.
 */
final class FakeKubeApi {

    private static final Pattern SECRET = Pattern.compile("/api/v1/namespaces/([^/]+)/secrets/([^/]+)");
    private static FakeKubeApi instance;

    private final Map<String, Map<String, String>> secrets = new ConcurrentHashMap<>();

    private FakeKubeApi() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(null);
        server.start();
        String kubeconfig = System.getenv("KUBECONFIG");
        if (kubeconfig == null || kubeconfig.isBlank()) {
            throw new IllegalStateException("KUBECONFIG is not set: run the deploy tests through Maven (the surefire"
                    + " configuration of deploy-tests sets it), or set it to a writable file");
        }
        Path file = Path.of(kubeconfig);
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                  - name: fake
                    cluster:
                      server: http://127.0.0.1:%d
                contexts:
                  - name: fake
                    context:
                      cluster: fake
                      user: fake
                users:
                  - name: fake
                    user: {}
                current-context: fake
                """.formatted(server.getAddress().getPort()));
    }

    /** Started once per JVM, before the first render. */
    static synchronized FakeKubeApi get() {
        if (instance == null) {
            try {
                instance = new FakeKubeApi();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    /** Makes a Secret exist (data values in plain text), as a previous install would have left it. */
    void putSecret(String namespace, String name, Map<String, String> data) {
        secrets.put(namespace + "/" + name, Map.copyOf(data));
    }

    void removeSecret(String namespace, String name) {
        secrets.remove(namespace + "/" + name);
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        Matcher secret = SECRET.matcher(path);
        if (path.equals("/api/v1")) {
            answer(exchange, 200, """
                    {"kind":"APIResourceList","apiVersion":"v1","groupVersion":"v1","resources":[
                     {"name":"secrets","singularName":"secret","namespaced":true,"kind":"Secret","verbs":["get","list"]}]}""");
        } else if (secret.matches() && exchange.getRequestMethod().equals("GET")
                && secrets.containsKey(secret.group(1) + "/" + secret.group(2))) {
            StringBuilder data = new StringBuilder();
            secrets.get(secret.group(1) + "/" + secret.group(2)).forEach((k, v) -> data.append(data.isEmpty() ? "" : ",")
                    .append('"').append(k).append("\":\"")
                    .append(Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))).append('"'));
            answer(exchange, 200, """
                    {"kind":"Secret","apiVersion":"v1","metadata":{"name":"%s","namespace":"%s"},"type":"Opaque","data":{%s}}"""
                    .formatted(secret.group(2), secret.group(1), data));
        } else {
            answer(exchange, 404, """
                    {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"%s not found",\
                    "reason":"NotFound","code":404}""".formatted(path));
        }
    }

    private static void answer(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }
}
