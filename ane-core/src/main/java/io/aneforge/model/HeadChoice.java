package io.aneforge.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Which task head of a checkpoint to import ({@code convert --head}): the one kind {@code architectures} names
 * ({@link #DEFAULT}; two kinds are refused), none (the base model; every head dropped and named), or one kind.
 *
 * @param kind the chosen kind, null for the default or none
 * @param none the base model's outputs, whatever heads the checkpoint has
 */
public record HeadChoice(TaskHead.Kind kind, boolean none) {
    public static final HeadChoice DEFAULT = new HeadChoice(null, false);
    public static final HeadChoice NONE = new HeadChoice(null, true);

    public HeadChoice {
        if (none && kind != null) {
            throw new IllegalStateException("a head choice is a kind or none, not both");
        }
    }

    public static HeadChoice of(TaskHead.Kind kind) {
        return new HeadChoice(kind, false);
    }

    /** The values {@link #parse} takes, for help texts and errors: {@code convert|none|sequence-classification|...}. */
    public static String values() {
        return "convert, none, " + Arrays.stream(TaskHead.Kind.values()).map(TaskHead.Kind::id)
                .collect(Collectors.joining(", "));
    }

    /**
     * {@code convert} (the default), {@code none} or a kind's id ({@code sequence-classification}).
     *
     * @throws IllegalArgumentException for another value, naming the values
     */
    public static HeadChoice parse(String value) {
        if (value.equals("convert")) {
            return DEFAULT;
        }
        if (value.equals("none")) {
            return NONE;
        }
        TaskHead.Kind kind = TaskHead.Kind.ofId(value);
        if (kind == null) {
            throw new IllegalArgumentException("--head must be one of " + values() + ", got '" + value + "'");
        }
        return of(kind);
    }
}
