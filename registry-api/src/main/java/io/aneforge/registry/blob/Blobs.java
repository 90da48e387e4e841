package io.aneforge.registry.blob;

import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.storage.BlobStorage;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

/**
 * Content-addressed blobs. An upload streams into a staging key while it is hashed; only a
 * verified digest is copied to {@code blobs/sha256/<hex>} and recorded, so a mismatched or
 * oversized upload leaves nothing visible.
 */
@Service
public class Blobs {

    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

    private final JdbcClient jdbc;
    private final BlobStorage storage;
    private final long maxSize;
    private final Audit audit;

    Blobs(JdbcClient jdbc, BlobStorage storage, RegistryProperties props, Audit audit) {
        this.jdbc = jdbc;
        this.storage = storage;
        this.maxSize = props.blobs().maxSize();
        this.audit = audit;
    }

    public record PutResult(Blob blob, boolean created) {}

    public static String requireHex(String hex) {
        if (hex == null || !HEX.matcher(hex).matches()) {
            throw ApiProblem.badRequest("invalid-digest", "Invalid digest",
                    "digest 'sha256:" + hex + "' is not sha256: followed by 64 lowercase hex digits");
        }
        return hex;
    }

    public Optional<Blob> find(String hex) {
        return jdbc.sql("SELECT digest, size, media_type, storage_key FROM blob WHERE digest = ?").param(hex)
                .query((rs, i) -> new Blob(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4)))
                .optional();
    }

    /** The first {@code length} bytes of a stored blob (fewer when it is shorter); the caller closes the stream. */
    public InputStream openStart(Blob blob, long length) {
        return storage.open(blob.storageKey(), 0, Math.min(length, blob.size()));
    }

    public PutResult put(String hex, InputStream body, long contentLength, String mediaType, Caller caller) throws IOException {
        requireHex(hex);
        if (contentLength > maxSize) throw tooLarge(contentLength);
        MessageDigest sha = sha256();
        CountingLimit counted = new CountingLimit(new DigestInputStream(body, sha), maxSize);
        Optional<Blob> existing = find(hex);
        if (existing.isPresent()) {
            // Read (and discard) the body anyway: answering before it is read makes Tomcat close the connection
            // mid-upload, which the JDK HttpClient and others report as a failed request; and an uploader must learn
            // that its bytes are not what it named, even when the digest is already stored.
            try {
                counted.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                if (counted.exceeded) throw tooLarge(counted.count);
                throw e;
            }
            verify(hex, sha, counted.count, contentLength);
            return new PutResult(existing.get(), false);
        }

        String staging = "uploads/" + UUID.randomUUID();
        try {
            storage.put(staging, counted, contentLength, "application/octet-stream");
        } catch (RuntimeException e) {
            deleteQuietly(staging);
            if (counted.exceeded) throw tooLarge(counted.count);
            throw e;
        }
        try {
            verify(hex, sha, counted.count, contentLength);
            String key = Blob.keyFor(hex);
            if (!storage.exists(key)) storage.copy(staging, key);
            Blob blob = new Blob(hex, counted.count, mediaType, key);
            // Audited (blob.put) when this upload recorded the blob; what it is (package archive, golden data) the
            // write that uses it says (variant.register, golden.put name the digest). A concurrent upload of the same
            // bytes that lost the race, like a repeat, stored nothing and records nothing.
            return audit.recordIfChanged(caller, () -> {
                int inserted = jdbc.sql("INSERT INTO blob (digest, size, media_type, storage_key, created_by)"
                                + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING")
                        .params(hex, blob.size(), mediaType, key, caller.name()).update();
                return new Audit.Outcome<>(new PutResult(inserted == 1 ? blob : find(hex).orElseThrow(), inserted == 1),
                        inserted == 1);
            }, r -> Audit.Event.of("blob.put").onBlob(hex).with("size", r.blob().size())
                    .with("mediaType", r.blob().mediaType()));
        } finally {
            deleteQuietly(staging);
        }
    }

    /** Refuses a body shorter than its Content-Length or whose digest is not the one it was uploaded as. */
    private static void verify(String hex, MessageDigest sha, long received, long contentLength) {
        if (contentLength >= 0 && received != contentLength) {
            throw ApiProblem.badRequest("incomplete-upload", "Incomplete upload",
                    "received " + received + " bytes but Content-Length said " + contentLength);
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        if (!actual.equals(hex)) {
            throw ApiProblem.badRequest("digest-mismatch", "Digest mismatch",
                    "the body's digest is sha256:" + actual + ", not sha256:" + hex + "; nothing was stored")
                    .with("expected", "sha256:" + hex).with("actual", "sha256:" + actual);
        }
    }

    private void deleteQuietly(String key) {
        try {
            storage.delete(key);
        } catch (RuntimeException ignored) {
            // A leftover staging object is invisible (no row, not under blobs/); a sweep can remove it.
        }
    }

    private ApiProblem tooLarge(long size) {
        return new ApiProblem(HttpStatus.CONTENT_TOO_LARGE, "blob-too-large", "Blob too large",
                "the upload is " + (size > maxSize ? "larger than" : "at least") + " the limit of " + maxSize
                        + " bytes (aneforge.blobs.max-size / ANEFORGE_BLOBS_MAX_SIZE)")
                .with("maxSize", maxSize);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Counts bytes and fails once more than {@code limit} have been read. */
    private static final class CountingLimit extends FilterInputStream {
        private final long limit;
        long count;
        boolean exceeded;

        CountingLimit(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) add(1);
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n > 0) add(n);
            return n;
        }

        private void add(long n) throws IOException {
            count += n;
            if (count > limit) {
                exceeded = true;
                throw new IOException("upload exceeds " + limit + " bytes");
            }
        }
    }
}
