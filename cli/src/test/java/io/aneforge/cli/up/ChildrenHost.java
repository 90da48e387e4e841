package io.aneforge.cli.up;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for {@code up} in a JVM of its own (for signals the test JVM must not get): starts two children
 * named {@code first} and {@code second} that append every SIGINT and SIGTERM they get to {@code args[1]},
 * stops them from a shutdown hook as {@code up} does, and waits. {@code args[0]}: the logs directory.
 */
public final class ChildrenHost {

    private ChildrenHost() {
    }

    public static void main(String[] args) throws Exception {
        Path logs = Path.of(args[0]);
        String record = args[1];
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        Children children = new Children(logs, out, 5_000);
        Runtime.getRuntime().addShutdownHook(new Thread(children::close));
        for (String name : List.of("first", "second")) {
            children.start(name, List.of("bash", "-c", "trap 'echo \"INT " + name + "\" >> \"$R\"' INT; "
                    + "trap 'echo \"TERM " + name + "\" >> \"$R\"; exit 0' TERM; echo ready; while true; do sleep 0.2; done"),
                    Map.of("R", record), logs);
        }
        out.println("all started");
        Thread.sleep(Long.MAX_VALUE);
    }
}
