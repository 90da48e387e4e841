package io.aneforge.variant;

import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A name that selects variants by precision: the one vocabulary of resolve's {@code precision=} filter and of the
 * gates' {@code minCosineByPrecision} keys, so an app and a release gate name the same variants the same way.
 * <ul>
 *   <li>a family ({@link #FAMILIES}, {@link Precision#family()}): every precision of it; {@code int8} is per-channel
 *       and every block size and mode, {@code int4} every block size and mode, {@code w8a8} both activation modes;</li>
 *   <li>a full precision id, {@link Precision#id()} in its canonical form ({@code int8-channel}, {@code int8-block32},
 *       {@code int4-block32-affine-gptq}, {@code w8a8-affine}): exactly that precision;</li>
 *   <li>{@link #W8A8_SYMMETRIC}: exactly w8a8 with symmetric activations. Its precision id {@code w8a8} is also the
 *       family's name and means the family (as {@code int8} means every int8, not per-channel int8 alone: that
 *       meaning came first and apps rely on it), so the symmetric mode alone needs a name of its own.</li>
 * </ul>
 * {@code fp16} and {@code fp32} are families of one precision each: the family and the precision select the same.
 *
 * @param name   the canonical spelling (lower case), as {@link #parse} reads it back
 * @param family the family every selected precision belongs to
 * @param exact  the one precision selected, or null for the whole family
 */
public record PrecisionSelector(String name, String family, Precision exact) {

    /**
     * The registry's coarse precision names, in resolve's preference order: the one list of them (the registry's
     * {@code Variants.PRECISIONS} is this list).
     */
    public static final List<String> FAMILIES = List.of("fp16", "int8", "w8a8", "int4", "fp32");

    /** Symmetric w8a8 alone ({@code w8a8} names the family). */
    public static final String W8A8_SYMMETRIC = "w8a8-symmetric";

    /**
     * The forms of the full precision ids that select one precision ({@link Precision#id()}; {@code {a,b}} one of,
     * {@code [x]} optional, {@code x|y} either); the symmetric w8a8 id {@code w8a8} is a family name, so it is not one.
     */
    public static final List<String> FULL_ID_FORMS = List.of("int8-channel", "int8-block{32,64,128}[-affine][-mse|-gptq]",
            "int4-block{32,64,128}[-affine][-mse|-gptq][-ffn8]", "w8a8-affine");

    /**
     * Every form that selects exactly one precision: {@link #FULL_ID_FORMS} and {@link #W8A8_SYMMETRIC}. With
     * {@link #FAMILIES}, the machine-readable list of what {@link #parse} accepts.
     */
    public static final List<String> EXACT_FORMS = Stream.concat(FULL_ID_FORMS.stream(), Stream.of(W8A8_SYMMETRIC))
            .toList();

    /** What an error names as the accepted forms. */
    public static final String FORMS = "a family " + FAMILIES + " (every precision of it; w8a8 is both activation modes),"
            + " a full precision id (" + String.join(", ", FULL_ID_FORMS) + ": exactly that one) or " + W8A8_SYMMETRIC
            + " (w8a8 with symmetric activations only)";

    public PrecisionSelector {
        if (!FAMILIES.contains(family)) {
            throw new IllegalArgumentException("unknown precision family '" + family + "': use one of " + FAMILIES);
        }
        if (exact != null && !exact.family().equals(family)) {
            throw new IllegalArgumentException("precision " + exact + " is not of family " + family);
        }
    }

    /**
     * Reads a name in any case, with surrounding spaces.
     *
     * @throws IllegalArgumentException {@code '<text>' is not a precision: use <FORMS>}, with what is wrong and how
     *     to fix it before {@code use} when {@code text} is in a known form with a wrong part (e.g. {@code -ffn8} on
     *     an int8 id: "drop -ffn8 (or use int4-block32-ffn8)"); callers put their context in front of it
     */
    public static PrecisionSelector parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        if (FAMILIES.contains(t)) {
            return new PrecisionSelector(t, t, null);
        }
        if (t.equals(W8A8_SYMMETRIC)) {
            return new PrecisionSelector(t, "w8a8", Precision.parse("w8a8"));
        }
        Precision p;
        try {
            p = Precision.parse(t);
        } catch (UnknownPrecisionException e) {
            throw new IllegalArgumentException("'" + text + "' is not a precision: use " + FORMS);
        } catch (IllegalArgumentException e) {
            // A known form with a wrong part: its own message names the part and the fix, which the list would bury.
            throw new IllegalArgumentException("'" + text + "' is not a precision: " + withoutSubject(e.getMessage(), t)
                    + "; use " + FORMS);
        }
        // Precision.parse accepts some spellings its id() writes otherwise; the selector keeps the canonical one.
        return new PrecisionSelector(p.id(), p.family(), p);
    }

    /** {@code reason} without Precision's "precision '<t>': " in front, which the caller's message says already. */
    private static String withoutSubject(String reason, String t) {
        String subject = "precision '" + t + "': ";
        return reason.startsWith(subject) ? reason.substring(subject.length()) : reason;
    }

    /** The selector of exactly {@code p} (for fp16 and fp32, their family: the same one precision). */
    public static PrecisionSelector of(Precision p) {
        return parse(nameOf(p));
    }

    /** The whole family {@code family} ({@link #FAMILIES}): for registry rows that name no full precision. */
    public static PrecisionSelector family(String family) {
        return new PrecisionSelector(family, family, null);
    }

    /** The name that selects exactly {@code p}: its id, {@link #W8A8_SYMMETRIC} for symmetric w8a8. */
    public static String nameOf(Precision p) {
        return p.scheme() == Precision.Scheme.W8A8 && !p.affine() ? W8A8_SYMMETRIC : p.id();
    }

    /** Whether this names a whole family rather than one precision. */
    public boolean isFamily() {
        return exact == null;
    }

    /** Whether {@code p} is selected. */
    public boolean matches(Precision p) {
        return exact != null ? exact.equals(p) : family.equals(p.family());
    }

    /**
     * Whether a registry row is selected: {@code precision} is null for a legacy row that names only its family
     * (registrations before block sizes were required stored {@code int4} without one): such a row matches its family
     * and no full id.
     */
    public boolean matches(String rowFamily, Precision precision) {
        if (exact == null) return family.equals(rowFamily);
        return exact.equals(precision);
    }

    @Override
    public String toString() {
        return name;
    }
}
