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

    @Test
    void precisionHelpNamesTheFormsThatSelectOneW8a8Mode() {
        for (String command : new String[] {"resolve", "pull"}) {
            Cli help = Cli.run(command, "--help");
            assertThat(help.code()).isZero();
            // the option's entry in the list (a line of its own, not the usage line) up to the next option
            int start = help.out().indexOf("\n      --precision=P");
            assertThat(start).as(help.out()).isPositive();
            String precision = help.out().substring(start, help.out().indexOf("\n      --", start + 1))
                    .replaceAll("\\s+", " ");
            assertThat(precision).as(command).contains("w8a8 is both activation modes", "w8a8-affine",
                    "w8a8-symmetric for symmetric w8a8 alone");
        }
    }
}
