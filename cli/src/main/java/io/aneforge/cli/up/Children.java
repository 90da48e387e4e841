package io.aneforge.cli.up;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The child processes of {@code aneforge up}, stopped in reverse start order: SIGTERM first (each
 * application shuts down gracefully; the worker and the agent hand their leases back to the registry,
 * which is therefore stopped last), then, after a grace period, killed. Children log to
 * {@code <logs>/<name>.log}.
 *
 * <p>Signals meant for {@code up} must not reach the children directly: a terminal's Ctrl-C sends SIGINT to
 * the whole foreground process group, and a closed terminal SIGHUP, which would stop the registry at the
 * same moment as the worker, whose lease hand-back then finds no registry. So each child is started in a
 * session of its own ({@code setsid}, util-linux); where there is no {@code setsid} (macOS) it starts with
 * SIGINT and SIGHUP ignored, which the JVM keeps. Either way only {@code up} acts on them and stops the
 * children in order.
 *
 * <p>Detached children would outlive an {@code up} that is killed outright (kill -9, OOM killer), so a
 * watchdog ({@code bash}) is started with the first child: {@code up} writes every child's pid to its stdin.
 * When that pipe ends without the word {@code done} (which {@link #close()} writes after stopping every child),
 * {@code up} died without stopping them, and the watchdog stops them as {@code up} would have: newest first,
 * SIGTERM, then SIGKILL after the grace period. Its output goes to {@code <logs>/watchdog.log}.
 */
public final class Children implements AutoCloseable {

    /** A started child: its name (also its log file's name), process and log. */
    public record Child(String name, Process process, Path log) {}

    /** The watchdog: reads pids until "done" or EOF; on EOF stops them newest first. $1 = grace seconds. */
    private static final String WATCHDOG = """
            trap '' INT HUP TERM
            grace="$1"; pids=""
            while IFS= read -r line; do
              if [ "$line" = done ]; then exit 0; fi
              pids="$line $pids"
            done
            for p in $pids; do
              kill -0 "$p" 2>/dev/null || continue
              echo "aneforge up is gone without stopping its children: stopping pid $p"
              kill -TERM "$p" 2>/dev/null
              i=0
              while kill -0 "$p" 2>/dev/null && [ "$i" -lt $((grace * 2)) ]; do sleep 0.5; i=$((i + 1)); done
              if kill -0 "$p" 2>/dev/null; then echo "pid $p did not stop within $grace s; killing it"; kill -KILL "$p"; fi
            done
            """;

    private final Path logs;
    private final PrintWriter out;
    private final long graceMillis;
    private final List<String> detach;
    private final List<Child> started = new ArrayList<>();
    private Process watchdog;
    private boolean closed;

    public Children(Path logs, PrintWriter out, long graceMillis) {
        this(logs, out, graceMillis, detachPrefix(System.getenv("PATH")));
    }

    Children(Path logs, PrintWriter out, long graceMillis, List<String> detach) {
        this.logs = logs;
        this.out = out;
        this.graceMillis = graceMillis;
        this.detach = List.copyOf(detach);
    }

    /**
     * The command prefix that keeps a child out of the signals of {@code up}'s process group: {@code setsid}
     * when it is on {@code path}; else bash ignoring SIGINT and SIGHUP, then exec'ing the command (so the pid
     * is the child's own either way: setsid execs too, as a child of a JVM is never a process group leader).
     */
    static List<String> detachPrefix(String path) {
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "setsid"))) return List.of(Path.of(dir, "setsid").toString());
            }
        }
        return List.of("bash", "-c", "trap '' INT HUP; exec \"$@\"", "aneforge-up-child");
    }

    /** Starts {@code command} with {@code env} added to this process's environment, output appended to its log. */
    public synchronized Child start(String name, List<String> command, Map<String, String> env, Path workDir)
            throws IOException {
        if (closed) throw new IllegalStateException("children already stopped; not starting " + name);
        Files.createDirectories(logs);
        if (watchdog == null) startWatchdog();
        Path log = logs.resolve(name + ".log");
        List<String> full = new ArrayList<>(detach);
        full.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(full).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        Child c = new Child(name, p, log);
        started.add(c);
        tellWatchdog(Long.toString(p.pid()));
        out.println("started " + name + " (pid " + p.pid() + ", log " + log + ")");
        out.flush();
        return c;
    }

    private void startWatchdog() throws IOException {
        long graceSeconds = Math.max(1, (graceMillis + 999) / 1000);
        watchdog = new ProcessBuilder("bash", "-c", WATCHDOG, "aneforge-up-watchdog", Long.toString(graceSeconds))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve("watchdog.log").toFile()))
                .start();
    }

    private void tellWatchdog(String line) {
        try {
            OutputStream in = watchdog.getOutputStream();
            in.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            in.flush();
        } catch (IOException e) {
            // The watchdog is gone: only a kill -9 of up would now leave children behind; say so, go on.
            out.println("the watchdog that stops the children if up is killed is gone (" + e.getMessage() + ")");
            out.flush();
        }
    }

    /** The watchdog process (tests), if started. */
    synchronized Optional<Process> watchdog() {
        return Optional.ofNullable(watchdog);
    }

    /** The first child that has exited, if any (a crashed child ends {@code up}); none once stopping began. */
    public synchronized Optional<Child> exited() {
        if (closed) return Optional.empty(); // Ctrl-C: children exiting now is what was asked for
        return started.stream().filter(c -> !c.process().isAlive()).findFirst();
    }

    /** A duration in nanoseconds as seconds with one decimal, e.g. {@code 1.4 s}. */
    static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
    }

    /**
     * Stops every child, newest first: destroy, wait for the grace period, then destroy forcibly. Prints how long
     * each one took to stop.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (int i = started.size() - 1; i >= 0; i--) {
            Child c = started.get(i);
            if (!c.process().isAlive()) continue;
            out.println("stopping " + c.name() + " (pid " + c.process().pid() + ")");
            out.flush();
            long start = System.nanoTime();
            c.process().destroy();
            try {
                if (c.process().waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
                    // How long each stop took, so that a slow one (a drain waiting on something) shows in the log.
                    out.println(c.name() + " stopped in " + seconds(System.nanoTime() - start));
                } else {
                    out.println(c.name() + " did not stop within " + graceMillis / 1000 + " s; killing it");
                    out.flush();
                    c.process().destroyForcibly();
                    boolean gone = c.process().waitFor(10, TimeUnit.SECONDS);
                    out.println(c.name() + (gone ? " killed; gone after " : " still there after ")
                            + seconds(System.nanoTime() - start));
                }
                out.flush();
            } catch (InterruptedException e) {
                c.process().destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (watchdog != null) {
            tellWatchdog("done");
            try {
                watchdog.getOutputStream().close();
                watchdog.waitFor(5, TimeUnit.SECONDS);
            } catch (IOException e) {
                // it has gone already
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        out.println("stopped");
        out.flush();
    }
}
