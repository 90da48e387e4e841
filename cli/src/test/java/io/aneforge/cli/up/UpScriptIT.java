package io.aneforge.cli.up;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code ./aneforge up} end to end, as a user runs it: in an empty directory with a fresh database, it
 * must reach READY; the printed token must resolve the demo model for iPhone16,1 and download an artifact
 * with the announced digest; SIGTERM must end every child; a second run must reuse the data (no new
 * version). Opt-in (tag "up", Maven profile {@code up}) because it converts a real model: ~10 min here.
 * Needs PostgreSQL on 127.0.0.1:5432 and the application jars (the profile packages them first).
 */
@Tag("up")
class UpScriptIT {

    private static final Pattern PID = Pattern.compile("^started (\\S+) \\(pid (\\d+),");
    private static final Pattern TOKEN = Pattern.compile("^\\s*admin token: (\\S+)$");

    @TempDir
    Path dir;

    private final String database = "aneforge_up_" + Long.toHexString(System.nanoTime());
    private final List<Process> running = new ArrayList<>();

    /** One run of the script: its process and every stdout line so far (read by a daemon thread). */
    record Run(Process process, List<String> lines, Thread reader) {
        boolean waitFor(String line, Duration timeout) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end) {
                if (lines.stream().anyMatch(l -> l.equals(line))) return true;
                if (!process.isAlive()) return lines.stream().anyMatch(l -> l.equals(line));
                Thread.sleep(500);
            }
            return false;
        }

        List<Long> childPids() {
            List<Long> pids = new ArrayList<>();
            for (String l : lines) {
                Matcher m = PID.matcher(l);
                if (m.find()) pids.add(Long.parseLong(m.group(2)));
            }
            return pids;
        }

        String token() {
            return lines.stream().map(TOKEN::matcher).filter(Matcher::matches).map(m -> m.group(1)).findFirst().orElseThrow();
        }
    }

    private Run start(int port, int workerPort) throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        ProcessBuilder pb = new ProcessBuilder(root.resolve("aneforge").toString(), "up", "--port", Integer.toString(port),
                "--worker-port", Integer.toString(workerPort), "--database", database, "--timeout", "40")
                .directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("ANEFORGE_NO_BUILD", "1");
        pb.environment().remove("SPRING_DATASOURCE_URL");
        pb.environment().remove("ANEFORGE_ADMIN_TOKEN");
        Process p = pb.start();
        p.getOutputStream().close();
        running.add(p);
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    lines.add(l);
                    System.out.println("[up] " + l);
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        }, "up-output");
        reader.setDaemon(true);
        reader.start();
        return new Run(p, lines, reader);
    }

    /**
     * SIGTERM (the script exec's java, so the signal reaches the JVM and its shutdown hook). Through the
     * ProcessHandle: Process.destroy() would also close our end of its stdout and lose the last lines.
     */
    private static void stop(Run run) throws InterruptedException {
        assertThat(run.process().toHandle().destroy()).isTrue();
        assertThat(run.process().waitFor(3, TimeUnit.MINUTES)).as("up exits after SIGTERM").isTrue();
        run.reader().join(10_000); // the last lines may still be in the pipe
        assertThat(run.process().exitValue()).as("exit code after SIGTERM").isEqualTo(143);
        assertThat(run.lines()).as(String.join("\n", run.lines())).contains("stopped");
        for (long pid : run.childPids()) {
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("child pid " + pid + " ended").isFalse();
        }
    }

    @Test
    void upReachesReadyServesTheDemoModelStopsEverythingAndReusesItsData() throws Exception {
        int port = freePort();
        int workerPort = freePort();
        Run first = start(port, workerPort);
        assertThat(first.waitFor("READY", Duration.ofMinutes(45))).as(String.join("\n", first.lines())).isTrue();
        assertThat(first.waitFor("Press Ctrl-C to stop.", Duration.ofSeconds(30))).as(String.join("\n", first.lines())).isTrue();
        assertThat(first.childPids()).hasSize(3);
        assertThat(first.lines()).anyMatch(l -> l.contains("curl -H 'Authorization: Bearer ") && l.contains("device=iPhone16,1"));
        String token = first.token();

        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + port;
        HttpResponse<String> resolve = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/models/"
                + UpCommand.DEMO_MODEL + "/resolve?device=iPhone16,1&os=18.0")).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(resolve.statusCode()).as(resolve.body()).isEqualTo(200);
        JsonNode answer = JsonMapper.builder().build().readTree(resolve.body());
        assertThat(answer.path("variant").path("chip").asText()).isEqualTo("A17_PRO");
        String url = answer.path("url").asText();
        HttpResponse<InputStream> download = http.send(HttpRequest.newBuilder(URI.create(url.startsWith("/") ? base + url : url))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(download.statusCode()).isEqualTo(200);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        long size = 0;
        try (InputStream in = download.body()) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; size += n) sha.update(buf, 0, n);
        }
        assertThat("sha256:" + HexFormat.of().formatHex(sha.digest())).isEqualTo(answer.path("digest").asText());
        assertThat(size).isEqualTo(answer.path("size").asLong()).isPositive();

        stop(first);

        // Same directory again: same token, the published version is reused, not converted again.
        Run second = start(port, workerPort);
        assertThat(second.waitFor("READY", Duration.ofMinutes(10))).as(String.join("\n", second.lines())).isTrue();
        // The token is printed a few lines after READY: wait for the block's last line before reading it.
        assertThat(second.waitFor("Press Ctrl-C to stop.", Duration.ofSeconds(30))).as(String.join("\n", second.lines())).isTrue();
        assertThat(second.token()).isEqualTo(token);
        assertThat(second.lines()).anyMatch(l -> l.contains("is already published; not publishing again"));
        assertThat(second.lines()).noneMatch(l -> l.startsWith("published " + UpCommand.DEMO_MODEL));
        stop(second);
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : running) {
            if (p.isAlive()) {
                p.destroy();
                if (!p.waitFor(2, TimeUnit.MINUTES)) p.destroyForcibly();
            }
        }
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "");
             Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
