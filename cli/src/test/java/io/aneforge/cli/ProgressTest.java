package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.progress.Progress;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressTest {

    @Test
    void plainLinesNumberTheSteps() {
        StringWriter s = new StringWriter();
        Progress p = Progress.to(new PrintWriter(s), false);
        p.note("loading x");
        p.begin("converting 2 variants", 2);
        p.step("a", "sha256 1");
        p.step("b", "");
        p.end();
        assertThat(s.toString()).isEqualTo("loading x\nconverting 2 variants (2 steps)\n[1/2] a  sha256 1\n[2/2] b\n");
    }

    @Test
    void terminalBarRedrawsOneLineAndKeepsResultsAbove() {
        StringWriter s = new StringWriter();
        Progress p = Progress.to(new PrintWriter(s), true);
        p.begin("converting", 4);
        p.step("a", "ok");
        p.end();
        String text = s.toString();
        assertThat(text).startsWith("\rconverting [------------------------------] 0/4");
        assertThat(text).contains("a  ok\n");
        assertThat(text).contains("\rconverting [#######-----------------------] 1/4");
        // The bar is erased at the end: the last thing written is a carriage return after blanks.
        assertThat(text).endsWith("\r");
    }
}
