package io.aneforge.tokenizer;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Unicode version of the running JDK's character data, guessed from code points each version assigned, and the
 * warning a pure-Java tokenizer logs once when that version can change its ids. Their rules are checked against ICU4J
 * and the native tokenizer on Java 17 (Unicode 13.0). WordPiece's are tables of fixed versions (Unicode 8.0 controls,
 * punctuation and marks, 9.0 normal forms listing what 10.0-16.0 added) and Java's lowercase mended up to 17.0, so only
 * a JDK past 16.0 changes them; Unigram's grapheme clusters and {@code Lowercase} normalizer are Java's data mended
 * for Java 17's, so any other JDK may.
 */
final class JdkUnicode {
    private static final Logger log = LoggerFactory.getLogger(JdkUnicode.class);

    /** The pure-Java tokenizers whose ids depend on the JDK's Unicode data in their own way. */
    enum Kind { WORD_PIECE, UNIGRAM }

    /**
     * A code point each version assigned (versions in order, each probe unassigned before it): BLUEBERRIES (13.0),
     * MELTING FACE (14.0), SHAKING FACE (15.0), CJK Extension I's first (15.1), FACE WITH BAGS UNDER EYES (16.0), the
     * Latin capital letter U+A7CE (17.0). {@code JdkUnicodeTest} checks them against ICU4J's ages.
     */
    static final String[] VERSIONS = {"13.0", "14.0", "15.0", "15.1", "16.0", "17.0"};
    static final int[] PROBES = {0x1FAD0, 0x1FAE0, 0x1FAE8, 0x2EBF0, 0x1FAE9, 0xA7CE};

    /** The running JDK's Unicode version as far as {@link #PROBES} tell ("17.0 or later" past the last). */
    static final String VERSION = guess();

    private static final Set<Kind> WARNED = ConcurrentHashMap.newKeySet();

    private JdkUnicode() {
    }

    private static String guess() {
        String version = "before 13.0";
        for (int i = 0; i < PROBES.length; i++) {
            if (Character.getType(PROBES[i]) == Character.UNASSIGNED) {
                break;
            }
            version = i == PROBES.length - 1 ? VERSIONS[i] + " or later" : VERSIONS[i];
        }
        return version;
    }

    /** Logs {@link #warning} for {@link #VERSION} once per JVM and kind, when there is one; called as one loads. */
    static void warnOnce(Kind kind) {
        warning(VERSION, kind).ifPresent(w -> {
            if (WARNED.add(kind)) {
                log.warn(w);
            }
        });
    }

    /** What a JDK of Unicode {@code version} may change in the {@code kind} tokenizer, and the fix; empty for none. */
    static Optional<String> warning(String version, Kind kind) {
        String fix = " Run on Java 17, where it is tested, or use the native tokenizer (-D"
                + Tokenizer.IMPLEMENTATION_PROPERTY + "=native, or auto where it loads).";
        boolean past16 = version.startsWith("17.0") || version.equals("before 13.0");
        if (kind == Kind.WORD_PIECE) {
            return past16 ? Optional.of("This JDK's Unicode data looks like Unicode " + version + ", newer than the"
                    + " 16.0 of the pure-Java WordPiece tokenizer's normal forms (and, past 17.0, its lowercase): on"
                    + " characters this JDK knows beyond them it may give other token ids than the native Hugging Face"
                    + " tokenizer." + fix) : Optional.empty();
        }
        return version.equals("13.0") ? Optional.empty() : Optional.of("This JDK's Unicode data looks like Unicode "
                + version + ", not Java 17's 13.0: the pure-Java Unigram tokenizer's grapheme clusters (its Precompiled"
                + " normalizer) and its Lowercase normalizer follow the JDK's data, mended for Java 17's"
                + (past16 ? ", and its normal forms know Unicode up to 16.0" : "") + ", so on text with characters"
                + " newer than Unicode 13.0 it may give other token ids than the native Hugging Face tokenizer." + fix);
    }
}
