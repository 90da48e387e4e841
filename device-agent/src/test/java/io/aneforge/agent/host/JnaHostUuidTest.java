package io.aneforge.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** What {@code gethostuuid(2)} fills is written as {@code uuid_unparse_upper(3)} does; the call itself needs a Mac. */
class JnaHostUuidTest {

    @Test
    void aUuidIsWrittenAsUuidUnparseUpperWritesIt() {
        // RFC 4122, appendix C: the name space ID for DNS, 6ba7b810-9dad-11d1-80b4-00c04fd430c8, as its 16 bytes
        byte[] dns = HexFormat.of().parseHex("6ba7b8109dad11d180b400c04fd430c8");
        assertThat(JnaHostUuid.unparse(dns)).isEqualTo("6BA7B810-9DAD-11D1-80B4-00C04FD430C8");

        byte[] counting = new byte[16];
        for (int i = 0; i < 16; i++) {
            counting[i] = (byte) (i * 0x11); // 00 11 22 ... ff: the byte order shows, and the high bit is unsigned
        }
        assertThat(JnaHostUuid.unparse(counting)).isEqualTo("00112233-4455-6677-8899-AABBCCDDEEFF");
        assertThat(MachineIdentity.isUuid(JnaHostUuid.unparse(counting))).isTrue();
    }

    @Test
    void onlySixteenBytesAreAUuid() {
        assertThatThrownBy(() -> JnaHostUuid.unparse(new byte[15])).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a uuid_t is 16 bytes, got 15");
    }
}
