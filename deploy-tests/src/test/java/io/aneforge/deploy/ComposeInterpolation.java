package io.aneforge.deploy;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Docker Compose's variable interpolation, as `docker compose config` applies it: {@code $$} is a
 * literal dollar, {@code ${VAR}} / {@code $VAR} the variable (empty when unset),
 * {@code ${VAR:-default}} the default when unset or empty, {@code ${VAR-default}} when unset,
 * {@code ${VAR:?message}} / {@code ${VAR?message}} an error when unset.
 */
final class ComposeInterpolation {

    private final Map<String, String> environment;
    private final Set<String> withoutDefault = new LinkedHashSet<>();

    ComposeInterpolation(Map<String, String> environment) {
        this.environment = environment;
    }

    /** Variables met without a default (compose substitutes an empty string and warns). */
    Set<String> variablesWithoutDefault() {
        return withoutDefault;
    }

    String apply(String text) {
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c != '$' || i + 1 == text.length()) {
                out.append(c);
                i++;
                continue;
            }
            char next = text.charAt(i + 1);
            if (next == '$') {
                out.append('$');
                i += 2;
            } else if (next == '{') {
                int end = text.indexOf('}', i + 2);
                if (end < 0) {
                    throw new IllegalArgumentException("unclosed ${ at offset " + i + ": " + excerpt(text, i));
                }
                out.append(expand(text.substring(i + 2, end)));
                i = end + 1;
            } else if (Character.isLetter(next) || next == '_') {
                int end = i + 1;
                while (end < text.length() && (Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '_')) {
                    end++;
                }
                String name = text.substring(i + 1, end);
                withoutDefault.add(name);
                out.append(environment.getOrDefault(name, ""));
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private String expand(String expression) {
        int op = 0;
        while (op < expression.length()
                && (Character.isLetterOrDigit(expression.charAt(op)) || expression.charAt(op) == '_')) {
            op++;
        }
        String name = expression.substring(0, op);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("invalid interpolation ${" + expression + "}: no variable name");
        }
        String rest = expression.substring(op);
        String value = environment.get(name);
        if (rest.isEmpty()) {
            withoutDefault.add(name);
            return value == null ? "" : value;
        }
        if (rest.startsWith(":-")) {
            return value == null || value.isEmpty() ? rest.substring(2) : value;
        }
        if (rest.startsWith("-")) {
            return value == null ? rest.substring(1) : value;
        }
        if (rest.startsWith(":?") || rest.startsWith("?")) {
            boolean missing = rest.startsWith(":?") ? value == null || value.isEmpty() : value == null;
            if (missing) {
                throw new IllegalArgumentException("required variable " + name + " is not set: "
                        + rest.substring(rest.indexOf('?') + 1));
            }
            return value;
        }
        if (rest.startsWith(":+")) {
            return value == null || value.isEmpty() ? "" : rest.substring(2);
        }
        throw new IllegalArgumentException("unsupported interpolation ${" + expression + "}");
    }

    private static String excerpt(String text, int at) {
        return text.substring(at, Math.min(text.length(), at + 40));
    }
}
