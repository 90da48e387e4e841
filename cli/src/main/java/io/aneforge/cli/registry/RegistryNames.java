package io.aneforge.cli.registry;

import io.aneforge.cli.UsageException;
import java.util.regex.Pattern;

/**
 * The registry's rules for names, checked before the first request so that a bad name fails as a usage
 * error (exit 2) and leaves nothing behind: the same patterns as registry-api's {@code Models.NAME} and
 * {@code Aliases.NAME}, and its "reason must not be blank".
 */
public final class RegistryNames {

    static final Pattern MODEL = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");
    static final Pattern ALIAS = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private RegistryNames() {
    }

    public static String model(String name) {
        if (name == null || !MODEL.matcher(name).matches()) {
            throw new UsageException("--model '" + name + "' is not a registry model name: use lower-case letters, digits, "
                    + "'.', '_' and '-', starting with a letter or digit, at most 128 characters (" + MODEL.pattern() + ")");
        }
        return name;
    }

    public static String alias(String name) {
        if (name == null || !ALIAS.matcher(name).matches()) {
            throw new UsageException("--alias '" + name + "' is not a registry alias name: use lower-case letters, digits, "
                    + "'.', '_' and '-', starting with a letter or digit, at most 64 characters (" + ALIAS.pattern() + ")");
        }
        return name;
    }

    public static String reason(String reason) {
        if (reason == null || reason.isBlank()) {
            throw new UsageException("--reason must not be blank: say why the alias moves, e.g. --reason \"passed eval\"");
        }
        return reason;
    }
}
