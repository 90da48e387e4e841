package io.aneforge.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.util.VersionInfo;
import org.junit.jupiter.api.Test;

/** {@link JdkUnicode}: its probes are the versions' own code points, Java 17 is 13.0, and the warning. */
class JdkUnicodeTest {
    @Test
    void eachProbeIsAssignedByItsVersion() {
        assertThat(JdkUnicode.PROBES).hasSameSizeAs(JdkUnicode.VERSIONS);
        for (int i = 0; i < JdkUnicode.PROBES.length; i++) {
            int c = JdkUnicode.PROBES[i];
            String version = JdkUnicode.VERSIONS[i];
            if (version.equals("17.0")) { // newer than ICU4J 76, which has it unassigned
                assertThat(UCharacter.getType(c)).as("U+%04X", c).isEqualTo((int) UCharacter.UNASSIGNED);
                continue;
            }
            VersionInfo age = UCharacter.getAge(c);
            assertThat(age.getMajor() + "." + age.getMinor()).as("U+%04X", c).isEqualTo(version);
        }
    }

    @Test
    void java17IsUnicode13AndGetsNoWarning() {
        if (Runtime.version().feature() == 17) {
            assertThat(JdkUnicode.VERSION).isEqualTo("13.0");
        }
        for (JdkUnicode.Kind kind : JdkUnicode.Kind.values()) {
            assertThat(JdkUnicode.warning("13.0", kind)).as("%s", kind).isEmpty();
            assertThat(JdkUnicode.warning("17.0 or later", kind)).as("%s", kind).hasValueSatisfying(w -> assertThat(w)
                    .contains("Unicode 17.0 or later", "Run on Java 17", "-Daneforge.tokenizer=native"));
        }
        // WordPiece's tables are of fixed versions up to 16.0 (normal forms) and 17.0 (lowercase); Unigram's grapheme
        // clusters and lowercase are Java's data mended for Java 17's
        assertThat(JdkUnicode.warning("16.0", JdkUnicode.Kind.WORD_PIECE)).isEmpty();
        assertThat(JdkUnicode.warning("15.0", JdkUnicode.Kind.UNIGRAM)).hasValueSatisfying(w -> assertThat(w)
                .contains("Unicode 15.0, not Java 17's 13.0", "grapheme clusters").doesNotContain("normal forms"));
    }
}
