package io.aneforge.cli.up;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.aneforge.cli.CommandFailure;
import io.aneforge.cli.UsageException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parts of {@code aneforge up} that need no running platform: tokens, database, children (the demo snapshot: ane-core's MiniLmSnapshotTest). */
class UpPartsTest {

    @TempDir
    Path dir;

    @Test
    void adminTokenIsGeneratedOnceKeptPrivateAndOverriddenByTheEnvironment() throws Exception {
        String first = UpCommand.adminToken(Map.of(), dir);
        assertThat(first).startsWith("afadm_").hasSize(6 + 48);
        assertThat(UpCommand.adminToken(Map.of(), dir)).isEqualTo(first);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("admin-token")))).isEqualTo("rw-------");
        assertThat(UpCommand.adminToken(Map.of("ANEFORGE_ADMIN_TOKEN", " mine "), dir)).isEqualTo("mine");
    }

    @Test
    void databaseIsCreatedOnceAndAMissingServerNamesTheFix() throws Exception {
        String name = "aneforge_up_parts_" + Long.toHexString(System.nanoTime());
        String url = "jdbc:postgresql://127.0.0.1:5432/" + name;
        try {
            assertThat(Database.ensure(url, "postgres", "")).isTrue();
            assertThat(Database.ensure(url, "postgres", "")).isFalse();
        } finally {
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "");
                 Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS " + name);
            }
        }
        assertThatThrownBy(() -> Database.ensure("jdbc:postgresql://127.0.0.1:1/aneforge", "postgres", ""))
                .isInstanceOf(CommandFailure.class)
                .hasMessageStartingWith("PostgreSQL at 127.0.0.1:1 did not answer")
                .hasMessageContaining("docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:17");
        assertThatThrownBy(() -> Database.ensure("jdbc:mysql://x/y", "postgres", ""))
                .isInstanceOf(CommandFailure.class)
                .hasMessageContaining("is not of the form jdbc:postgresql://host:port/database");
    }

    /**
     * A wrong --chips or --timeout is refused at once, naming the option, before the lock, the database or any
     * child: {@code --chips FOO} used to surface after ~50 s as the registry's 422, {@code --timeout 0} as "the
     * registry did not become healthy in time". The home directory given does not exist afterwards: nothing ran.
     */
    @Test
    void chipsAndTimeoutAreCheckedBeforeAnythingStarts() {
        Path home = dir.resolve("never-created");
        String known = "[A14, A15, A16, A17_PRO, A18, A18_PRO, M1, M2, M3, M4]";
        expectUp("aneforge up: --chips: unknown chip 'FOO': use catalog ids " + known,
                "--home", home.toString(), "--chips", "FOO", "--database", "never_created_f4");
        expectUp("aneforge up: --chips: unknown chip 'M9': use catalog ids " + known,
                "--home", home.toString(), "--chips", "a17_pro,M9");
        expectUp("aneforge up: --chips ',' has an empty entry", "--home", home.toString(), "--chips", ",");
        expectUp("aneforge up: --timeout must be at least 1 (minutes to wait for the demo model), got 0",
                "--home", home.toString(), "--timeout", "0");
        expectUp("aneforge up: --timeout must be at least 1 (minutes to wait for the demo model), got -1",
                "--home", home.toString(), "--timeout", "-1");
        assertThat(home).doesNotExist();
    }

    private static void expectUp(String messageStart, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 1];
        all[0] = "up";
        System.arraycopy(args, 0, all, 1, args.length);
        int code = io.aneforge.cli.AneForge.run(new PrintWriter(out, true), new PrintWriter(err, true), all);
        assertThat(code).as(out + "\n" + err).isEqualTo(2);
        assertThat(err.toString()).startsWith(messageStart);
    }

    @Test
    void portsAreCheckedBeforeAnythingStarts() throws Exception {
        assertThatThrownBy(() -> UpCommand.checkPorts(0, 18282)).isInstanceOf(UsageException.class)
                .hasMessageStartingWith("port 0 is not a port number (1..65535)");
        assertThatThrownBy(() -> UpCommand.checkPorts(18281, 70000)).isInstanceOf(UsageException.class)
                .hasMessageStartingWith("port 70000 is not a port number (1..65535)");
        assertThatThrownBy(() -> UpCommand.checkPorts(18281, 18281)).isInstanceOf(UsageException.class);
        try (ServerSocket taken = new ServerSocket(0)) {
            int p = taken.getLocalPort();
            assertThatThrownBy(() -> UpCommand.checkPorts(p, freePort())).isInstanceOf(UsageException.class)
                    .hasMessage("port " + p + " is in use (another aneforge up?): stop it or pass --port/--worker-port");
            assertThatThrownBy(() -> UpCommand.checkPorts(freePort(), p)).isInstanceOf(UsageException.class)
                    .hasMessageContaining("port " + p + " is in use");
        }
        UpCommand.checkPorts(freePort(), freePort());
    }

    /** The registry takes the admin token: by default it and the worker listen on the loopback address only. */
    @Test
    void theListenAddressIsLoopbackByDefaultAndOnlyALocalIpLiteral() throws Exception {
        assertThat(UpCommand.listenAddress("127.0.0.1").isLoopbackAddress()).isTrue();
        assertThat(UpCommand.urlHost(UpCommand.listenAddress("127.0.0.1"))).isEqualTo("127.0.0.1");
        assertThat(UpCommand.urlHost(UpCommand.listenAddress("0.0.0.0"))).isEqualTo("127.0.0.1");
        assertThat(UpCommand.urlHost(UpCommand.listenAddress("[::1]"))).isEqualTo("[0:0:0:0:0:0:0:1]");
        assertThatThrownBy(() -> UpCommand.listenAddress("localhost")).isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--address 'localhost' is not an IP address");
        assertThatThrownBy(() -> UpCommand.listenAddress("192.0.2.1")).isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--address 192.0.2.1 is not an address of this machine");
        // The option's default (ANEFORGE_UP_ADDRESS unset here) and the environment override.
        UpCommand up = new UpCommand();
        new picocli.CommandLine(up).parseArgs();
        assertThat(up.address).isEqualTo("127.0.0.1");
        assertThat(UpCommand.serverEnvironment(UpCommand.listenAddress(up.address), 8080))
                .containsEntry("SERVER_ADDRESS", "127.0.0.1").containsEntry("SERVER_PORT", "8080");
    }

    /**
     * A server that answers but refuses (here: sslmode=require against the build machine's server, which has SSL
     * off) is not a missing server: the message names what it refused and the setting to change, not docker.
     */
    @Test
    void aServerThatAnswersButRefusesSslIsNotAMissingServer() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "");
             Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery("SHOW ssl")) {
            rs.next();
            org.junit.jupiter.api.Assumptions.assumeTrue("off".equals(rs.getString(1)), "the server has SSL on");
        }
        assertThatThrownBy(() -> Database.ensure("jdbc:postgresql://127.0.0.1:5432/x?sslmode=require", "postgres", ""))
                .isInstanceOf(CommandFailure.class)
                .hasMessageStartingWith("PostgreSQL at 127.0.0.1:5432 answered but the connection's SSL settings do not match")
                .hasMessageContaining("The server does not support SSL")
                .hasMessageContaining("sslmode in SPRING_DATASOURCE_URL")
                .hasMessageNotContaining("did not answer").hasMessageNotContaining("docker run");
        // A connection that is not even tried (an unknown host) is "no answer".
        assertThatThrownBy(() -> Database.ensure("jdbc:postgresql://no-such-host.invalid:5432/x", "postgres", ""))
                .isInstanceOf(CommandFailure.class).hasMessageStartingWith("PostgreSQL at no-such-host.invalid:5432 did not answer");
    }

    @Test
    void aRefusedLoginIsNotAMissingServerAndAHyphenatedNameIsAName() throws Exception {
        assertThatThrownBy(() -> Database.ensure("jdbc:postgresql://127.0.0.1:5432/aneforge", "nouser_" + System.nanoTime(), ""))
                .isInstanceOf(CommandFailure.class)
                .hasMessageStartingWith("PostgreSQL at 127.0.0.1:5432 refused user 'nouser_")
                .hasMessageContaining("SPRING_DATASOURCE_USERNAME")
                .hasMessageNotContaining("did not answer").hasMessageNotContaining("docker run");
        String name = "aneforge-up-parts-" + Long.toHexString(System.nanoTime());
        try {
            assertThat(Database.ensure("jdbc:postgresql://127.0.0.1:5432/" + name + "?connectTimeout=5", "postgres", "")).isTrue();
            assertThat(Database.ensure("jdbc:postgresql://127.0.0.1:5432/" + name, "postgres", "")).isFalse();
        } finally {
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "");
                 Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS \"" + name + "\"");
            }
        }
    }

    /** Whether this process ignores SIGINT (bit 2 of the SigIgn mask in /proc/self/status, Linux only). */
    private static boolean sigintIgnored() throws Exception {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) return false;
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16) & 0x2) != 0;
            }
        }
        return false;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * A terminal's Ctrl-C is a SIGINT to the whole foreground process group. It must reach only {@code up}
     * (here: {@link ChildrenHost}, made a group leader by setsid), which then stops its children one after the
     * other, newest first; a child that got the SIGINT itself would stop at the same moment as the others
     * (the registry together with the worker that still has to hand its lease back).
     */
    @Test
    void aSigintToTheProcessGroupReachesOnlyUpWhichStopsTheChildrenInOrder() throws Exception {
        // A build started in the background by a non-interactive shell (or under nohup) runs with SIGINT ignored, and
        // every process it starts inherits that: the JVM then never sees a Ctrl-C, in this test as in a real `up`.
        assumeFalse(sigintIgnored(), "SIGINT is ignored in this process tree (started in the background by a"
                + " non-interactive shell?): a Ctrl-C cannot be tested here");
        Path record = dir.resolve("signals.txt");
        Files.writeString(record, "");
        Process host = host(List.of("setsid"), record);
        try {
            assertThat(readUntil(host, "all started")).isTrue();
            Thread.sleep(500); // both bash children have set their traps (they print "ready" to their logs first)
            assertThat(Files.readString(dir.resolve("logs/second.log"))).contains("ready");
            assertThat(new ProcessBuilder("kill", "-INT", "--", "-" + host.pid()).inheritIO().start().waitFor()).isZero();
            assertThat(host.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(host.exitValue()).isEqualTo(130);
            assertThat(Files.readAllLines(record)).containsExactly("TERM second", "TERM first");
        } finally {
            host.destroyForcibly();
        }
    }

    /** An {@code up} killed outright (kill -9) leaves no children behind: the watchdog stops them. */
    @Test
    void childrenOfAKilledUpAreStoppedByTheWatchdog() throws Exception {
        Path record = dir.resolve("signals.txt");
        Files.writeString(record, "");
        Process host = host(List.of(), record);
        List<ProcessHandle> kids;
        try {
            assertThat(readUntil(host, "all started")).isTrue();
            Thread.sleep(500);
            kids = host.descendants().filter(h -> h.info().command().map(c -> c.endsWith("bash")).orElse(false)
                    && h.parent().map(pa -> pa.pid() == host.pid()).orElse(false)).toList();
            assertThat(kids).hasSize(3); // first, second and the watchdog
        } finally {
            host.destroyForcibly();
        }
        assertThat(host.waitFor(10, TimeUnit.SECONDS)).isTrue();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < end && kids.stream().anyMatch(ProcessHandle::isAlive)) Thread.sleep(200);
        assertThat(kids).noneMatch(ProcessHandle::isAlive);
        assertThat(Files.readAllLines(record)).containsExactly("TERM second", "TERM first");
        assertThat(Files.readString(dir.resolve("logs/watchdog.log"))).contains("aneforge up is gone without stopping its children");
    }

    @Test
    void withoutSetsidChildrenIgnoreSigintAndSighup() throws Exception {
        assertThat(Children.detachPrefix("/nonexistent")).startsWith("bash", "-c");
        assertThat(Children.detachPrefix("/nonexistent" + java.io.File.pathSeparator + "/usr/bin")).containsExactly("/usr/bin/setsid");
        Path record = dir.resolve("signals.txt");
        Files.writeString(record, "");
        StringWriter text = new StringWriter();
        try (Children children = new Children(dir.resolve("logs"), new PrintWriter(text, true), 5000,
                Children.detachPrefix("/nonexistent"))) {
            Children.Child c = children.start("child", List.of("bash", "-c", "echo ready; while true; do sleep 0.2; done"),
                    Map.of(), dir);
            Thread.sleep(500);
            ProcessHandle.of(c.process().pid()).orElseThrow();
            assertThat(new ProcessBuilder("kill", "-INT", Long.toString(c.process().pid())).start().waitFor()).isZero();
            assertThat(new ProcessBuilder("kill", "-HUP", Long.toString(c.process().pid())).start().waitFor()).isZero();
            Thread.sleep(500);
            assertThat(c.process().isAlive()).as("SIGINT and SIGHUP are ignored").isTrue();
        }
    }

    /** Two runs in one home directory would share its database, blob store, worker id and logs: the second fails at once. */
    @Test
    void aSecondRunInTheSameHomeFailsAtOnceNamingTheOtherRunAndTheFix() throws Exception {
        Path home = dir.resolve("home");
        Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), HomeLockHolder.class.getName(), home.toString()).redirectErrorStream(true).start();
        try {
            assertThat(readUntil(other, "locked")).isTrue();
            assertThatThrownBy(() -> HomeLock.acquire(home)).isInstanceOf(UsageException.class)
                    .hasMessage("another aneforge up (pid " + other.pid() + ") is running with the state directory " + home
                            + ": stop it (Ctrl-C in its terminal, or kill " + other.pid() + "), or run this one with another "
                            + "--home <dir> (and other --port, --worker-port and --database, so the two do not share them)");
            // The exit code of a UsageException.
            StringWriter err = new StringWriter();
            assertThat(io.aneforge.cli.AneForge.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "up",
                    "--home", home.toString(), "--port", Integer.toString(freePort()), "--worker-port",
                    Integer.toString(freePort()))).isEqualTo(2);
            assertThat(err.toString()).contains("another aneforge up (pid " + other.pid() + ") is running with the state directory");
        } finally {
            other.destroyForcibly();
            other.waitFor();
        }
        // The lock died with its holder (kill -9); the file it left behind does not count.
        assertThat(Files.readString(home.resolve("up.lock")).trim()).isEqualTo(Long.toString(other.pid()));
        try (HomeLock lock = HomeLock.acquire(home)) {
            assertThat(Files.readString(home.resolve("up.lock")).trim()).isEqualTo(Long.toString(ProcessHandle.current().pid()));
            assertThatThrownBy(() -> HomeLock.acquire(home)).isInstanceOf(UsageException.class)
                    .hasMessageContaining("(pid " + ProcessHandle.current().pid() + ")");
        }
        HomeLock.acquire(home).close();
    }

    private Process host(List<String> prefix, Path record) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(prefix);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), ChildrenHost.class.getName(), dir.resolve("logs").toString(), record.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        return p;
    }

    private static boolean readUntil(Process p, String line) throws Exception {
        java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        for (String l; (l = r.readLine()) != null; ) {
            if (l.equals(line)) return true;
        }
        return false;
    }

    @Test
    void childrenAreStoppedNewestFirstAndKilledAfterTheGracePeriod() throws Exception {
        StringWriter text = new StringWriter();
        PrintWriter out = new PrintWriter(text, true);
        Children.Child polite;
        Children.Child stubborn;
        Children stopped;
        try (Children children = new Children(dir.resolve("logs"), out, 1000)) {
            stopped = children;
            polite = children.start("polite", List.of("sleep", "600"), Map.of(), dir);
            // Ignores SIGTERM, so only destroyForcibly ends it.
            stubborn = children.start("stubborn", List.of("bash", "-c", "trap '' TERM; echo up; while true; do sleep 1; done"),
                    Map.of(), dir);
            Thread.sleep(300);
            assertThat(children.exited()).isEmpty();
        }
        assertThat(polite.process().isAlive()).isFalse();
        assertThat(stopped.exited()).as("a stop that was asked for is not reported as a crash").isEmpty();
        assertThat(stubborn.process().isAlive()).isFalse();
        String log = text.toString();
        assertThat(log.indexOf("stopping stubborn")).isLessThan(log.indexOf("stopping polite"));
        assertThat(log).contains("stubborn did not stop within 1 s; killing it").endsWith("stopped" + System.lineSeparator());
        // Each stop says how long it took: the killed one past the grace period, the polite one at once.
        assertThat(log).containsPattern("stubborn killed; gone after (1|2)\\.\\d s");
        assertThat(log).containsPattern("polite stopped in 0\\.\\d s");
        assertThat(Files.readString(dir.resolve("logs/stubborn.log"))).contains("up");
    }
}
