package io.aneforge.names;

import java.util.regex.Pattern;

/**
 * The registry's rules for the names clients choose: model names, alias names and the reason an alias move or a
 * yank must give. One definition, so the registry (which refuses a bad name with a 400) and the CLI (which refuses
 * it as a usage error before its first request, leaving nothing behind) cannot drift apart. Each side words its
 * own message for its own audience (the API names the field, the CLI its option).
 */
public final class RegistryNames {

    /** A model's name: a letter or digit, then up to 127 lower-case letters, digits, '.', '_' or '-'. */
    public static final Pattern MODEL = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");
    /** An alias's name: as a model's name, at most 64 characters. */
    public static final Pattern ALIAS = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private RegistryNames() {
    }

    public static boolean isModel(String name) {
        return name != null && MODEL.matcher(name).matches();
    }

    public static boolean isAlias(String name) {
        return name != null && ALIAS.matcher(name).matches();
    }

    /** A reason is required and must say something: not null, not blank. */
    public static boolean isReason(String reason) {
        return reason != null && !reason.isBlank();
    }
}
