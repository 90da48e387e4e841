package io.aneforge.cli.progress;

import java.io.PrintWriter;

/** One line per step: {@code [3/30] a17_pro-ios16-ane-fp16-s128  sha256 1f2e…  cosine 0.99998}. */
final class PlainLines implements Progress {

    private final PrintWriter out;
    private int steps;
    private int done;

    PlainLines(PrintWriter out) {
        this.out = out;
    }

    @Override
    public synchronized void begin(String phase, int steps) {
        this.steps = steps;
        this.done = 0;
        out.println(phase + " (" + steps + (steps == 1 ? " step)" : " steps)"));
        out.flush();
    }

    @Override
    public synchronized void step(String label, String detail) {
        done++;
        out.println("[" + done + "/" + steps + "] " + label + (detail.isEmpty() ? "" : "  " + detail));
        out.flush();
    }

    @Override
    public synchronized void note(String message) {
        out.println(message);
        out.flush();
    }

    @Override
    public synchronized void end() {
        out.flush();
    }
}
