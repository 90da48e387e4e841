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
import java.nio.file.Files;
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
 * {@code ./aneforge up} end to end, as a user runs it: in an empty directory with a fresh database, a Ctrl-C
 * (SIGINT to the process group) during the conversion must stop the children newest first with the worker's
 * lease handed back (no attempt spent); meanwhile a second run in the same directory must fail at once and
 * the registry must not answer on a non-loopback address; the next run must continue the conversion and reach
 * READY; the printed token must resolve the demo model for iPhone16,1 and download an artifact with the
 * announced digest; SIGTERM must end every child; a third run must reuse the data (no new version). Opt-in (tag "up", Maven profile {@code up}) because it converts a real model: ~10 min here.
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
        boolean waitForLineContaining(String part, Duration timeout) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end && process.isAlive()) {
                if (lines.stream().anyMatch(l -> l.contains(part))) return true;
                Thread.sleep(200);
            }
            return lines.stream().anyMatch(l -> l.contains(part));
        }

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
        return start(port, workerPort, false);
    }

    /**
     * {@code inItsOwnSession}: under setsid, so that the script's pid (the JVM's: the script execs it) is also
     * its process group's id, as for a command a terminal runs in the foreground; a signal to that group is what
     * Ctrl-C sends.
     */
    private Run start(int port, int workerPort, boolean inItsOwnSession) throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        List<String> cmd = new ArrayList<>();
        if (inItsOwnSession) cmd.add("setsid");
        cmd.addAll(List.of(root.resolve("aneforge").toString(), "up", "--port", Integer.toString(port),
                "--worker-port", Integer.toString(workerPort), "--database", database, "--timeout", "40"));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("ANEFORGE_NO_BUILD", "1");
        pb.environment().remove("SPRING_DATASOURCE_URL");
        pb.environment().remove("ANEFORGE_ADMIN_TOKEN");
        pb.environment().remove("ANEFORGE_UP_ADDRESS");
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
        assertSigintNotIgnored();
        int port = freePort();
        int workerPort = freePort();
        // 1. Ctrl-C (SIGINT to the whole process group) while a variant is being built: only up gets it and stops
        //    the children newest first, so the registry is still there when the worker hands its lease back.
        Run first = start(port, workerPort, true);
        assertThat(first.waitFor("registry is up", Duration.ofMinutes(5))).as(String.join("\n", first.lines())).isTrue();
        assertNotReachableFromTheNetwork(port);
        assertASecondRunInTheSameDirectoryFailsAtOnce(port, workerPort, first);
        assertThat(first.waitForLineContaining(", step variants,", Duration.ofMinutes(20))).as(String.join("\n", first.lines()))
                .isTrue();
        // Not a fixed sleep after that line: on a fast machine the conversion could finish before it ends. The
        // registry's own record says when a variant is being built under a held lease: signal at once then.
        awaitAVariantBeingBuiltUnderAHeldLease(first, Duration.ofMinutes(5));
        assertThat(new ProcessBuilder("kill", "-INT", "--", "-" + first.process().pid()).inheritIO().start().waitFor()).isZero();
        assertThat(first.process().waitFor(3, TimeUnit.MINUTES)).as("up exits after Ctrl-C").isTrue();
        first.reader().join(10_000);
        String printed = String.join("\n", first.lines());
        assertThat(first.process().exitValue()).as(printed).isEqualTo(130);
        assertThat(first.lines().stream().filter(l -> l.startsWith("stopping ")).map(l -> l.split(" ")[1]).toList()).as(printed)
                .containsExactly("device-agent", "converter-worker", "registry");
        assertThat(first.lines()).as(printed).contains("stopped");
        for (long pid : first.childPids()) {
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("child pid " + pid + " ended").isFalse();
        }
        String workerLog = java.nio.file.Files.readString(dir.resolve(".aneforge/logs/converter-worker.log"));
        assertThat(workerLog).doesNotContain("unreachable");
        String registryLog = java.nio.file.Files.readString(dir.resolve(".aneforge/logs/registry.log"));
        // up stops the agent before the worker; on a fast idle machine the conversion (3 variants, ~15 s) can end
        // while the agent stops, and then there is no lease left to hand back. Both outcomes are checked; the
        // worker's release on shutdown is also covered by converter-worker's ShutdownTest.
        boolean handedBack = !registryLog.contains("conversion 1 succeeded");
        if (handedBack) {
            assertThat(registryLog).contains("released by 'aneforge-up-worker'").contains("the attempt is not spent");
            assertThat(attemptsAndReleases()).as("the lease was handed back: the attempt is given back").containsExactly(0, 1);
        } else {
            assertThat(registryLog).doesNotContain("released by 'aneforge-up-worker'");
            assertThat(attemptsAndReleases()).as("the conversion ended before the worker stopped").containsExactly(1, 0);
        }

        // 2. Again in the same directory: it waits for that version, whose conversion continues without spending
        //    a second attempt, then the demo model is served.
        Run second = start(port, workerPort);
        assertThat(second.waitFor("READY", Duration.ofMinutes(45))).as(String.join("\n", second.lines())).isTrue();
        assertThat(second.waitFor("Press Ctrl-C to stop.", Duration.ofSeconds(30))).as(String.join("\n", second.lines())).isTrue();
        if (handedBack) {
            assertThat(second.lines()).anyMatch(l -> l.contains("is still converting; waiting for it"));
            assertThat(attemptsAndReleases()).as("one attempt in all").containsExactly(1, 1);
        } else {
            assertThat(attemptsAndReleases()).as("one attempt in all").containsExactly(1, 0);
        }
        assertThat(second.childPids()).hasSize(3);
        assertThat(second.lines()).anyMatch(l -> l.contains("curl -H 'Authorization: Bearer ") && l.contains("device=iPhone16,1"));
        String token = second.token();

        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + port;
        HttpResponse<String> resolve = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/models/"
                + UpCommand.DEMO_MODEL + "/resolve?device=iPhone16,1&os=18.0")).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(resolve.statusCode()).as(resolve.body()).isEqualTo(200);
        JsonNode answer = JsonMapper.builder().build().readTree(resolve.body());
        assertThat(answer.path("variant").path("chip").asText()).isEqualTo("A17_PRO");
        // up set the demo gates (minCosine 0.99) before promoting: the matrix has a verdict, not NO_GATES.
        HttpResponse<String> matrix = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/models/" + UpCommand.DEMO_MODEL
                + "/versions/" + answer.path("version").asInt() + "/matrix")).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(matrix.statusCode()).as(matrix.body()).isEqualTo(200);
        JsonNode verdict = JsonMapper.builder().build().readTree(matrix.body()).path("verdict");
        assertThat(verdict.path("status").asText()).as(matrix.body()).isEqualTo("PASS");
        // Set by the first run, before its conversion was queued; the second finds them set and leaves them.
        assertThat(first.lines()).anyMatch(l -> l.startsWith("gates for " + UpCommand.DEMO_MODEL + ": minCosine 0.99"));
        assertThat(second.lines()).noneMatch(l -> l.startsWith("gates for "));
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

        stop(second);

        // 3. Same directory again: same token, the published version is reused, not converted again.
        Run third = start(port, workerPort);
        assertThat(third.waitFor("READY", Duration.ofMinutes(10))).as(String.join("\n", third.lines())).isTrue();
        // The token is printed a few lines after READY: wait for the block's last line before reading it.
        assertThat(third.waitFor("Press Ctrl-C to stop.", Duration.ofSeconds(30))).as(String.join("\n", third.lines())).isTrue();
        assertThat(third.token()).isEqualTo(token);
        assertThat(third.lines()).anyMatch(l -> l.contains("is already published; not publishing again"));
        assertThat(third.lines()).noneMatch(l -> l.startsWith("published " + UpCommand.DEMO_MODEL));
        stop(third);
    }

    /** The registry takes the admin token: by default it listens on the loopback address only. */
    private static void assertNotReachableFromTheNetwork(int port) throws Exception {
        java.util.Optional<java.net.InetAddress> external = java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())
                .stream().filter(i -> {
                    try {
                        return i.isUp() && !i.isLoopback();
                    } catch (java.net.SocketException e) {
                        return false;
                    }
                }).flatMap(i -> java.util.Collections.list(i.getInetAddresses()).stream())
                .filter(a -> a instanceof java.net.Inet4Address).findFirst();
        org.junit.jupiter.api.Assumptions.assumeTrue(external.isPresent(), "no non-loopback IPv4 address to try");
        try (java.net.Socket s = new java.net.Socket()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.connect(new java.net.InetSocketAddress(external.get(), port), 3000))
                    .as("the registry answers on " + external.get()).isInstanceOf(java.io.IOException.class);
        }
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 3000);
        }
    }

    /** A second up in the same home directory would share everything with the first: it exits 2 at once. */
    private void assertASecondRunInTheSameDirectoryFailsAtOnce(int port, int workerPort, Run first) throws Exception {
        Run other = start(port, workerPort);
        assertThat(other.process().waitFor(1, TimeUnit.MINUTES)).isTrue();
        other.reader().join(10_000);
        assertThat(other.process().exitValue()).as(String.join("\n", other.lines())).isEqualTo(2);
        String expected = "another aneforge up (pid " + first.process().pid() + ") is running with the state directory ";
        Path real = dir.toRealPath().resolve(".aneforge");
        assertThat(other.lines()).as(String.join("\n", other.lines())).anyMatch(l -> l.contains(expected + real)
                || l.contains(expected + dir.resolve(".aneforge")));
        assertThat(first.process().isAlive()).isTrue();
    }

    /**
     * Polls the registry's database until the (only) conversion is running under a lease that has not expired and
     * one of its variants is being built; fails if the conversion is over first (nothing would be handed back).
     */
    private void awaitAVariantBeingBuiltUnderAHeldLease(Run run, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        String last = "no conversion yet";
        while (System.nanoTime() < end && run.process().isAlive()) {
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/" + database, "postgres", "");
                 Statement st = c.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT c.state, c.lease_owner, c.lease_expires_at > now(),"
                         + " (SELECT count(*) FROM conversion_variant v WHERE v.conversion_id = c.id AND v.state = 'building')"
                         + " FROM conversion c")) {
                if (rs.next()) {
                    String state = rs.getString(1);
                    last = "state " + state + ", lease owner " + rs.getString(2) + ", lease current " + rs.getBoolean(3)
                            + ", variants building " + rs.getLong(4);
                    if (state.equals("running") && rs.getString(2) != null && rs.getBoolean(3) && rs.getLong(4) > 0) return;
                    assertThat(state).as("the conversion ended before it could be interrupted (%s)", last)
                            .isIn("queued", "running");
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no variant was being built under a held lease within " + timeout + " (" + last + ")\n"
                + String.join("\n", run.lines()));
    }

    /** attempts and releases of the (only) conversion. */
    private List<Integer> attemptsAndReleases() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/" + database, "postgres", "");
             Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT attempts, releases FROM conversion")) {
            assertThat(rs.next()).isTrue();
            List<Integer> r = List.of(rs.getInt(1), rs.getInt(2));
            assertThat(rs.next()).as("one conversion").isFalse();
            return r;
        }
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

    /**
     * A JVM started with SIGINT ignored (a background job of a shell without job control, or nohup) passes that on to
     * up, whose JVM keeps ignoring it, so the Ctrl-C below would time out at "up exits after Ctrl-C" after minutes
     * without saying why. Linux only (/proc); elsewhere nothing is checked.
     */
    private static void assertSigintNotIgnored() throws java.io.IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) return;
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                long ignored = Long.parseLong(line.substring("SigIgn:".length()).trim(), 16);
                assertThat(ignored & (1L << 1)).as("this test's JVM was started with SIGINT ignored (" + line.trim()
                        + "): up inherits that and Ctrl-C cannot stop it. Run the build in the foreground, or from a"
                        + " shell with job control (set -m), not as a background job of a script or under nohup").isZero();
            }
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
