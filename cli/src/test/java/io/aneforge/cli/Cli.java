package io.aneforge.cli;

import io.aneforge.cli.registry.BlobCache;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.io.StringWriter;
import java.util.Map;

/** Runs the command line in-process and keeps what it printed. */
record Cli(int code, String out, String err) {

    static Cli run(String... args) {
        return run(System.getenv(), args);
    }

    /**
     * With {@code environment} in place of the process's environment (registry URL, token, timeouts, Hub).
     * Unless it names {@value BlobCache#DIR_ENV}, each call gets a cache directory of its own that nothing
     * else uses, so {@code pull} always downloads and never writes into the user's home; a test of the cache
     * passes the variable itself.
     */
    static Cli run(Map<String, String> environment, String... args) {
        Map<String, String> env = environment;
        if (!environment.containsKey(BlobCache.DIR_ENV)) {
            env = new HashMap<>(environment);
            env.put(BlobCache.DIR_ENV, CACHES.resolve("call-" + CALLS.incrementAndGet()).toString());
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = AneForge.run(new PrintWriter(out, true), new PrintWriter(err, true), env, args);
        return new Cli(code, out.toString(), err.toString());
    }

    /** Parent of the per-call cache directories: created once per test JVM, removed when it exits. */
    private static final Path CACHES = createCaches();
    private static final AtomicInteger CALLS = new AtomicInteger();

    private static Path createCaches() {
        try {
            Path dir = Files.createTempDirectory("aneforge-cli-test-caches");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> ConvertCommand.delete(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
