package io.aneforge.registry.download;

import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.problem.ApiProblem;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

/**
 * Signed, expiring download URLs for {@code GET /api/v1/blobs/sha256:<hex>}, so that a device downloads a variant over
 * the air without a registry token. The URL carries {@code expires} (epoch seconds) and {@code signature}, the
 * HMAC-SHA256 (key {@code aneforge.download-signing-key}) of the blob's path and that time: it grants exactly that
 * blob until then, to anyone who holds it. It cannot be revoked; its lifetime ({@code aneforge.download-url-ttl},
 * at most 24 h) is the bound, and the TTL configured now bounds URLs minted earlier too (a URL expiring later than
 * now + TTL + {@link #CLOCK_SKEW} is refused), so lowering it after a leak cuts short the URLs already handed out. A variant yanked after a URL was minted stays downloadable through that URL until it
 * expires (the blob is content-addressed and the resolve that minted it had refused yanked variants).
 */
@Component
public class DownloadSigner {

    /** The query parameters a signed URL adds. */
    public static final String EXPIRES = "expires";
    public static final String SIGNATURE = "signature";

    static final String HOW_TO_TURN_ON = "set aneforge.download-signing-key (env ANEFORGE_DOWNLOAD_SIGNING_KEY) to a "
            + "base64 key of at least 32 bytes (e.g. the output of openssl rand -base64 32) on every registry instance and "
            + "restart; until then devices download with a bearer token";

    /** A minted URL's query and when it stops working. */
    public record Signed(String query, Instant expiresAt) {}

    /** How far ahead of this instance's clock another instance's may run when it mints a URL. */
    static final Duration CLOCK_SKEW = Duration.ofSeconds(60);

    private final SecretKeySpec key;
    /** The key {@link #key} replaced: verifies URLs minted before the rotation, signs nothing; null when not set. */
    private final SecretKeySpec previous;
    private final Duration ttl;

    DownloadSigner(RegistryProperties props) {
        this.ttl = props.downloadUrlTtl();
        this.key = props.downloadSigningKey() == null ? null
                : new SecretKeySpec(decode(props.downloadSigningKey(), "aneforge.download-signing-key (ANEFORGE_DOWNLOAD_SIGNING_KEY)"),
                "HmacSHA256");
        this.previous = props.downloadSigningKeyPrevious() == null ? null
                : new SecretKeySpec(decode(props.downloadSigningKeyPrevious(),
                "aneforge.download-signing-key-previous (ANEFORGE_DOWNLOAD_SIGNING_KEY_PREVIOUS)"), "HmacSHA256");
    }

    private static byte[] decode(String base64, String setting) {
        byte[] k;
        try {
            k = Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(setting + " is not base64 ("
                    + e.getMessage() + "): use e.g. the output of openssl rand -base64 32, or unset it to turn signed URLs off");
        }
        if (k.length < 32) {
            throw new IllegalArgumentException(setting + " decodes to "
                    + k.length + " bytes; an HMAC-SHA256 key needs at least 32 (e.g. openssl rand -base64 32)");
        }
        return k;
    }

    /** @throws ApiProblem 409 {@code signed-urls-off} saying how to turn them on, when no key is configured */
    public Signed sign(String hex, Instant now) {
        if (key == null) {
            throw ApiProblem.conflict("signed-urls-off", "Signed download URLs are off",
                    "this registry signs no download URLs: " + HOW_TO_TURN_ON);
        }
        long expires = now.plus(ttl).getEpochSecond();
        return new Signed(EXPIRES + "=" + expires + "&" + SIGNATURE + "=" + signature(hex, expires), Instant.ofEpochSecond(expires));
    }

    /**
     * Checks a signed request for blob {@code hex}.
     *
     * @throws ApiProblem 403 {@code download-url-invalid} (malformed, tampered, for another blob or another key) or
     *                    {@code download-url-expired} (past its expiry, or expiring later than now + the configured TTL
     *                    + {@link #CLOCK_SKEW}), each saying that the URL must be requested again
     */
    public void verify(String hex, String expiresText, String signatureText, Instant now) {
        if (key == null) {
            throw new ApiProblem(HttpStatus.FORBIDDEN, "download-url-invalid", "Download URL invalid",
                    "this registry signs no download URLs, so it accepts none: send 'Authorization: Bearer <token>' instead, or "
                            + HOW_TO_TURN_ON);
        }
        Optional<Long> expires = parse(expiresText);
        byte[] given = signatureText == null ? null : decodeSignature(signatureText);
        if (expires.isEmpty() || given == null || hex == null || !signedByAKeyOfOurs(given, hex, expires.get())) {
            throw new ApiProblem(HttpStatus.FORBIDDEN, "download-url-invalid", "Download URL invalid",
                    "the download URL's signature does not match this blob and expiry (altered, cut short, or signed with "
                            + "another key): request a new URL with GET /api/v1/models/{name}/resolve?...&signed=true");
        }
        long latest = now.plus(ttl).plus(CLOCK_SKEW).getEpochSecond();
        if (expires.get() > latest) {
            // Minted under a longer TTL than the one configured now (or on an instance whose clock runs ahead): lowering
            // aneforge.download-url-ttl after a leak thereby bounds the URLs already handed out, not only new ones.
            throw new ApiProblem(HttpStatus.FORBIDDEN, "download-url-expired", "Download URL expired",
                    "the download URL runs until " + Instant.ofEpochSecond(expires.get()) + ", longer than this registry's"
                            + " URL lifetime (" + ttl + ") allows from now: it was minted under a longer lifetime, which has"
                            + " since been lowered; request a new one with GET /api/v1/models/{name}/resolve?...&signed=true")
                    .with("expiresAt", Instant.ofEpochSecond(expires.get()).toString())
                    .with("latestAllowed", Instant.ofEpochSecond(latest).toString());
        }
        if (now.getEpochSecond() >= expires.get()) {
            throw new ApiProblem(HttpStatus.FORBIDDEN, "download-url-expired", "Download URL expired",
                    "the download URL expired at " + Instant.ofEpochSecond(expires.get()) + " (URLs last " + ttl
                            + "): request a new one with GET /api/v1/models/{name}/resolve?...&signed=true")
                    .with("expiredAt", Instant.ofEpochSecond(expires.get()).toString());
        }
    }

    private static Optional<Long> parse(String text) {
        if (text == null || !text.matches("\\d{1,12}")) return Optional.empty();
        return Optional.of(Long.parseLong(text));
    }

    private static byte[] decodeSignature(String text) {
        try {
            return Base64.getUrlDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private String signature(String hex, long expires) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(mac(hex, expires));
    }

    /** Under the current key or the previous one; both compared in constant time, both always (no early answer). */
    private boolean signedByAKeyOfOurs(byte[] given, String hex, long expires) {
        boolean current = MessageDigest.isEqual(given, mac(key, hex, expires));
        boolean old = previous != null && MessageDigest.isEqual(given, mac(previous, hex, expires));
        return current | old;
    }

    private byte[] mac(String hex, long expires) {
        return mac(key, hex, expires);
    }

    /** What is signed: the blob's path (lower-case hex, as the registry names blobs) and the expiry. */
    private static byte[] mac(SecretKeySpec key, String hex, long expires) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(("/api/v1/blobs/sha256:" + hex + "\n" + expires).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }
}
