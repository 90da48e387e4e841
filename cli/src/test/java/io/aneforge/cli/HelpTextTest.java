package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Help texts read as whole sentences: `aneforge --help` shows each command by the first line of its description. */
class HelpTextTest {

    @Test
    void everyCommandInTheListIsASentence() {
        Cli help = Cli.run("--help");
        assertThat(help.code()).isZero();
        String commands = help.out().substring(help.out().indexOf("Commands:\n") + "Commands:\n".length());
        List<String> entries = new ArrayList<>();
        for (String line : commands.split("\n")) {
            if (line.startsWith("  ") && !line.startsWith("    ")) {
                entries.add(line.strip());
            } else if (!line.isBlank()) {
                entries.set(entries.size() - 1, entries.get(entries.size() - 1) + " " + line.strip());
            }
        }
        assertThat(entries).hasSizeGreaterThan(8).allSatisfy(e -> assertThat(e).endsWith("."));
        assertThat(entries).anySatisfy(e -> assertThat(e)
                .isEqualTo("up       Start a local ANE Forge (registry, converter worker, reference-cpu agent)."));
    }

    @Test
    void upHelpLinesAreNotWrappedMidSentence() {
        Cli help = Cli.run("up", "--help");
        assertThat(help.code()).isZero();
        String description = help.out().substring(help.out().indexOf("\nStart "), help.out().indexOf("\n      --home"));
        assertThat(description).isEqualTo("""

                Start a local ANE Forge (registry, converter worker, reference-cpu agent).
                Then publish the all-MiniLM-L6-v2 demo model and wait until it is READY
                (converted and checked). Ctrl-C stops everything.
                PostgreSQL: SPRING_DATASOURCE_URL, else
                jdbc:postgresql://127.0.0.1:5432/<--database> (created if missing).""");
    }
}
