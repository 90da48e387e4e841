package io.aneforge.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A {@code precompiled_charsmap} that SentencePiece would not write is refused when read, naming the problem and the
 * native tokenizer, instead of costing a scan per lookup, a silent U+FFFD or an index out of bounds.
 */
class PrecompiledCharsmapTest {
    private static final Path FILE = Path.of("tokenizer.json");

    /**
     * A blob of four units whose unit 1 has its value at unit {@code 1 ^ valueOffsetFromUnit1} (unit 3 for 2), the value
     * {@code value}, then {@code strings}.
     */
    private static byte[] blob(int valueOffsetFromUnit1, int value, byte[] strings) {
        int[] units = {0, (1 << 8) | (valueOffsetFromUnit1 << 10), 0, (1 << 31) | value};
        ByteBuffer out = ByteBuffer.allocate(4 + units.length * 4 + strings.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(units.length * 4);
        for (int unit : units) {
            out.putInt(unit);
        }
        return out.put(strings).array();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aWellFormedValueIsRead() throws Exception {
        PrecompiledCharsmap.parse(FILE, blob(2, 2, utf8("x\0\u00E9\0")));
        // the fixture's charsmap (a real Darts-clone array) reads and applies
        PrecompiledCharsmap fixture = PrecompiledCharsmap.parse(FILE,
                SentencePieceFixture.charsmap(Map.of("\uFB01", "fi", "\u200B", "")));
        assertThat(fixture.normalize("\uFB01ne\u200B")).isEqualTo("fine");
    }

    @Test
    void aValueUnitPastTheTrieIsRefused() {
        assertThatThrownBy(() -> PrecompiledCharsmap.parse(FILE, blob(1000, 0, utf8("x\0"))))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining("trie unit 1 has its value at unit 1001, past the trie's 4 units")
                .hasMessageContaining("-Daneforge.tokenizer=native");
    }

    @Test
    void aValuePastTheStringsIsRefused() {
        assertThatThrownBy(() -> PrecompiledCharsmap.parse(FILE, blob(2, 2, utf8("x\0"))))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining("trie unit 1 has the value 2, past the 2 bytes of normalized strings");
    }

    @Test
    void aReplacementWithoutItsNulIsRefused() {
        assertThatThrownBy(() -> PrecompiledCharsmap.parse(FILE, blob(2, 2, utf8("x\0yz"))))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining("the replacement at byte 2 of the normalized strings has no NUL after it");
    }

    @Test
    void aValueInsideAUtf8CharacterIsRefused() {
        assertThatThrownBy(() -> PrecompiledCharsmap.parse(FILE, blob(2, 1, utf8("\u00E9\0"))))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining("the value 1 of trie unit 1 is inside a UTF-8 character");
    }

    @Test
    void anOverlongReplacementIsRefused() throws Exception {
        byte[] longest = utf8("a".repeat(PrecompiledCharsmap.MAX_REPLACEMENT_BYTES) + "\0");
        assertThat(PrecompiledCharsmap.parse(FILE, blob(2, 0, longest))).isNotNull();
        assertThatThrownBy(() -> PrecompiledCharsmap.parse(FILE, blob(2, 0, utf8("a".repeat(100_000) + "\0"))))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining("is longer than 256 bytes");
    }

    @Test
    void base64WithoutPaddingIsRefusedAsRustRefusesIt() {
        String padded = Base64.getEncoder().encodeToString(new byte[] {1, 2, 3, 4});
        assertThat(padded).endsWith("==");
        assertThatThrownBy(() -> PrecompiledCharsmap.decode(FILE, padded.substring(0, padded.length() - 2)))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("not padded base64");
    }
}
