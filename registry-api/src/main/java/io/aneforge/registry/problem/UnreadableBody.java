package io.aneforge.registry.problem;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.temporal.Temporal;
import java.time.temporal.TemporalAmount;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * The detail of a 400 for a request body that could not be read: where (a JSON pointer, RFC 6901) and what was
 * expected there, in JSON's words. Never Jackson's own message, which names Java classes and echoes the source.
 */
final class UnreadableBody {

    private static final Pattern DUPLICATE = Pattern.compile("Duplicate Object property \"(.*)\"", Pattern.DOTALL);
    private static final int MAX_NAME = 64;

    private UnreadableBody() {
    }

    /** {@code cause} is the reader's exception (any of the chain), or null when there was no body at all. */
    static String detail(Throwable cause) {
        JacksonException j = jackson(cause);
        if (j == null) {
            return "the request needs a JSON body (send Content-Type: application/json)";
        }
        String at = pointer(j.getPath());
        String where = at.isEmpty() ? "the body" : "field '" + at + "'";
        String original = j.getOriginalMessage() == null ? "" : j.getOriginalMessage();
        if (j instanceof InputCoercionException c) {
            return where + " is out of range: expected " + expected(c.getTargetType());
        }
        if (j instanceof UnrecognizedPropertyException) {
            return where + " is not a field of this request";
        }
        if (original.contains(NulTextRules.NUL_HINT)) {
            return where + ": " + NulTextRules.NUL_HINT;
        }
        if (j instanceof MismatchedInputException m) {
            if (original.startsWith("No content to map") || original.contains("end-of-input")) {
                return "the request body is empty or ends early: send a whole JSON " + expected(m.getTargetType());
            }
            return where + " must be " + expected(m.getTargetType());
        }
        if (j instanceof StreamReadException) {
            Matcher dup = DUPLICATE.matcher(original);
            if (dup.find()) {
                String name = dup.group(1);
                if (name.length() > MAX_NAME) name = name.substring(0, MAX_NAME) + "…";
                String parent = at.isEmpty() ? "" : " in '" + at + "'";
                return "the request body has the key '" + escape(name) + "' twice" + parent + ": send each field once";
            }
            String why = original.contains("end-of-input") ? ": it ends before the JSON is complete"
                    : original.contains("CTRL-CHAR") ? ": a string holds a raw control character (escape it, e.g. \\u0009)"
                    : "";
            return "the request body is not valid JSON" + why + location(j.getLocation());
        }
        return where + " could not be read as this endpoint's JSON";
    }

    private static JacksonException jackson(Throwable t) {
        for (int depth = 0; t != null && depth < 10; t = t.getCause(), depth++) {
            if (t instanceof JacksonException j) return j;
        }
        return null;
    }

    /** A JSON pointer (RFC 6901) to the field, e.g. {@code /source/revision} or {@code /chips/2}. */
    static String pointer(List<JacksonException.Reference> path) {
        StringBuilder b = new StringBuilder();
        for (JacksonException.Reference r : path) {
            b.append('/');
            if (r.getPropertyName() != null) {
                b.append(escape(r.getPropertyName()).replace("~", "~0").replace("/", "~1"));
            } else if (r.getIndex() >= 0) {
                b.append(r.getIndex());
            } else {
                b.append('?');
            }
        }
        return b.toString();
    }

    /** What a field of this type takes, in JSON terms. */
    static String expected(Class<?> type) {
        if (type == null) return "a different JSON value";
        if (type == String.class || type == Character.class || type == char.class) return "a string";
        if (type.isEnum()) return "a string naming one of the allowed values";
        if (type == UUID.class) return "a string holding a UUID";
        if (Temporal.class.isAssignableFrom(type) || TemporalAmount.class.isAssignableFrom(type)) {
            return "a string holding a date, time or duration";
        }
        if (type == int.class || type == Integer.class) return "a whole number from -2147483648 to 2147483647";
        if (type == long.class || type == Long.class) return "a whole number from -9223372036854775808 to 9223372036854775807";
        if (type == short.class || type == Short.class || type == byte.class || type == Byte.class
                || type == BigInteger.class) return "a whole number";
        if (type == double.class || type == Double.class || type == float.class || type == Float.class
                || type == BigDecimal.class || Number.class.isAssignableFrom(type)) return "a number";
        if (type == boolean.class || type == Boolean.class) return "true or false";
        if (type.isArray() || Collection.class.isAssignableFrom(type)) return "an array";
        if (Map.class.isAssignableFrom(type)) return "an object";
        if (type.getName().startsWith("tools.jackson.databind.")) return "JSON";
        return "an object";
    }

    private static String location(TokenStreamLocation loc) {
        if (loc == null || loc.getLineNr() < 1) return "";
        return " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }

    /** Control characters of client text shown as \\uXXXX (a NUL must not reach a log or a terminal raw). */
    private static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x7f) b.append(String.format("\\u%04x", c));
            else b.appendCodePoint(c);
        });
        return b.toString();
    }
}
