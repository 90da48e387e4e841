package io.aneforge.cli.up;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The child processes of {@code aneforge up}, stopped in reverse start order: SIGTERM first (each
 * application shuts down gracefully; the agent releases its job), then, after a grace period, killed.
 * Children log to {@code <logs>/<name>.log}.
 */
public final class Children implements AutoCloseable {

    /** A started child: its name (also its log file's name), process and log. */
    public record Child(String name, Process process, Path log) {}

    private final Path logs;
    private final PrintWriter out;
    private final long graceMillis;
    private final List<Child> started = new ArrayList<>();
    private boolean closed;

    public Children(Path logs, PrintWriter out, long graceMillis) {
        this.logs = logs;
        this.out = out;
        this.graceMillis = graceMillis;
    }

    /** Starts {@code command} with {@code env} added to this process's environment, output appended to its log. */
    public synchronized Child start(String name, List<String> command, Map<String, String> env, Path workDir)
            throws IOException {
        if (closed) throw new IllegalStateException("children already stopped; not starting " + name);
        Files.createDirectories(logs);
        Path log = logs.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        Child c = new Child(name, p, log);
        started.add(c);
        out.println("started " + name + " (pid " + p.pid() + ", log " + log + ")");
        out.flush();
        return c;
    }

    /** The first child that has exited, if any (a crashed child ends {@code up}); none once stopping began. */
    public synchronized java.util.Optional<Child> exited() {
        if (closed) return java.util.Optional.empty(); // Ctrl-C: children exiting now is what was asked for
        return started.stream().filter(c -> !c.process().isAlive()).findFirst();
    }

    /** Stops every child, newest first: destroy, wait for the grace period, then destroy forcibly. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (int i = started.size() - 1; i >= 0; i--) {
            Child c = started.get(i);
            if (!c.process().isAlive()) continue;
            out.println("stopping " + c.name() + " (pid " + c.process().pid() + ")");
            out.flush();
            c.process().destroy();
            try {
                if (!c.process().waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
                    out.println(c.name() + " did not stop within " + graceMillis / 1000 + " s; killing it");
                    out.flush();
                    c.process().destroyForcibly();
                    c.process().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                c.process().destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        out.println("stopped");
        out.flush();
    }
}
