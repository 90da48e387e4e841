package io.aneforge.mil;

import java.util.regex.Pattern;

/** MIL identifier rules: {@code [A-Za-z_][A-Za-z0-9_@]*}. */
public final class Names {
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_@]*");
    private static final Pattern INVALID = Pattern.compile("[^A-Za-z0-9_@]");

    private Names() {
    }

    public static boolean isIdentifier(String s) {
        return s != null && IDENTIFIER.matcher(s).matches();
    }

    public static String requireIdentifier(String s) {
        if (!isIdentifier(s)) {
            throw new MilException("'" + s + "' is not a valid MIL identifier (must match [A-Za-z_][A-Za-z0-9_@]*); "
                    + "use Names.sanitize to derive one");
        }
        return s;
    }

    /** Deterministically maps any string to an identifier: invalid characters become '_'. */
    public static String sanitize(String s) {
        String t = INVALID.matcher(s).replaceAll("_");
        if (t.isEmpty() || !Character.isLetter(t.charAt(0)) && t.charAt(0) != '_') {
            t = "_" + t;
        }
        return t;
    }
}
