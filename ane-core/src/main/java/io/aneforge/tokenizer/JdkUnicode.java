package io.aneforge.tokenizer;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Unicode version of the running JDK's character data, guessed from code points each version assigned, and the
 * warning the pure-Java WordPiece and Unigram tokenizers log once when it is not Java 17's Unicode 13.0: their mending
 * tables are checked against ICU4J and the native tokenizer on Java 17 only, and some are differences from Java 17's
 * data, so another JDK gives other ids on some text without failing.
 */
final class JdkUnicode {
    private static final Logger log = LoggerFactory.getLogger(JdkUnicode.class);

    /**
     * A code point each version assigned (versions in order, each probe unassigned before it): BLUEBERRIES (13.0),
     * MELTING FACE (14.0), SHAKING FACE (15.0), CJK Extension I's first (15.1), FACE WITH BAGS UNDER EYES (16.0),
     * the Latin capital letter U+A7CE (17.0). {@code JdkUnicodeTest} checks them against ICU4J's ages.
     */
    static final String[] VERSIONS = {"13.0", "14.0", "15.0", "15.1", "16.0", "17.0"};
    static final int[] PROBES = {0x1FAD0, 0x1FAE0, 0x1FAE8, 0x2EBF0, 0x1FAE9, 0xA7CE};

    /** The running JDK's Unicode version as far as {@link #PROBES} tell ("17.0 or later" past the last). */
    static final String VERSION = guess();

    private static final AtomicBoolean WARNED = new AtomicBoolean();

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

    /** Logs {@link #warning} for {@link #VERSION} once per JVM, when there is one; called as a Java tokenizer loads. */
    static void warnOnce() {
        warning(VERSION).ifPresent(w -> {
            if (WARNED.compareAndSet(false, true)) {
                log.warn(w);
            }
        });
    }

    /** What a JDK with Unicode {@code version} changes in the Java tokenizers and the fix; empty for 13.0 (Java 17). */
    static Optional<String> warning(String version) {
        if (version.equals("13.0")) {
            return Optional.empty();
        }
        return Optional.of("This JDK's Unicode data looks like Unicode " + version + ", not Java 17's 13.0: the pure-Java"
                + " WordPiece and Unigram tokenizers are checked against the native Hugging Face tokenizer on Java 17"
                + " only, and their tables of what the native one does otherwise (Unicode 8.0 controls, punctuation and"
                + " nonspacing marks for BERT, Unicode 9.0 normal forms, Unicode 16.0 grapheme clusters, Unicode 17.0"
                + " lowercase) are differences from Java 17's data, so on this JDK they may give other token ids than"
                + " the native tokenizer for text with characters of Unicode 9.0 and later (new emoji, punctuation,"
                + " marks). Run on Java 17, or use the native tokenizer (-D" + Tokenizer.IMPLEMENTATION_PROPERTY
                + "=native, or auto where it loads).");
    }
}
