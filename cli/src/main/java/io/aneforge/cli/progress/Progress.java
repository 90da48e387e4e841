package io.aneforge.cli.progress;

import java.io.PrintWriter;

/**
 * Reports the steps of a long command: a redrawn bar on a terminal, one plain line per step
 * otherwise (pipes, logs, CI), so that redirected output stays readable. Thread-safe: a conversion's
 * worker threads may note something (calibration) while the main thread reports steps.
 */
public interface Progress {

    /** A phase with a known number of steps begins. */
    void begin(String phase, int steps);

    /** One step of the current phase finished; {@code detail} says what it produced. */
    void step(String label, String detail);

    /** A message that is not a step (e.g. "loading model"). */
    void note(String message);

    /** The current phase is over. */
    void end();

    /** A bar when {@code terminal} is true, plain lines otherwise. */
    static Progress to(PrintWriter out, boolean terminal) {
        return terminal ? new TerminalBar(out, 30) : new PlainLines(out);
    }

    /** Whether stdout is an interactive terminal (no console when it is redirected). */
    static boolean stdoutIsTerminal() {
        return System.console() != null && !"dumb".equals(System.getenv("TERM"));
    }
}
