package io.aneforge.cli.progress;

import java.io.PrintWriter;

/**
 * A single redrawn line: {@code converting [########------]  8/30  m2-ios18-ane-int8-block32-s128}.
 * Step details are printed above the bar so that the results stay on screen.
 */
final class TerminalBar implements Progress {

    private final PrintWriter out;
    private final int width;
    private String phase = "";
    private int steps;
    private int done;
    private int lastLength;

    TerminalBar(PrintWriter out, int width) {
        this.out = out;
        this.width = width;
    }

    @Override
    public synchronized void begin(String phase, int steps) {
        this.phase = phase;
        this.steps = steps;
        this.done = 0;
        redraw("");
    }

    @Override
    public synchronized void step(String label, String detail) {
        done++;
        clear();
        out.println(label + (detail.isEmpty() ? "" : "  " + detail));
        redraw(done < steps ? "" : "done");
    }

    @Override
    public synchronized void note(String message) {
        clear();
        out.println(message);
        redraw("");
    }

    @Override
    public synchronized void end() {
        clear();
        out.flush();
    }

    /** The bar text (package-private for tests). */
    static String bar(String phase, int done, int steps, int width, String label) {
        int filled = steps == 0 ? width : (int) ((long) done * width / steps);
        return phase + " [" + "#".repeat(filled) + "-".repeat(width - filled) + "] " + done + "/" + steps
                + (label.isEmpty() ? "" : "  " + label);
    }

    private void redraw(String label) {
        if (steps == 0) {
            return;
        }
        String text = bar(phase, done, steps, width, label);
        out.print("\r" + text + " ".repeat(Math.max(0, lastLength - text.length())));
        lastLength = text.length();
        out.flush();
    }

    private void clear() {
        if (lastLength > 0) {
            out.print("\r" + " ".repeat(lastLength) + "\r");
            lastLength = 0;
        }
    }
}
