package io.aneforge.registry.download;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.problem.ApiProblem;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Configuration of signed download URLs: off without a key, and a bad key or lifetime stops the registry at start. */
class DownloadSignerTest {

    private static final String HEX = "a".repeat(64);

    private static RegistryProperties props(String key, Duration ttl) {
        return props(key, ttl, null);
    }

    private static RegistryProperties props(String key, Duration ttl, String previous) {
        return new RegistryProperties(null, null, null, null, null, null, null, null, key, ttl, previous);
    }

    private static final String OLD_KEY = "c2lnbmVkLWRvd25sb2FkLXRlc3Qta2V5LTMyLWJ5dGVzIQ==";
    private static final String NEW_KEY = "YW5vdGhlci1zaWduaW5nLWtleS1vZi0zMi1ieXRlcy0h";

    /**
     * Rotation with overlap: URLs minted under the key a rotation replaced keep working while it is the previous key;
     * new URLs are signed with the current key only; without the previous key the old URLs stop.
     */
    @Test
    void thePreviousKeyVerifiesUrlsMintedBeforeARotationAndSignsNothing() {
        Instant now = Instant.parse("2026-11-28T05:00:00Z");
        DownloadSigner.Signed old = new DownloadSigner(props(OLD_KEY, Duration.ofMinutes(15))).sign(HEX, now);
        String expires = old.query().replaceAll("expires=(\\d+)&.*", "$1");
        String signature = old.query().replaceAll(".*signature=", "");

        DownloadSigner rotated = new DownloadSigner(props(NEW_KEY, Duration.ofMinutes(15), OLD_KEY));
        rotated.verify(HEX, expires, signature, now.plusSeconds(60));
        DownloadSigner.Signed fresh = rotated.sign(HEX, now);
        assertThat(fresh.query()).as("signed with the current key").isNotEqualTo(old.query());
        new DownloadSigner(props(NEW_KEY, Duration.ofMinutes(15))).verify(HEX, fresh.query().replaceAll("expires=(\\d+)&.*", "$1"),
                fresh.query().replaceAll(".*signature=", ""), now.plusSeconds(60));

        DownloadSigner after = new DownloadSigner(props(NEW_KEY, Duration.ofMinutes(15)));
        assertThatThrownBy(() -> after.verify(HEX, expires, signature, now.plusSeconds(60)))
                .isInstanceOfSatisfying(ApiProblem.class, p -> assertThat(p.slug()).isEqualTo("download-url-invalid"));

        assertThatThrownBy(() -> props(null, null, OLD_KEY)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ANEFORGE_DOWNLOAD_SIGNING_KEY_PREVIOUS").hasMessageContaining("without");
        assertThatThrownBy(() -> new DownloadSigner(props(NEW_KEY, null, "c2hvcnQ="))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ANEFORGE_DOWNLOAD_SIGNING_KEY_PREVIOUS").hasMessageContaining("decodes to 5 bytes");
    }

    @Test
    void withoutAKeyAskingForASignedUrlSaysHowToTurnItOn() {
        for (String unset : new String[] {null, "  "}) { // blank, as compose passes an unset variable
            DownloadSigner off = new DownloadSigner(props(unset, null));
            assertThatThrownBy(() -> off.sign(HEX, Instant.now())).as("key '%s'", unset)
                    .isInstanceOfSatisfying(ApiProblem.class, p -> {
                        assertThat(p.slug()).isEqualTo("signed-urls-off");
                        assertThat(p.status().value()).isEqualTo(409);
                        assertThat(p.getMessage()).contains("ANEFORGE_DOWNLOAD_SIGNING_KEY").contains("openssl rand -base64 32");
                    });
            assertThatThrownBy(() -> off.verify(HEX, "1", "x", Instant.now())).isInstanceOfSatisfying(ApiProblem.class,
                    p -> assertThat(p.slug()).isEqualTo("download-url-invalid"));
        }
    }

    @Test
    void aShortOrMalformedKeyAndAnOutOfRangeLifetimeAreRefused() {
        assertThatThrownBy(() -> new DownloadSigner(props("c2hvcnQ=", null))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("decodes to 5 bytes; an HMAC-SHA256 key needs at least 32");
        assertThatThrownBy(() -> new DownloadSigner(props("not base64!", null))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not base64");
        assertThatThrownBy(() -> props(null, Duration.ofHours(25))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("aneforge.download-url-ttl (ANEFORGE_DOWNLOAD_URL_TTL) must be more than 0s and at most 24h");
        assertThatThrownBy(() -> props(null, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThat(props(null, null).downloadUrlTtl()).isEqualTo(Duration.ofMinutes(15));
    }

    @Test
    void aUrlVerifiesUntilItExpiresAndOnlyForItsBlob() {
        DownloadSigner on = new DownloadSigner(props("c2lnbmVkLWRvd25sb2FkLXRlc3Qta2V5LTMyLWJ5dGVzIQ==", Duration.ofMinutes(5)));
        Instant now = Instant.parse("2026-11-28T04:00:00Z");
        DownloadSigner.Signed s = on.sign(HEX, now);
        assertThat(s.expiresAt()).isEqualTo(now.plus(Duration.ofMinutes(5)));
        String expires = s.query().replaceAll("expires=(\\d+)&.*", "$1");
        String signature = s.query().replaceAll(".*signature=", "");
        on.verify(HEX, expires, signature, now.plusSeconds(299));
        assertThatThrownBy(() -> on.verify(HEX, expires, signature, now.plusSeconds(300))).isInstanceOfSatisfying(ApiProblem.class,
                p -> assertThat(p.slug()).isEqualTo("download-url-expired"));
        assertThatThrownBy(() -> on.verify("b".repeat(64), expires, signature, now)).isInstanceOfSatisfying(ApiProblem.class,
                p -> assertThat(p.slug()).isEqualTo("download-url-invalid"));
        // Another key's signature does not verify.
        DownloadSigner other = new DownloadSigner(props("b3RoZXItZG93bmxvYWQta2V5LWFsc28tMzItYnl0ZXMhIQ==", Duration.ofMinutes(5)));
        String foreign = other.sign(HEX, now).query().replaceAll(".*signature=", "");
        assertThatThrownBy(() -> on.verify(HEX, expires, foreign, now)).isInstanceOfSatisfying(ApiProblem.class,
                p -> assertThat(p.slug()).isEqualTo("download-url-invalid"));
    }

    /** Lowering the TTL after a leak bounds the URLs already handed out: same key, shorter lifetime, restart. */
    @Test
    void aUrlMintedUnderALongerLifetimeIsRefusedOnceTheLifetimeIsLowered() {
        String key = "c2lnbmVkLWRvd25sb2FkLXRlc3Qta2V5LTMyLWJ5dGVzIQ==";
        Instant now = Instant.parse("2026-11-28T04:00:00Z");
        DownloadSigner.Signed leaked = new DownloadSigner(props(key, Duration.ofHours(24))).sign(HEX, now);
        String expires = leaked.query().replaceAll("expires=(\\d+)&.*", "$1");
        String signature = leaked.query().replaceAll(".*signature=", "");
        DownloadSigner lowered = new DownloadSigner(props(key, Duration.ofMinutes(15)));
        assertThatThrownBy(() -> lowered.verify(HEX, expires, signature, now.plusSeconds(60))).isInstanceOfSatisfying(ApiProblem.class, p -> {
            assertThat(p.slug()).isEqualTo("download-url-expired");
            assertThat(p.status().value()).isEqualTo(403);
            assertThat(p.getMessage()).contains("PT15M").contains("request a new one");
        });
        // Still refused hours later, until it is within the new lifetime (+ the clock skew) of its expiry ...
        Instant withinReach = leaked.expiresAt().minus(Duration.ofMinutes(15)).minus(DownloadSigner.CLOCK_SKEW);
        assertThatThrownBy(() -> lowered.verify(HEX, expires, signature, withinReach.minusSeconds(1)))
                .isInstanceOfSatisfying(ApiProblem.class, p -> assertThat(p.slug()).isEqualTo("download-url-expired"));
        lowered.verify(HEX, expires, signature, withinReach);
        // ... and a URL from an instance whose clock runs up to the skew ahead still verifies.
        DownloadSigner.Signed ahead = lowered.sign(HEX, now.plus(DownloadSigner.CLOCK_SKEW));
        lowered.verify(HEX, ahead.query().replaceAll("expires=(\\d+)&.*", "$1"), ahead.query().replaceAll(".*signature=", ""), now);
        DownloadSigner.Signed tooFar = lowered.sign(HEX, now.plus(DownloadSigner.CLOCK_SKEW).plusSeconds(1));
        assertThatThrownBy(() -> lowered.verify(HEX, tooFar.query().replaceAll("expires=(\\d+)&.*", "$1"),
                tooFar.query().replaceAll(".*signature=", ""), now)).isInstanceOfSatisfying(ApiProblem.class,
                p -> assertThat(p.slug()).isEqualTo("download-url-expired"));
    }
}
