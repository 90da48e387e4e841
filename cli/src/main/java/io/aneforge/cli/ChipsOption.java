package io.aneforge.cli;

import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Checks of a {@code --chips} option as typed. Picocli splits {@code --chips ,} into no chips at all (Java's
 * split drops trailing empty strings), which every command reads as "all chips": {@code convert --chips ,} built
 * 30 variants. An empty entry is refused instead, as {@code --chips ""} already was.
 */
public final class ChipsOption {

    private ChipsOption() {}

    /**
     * Chip ids as the catalog spells them, whatever their case ({@code a17_pro} is {@code A17_PRO}), like
     * --precision and --target; unknown ids stay as given, for the error that names them.
     */
    public static List<String> canonical(List<String> chips) {
        ChipCatalog catalog = ChipCatalog.builtIn();
        List<String> ids = new ArrayList<>();
        for (String c : chips) {
            String upper = c.trim().toUpperCase(Locale.ROOT);
            ids.add(catalog.chip(c).isEmpty() && catalog.chip(upper).isPresent() ? upper : c);
        }
        return ids;
    }

    /** Refuses an empty entry in any {@code --chips} value given on the command line (none given: nothing to check). */
    public static void refuseEmptyEntries(CommandSpec spec) {
        OptionSpec option = spec.findOption("--chips");
        if (option == null || spec.commandLine().getParseResult() == null) {
            return;
        }
        var matched = spec.commandLine().getParseResult().matchedOption("--chips");
        if (matched == null) {
            return;
        }
        for (String raw : matched.originalStringValues()) {
            for (String entry : raw.split(",", -1)) {
                if (entry.isBlank()) {
                    throw new UsageException("--chips '" + raw + "' has an empty entry: pass chip ids separated by commas, "
                            + "e.g. --chips A17_PRO,M4 (leave --chips out for every chip), from " + ids());
                }
            }
        }
    }

    /** Refuses chip ids the catalog does not know, naming the known ones. */
    public static void refuseUnknown(List<String> chips) {
        ChipCatalog catalog = ChipCatalog.builtIn();
        for (String c : chips) {
            if (catalog.chip(c).isEmpty()) {
                throw new UsageException("--chips: unknown chip '" + c + "': use catalog ids " + ids());
            }
        }
    }

    private static List<String> ids() {
        return ChipCatalog.builtIn().chips().stream().map(Chip::id).toList();
    }
}
