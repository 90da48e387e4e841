package io.aneforge.agent.golden;

import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.agent.cache.ArtifactSource;
import io.aneforge.agent.cache.DownloadStatusException;
import io.aneforge.agent.cache.Fault;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenFormatException;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.io.IoProblems;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Golden input samples and FP32 outputs of a model version, fetched by digest (verified; a mismatch
 * is downloaded once more before it counts) and decoded with {@link GoldenOutputsCodec}. Failures
 * carry a {@link Fault}: a transfer problem (timeouts, 5xx, a body cut short) is worth another try,
 * a blob that is corrupt or does not decode is final. The last few are kept in memory: the benchmark jobs of
 * one version all use the same two blobs.
 */
public final class GoldenStore {

    private static final int KEEP = 4;

    private final ArtifactSource source;
    private final long maxBytes;
    private final Map<String, GoldenOutputs> recent = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, GoldenOutputs> eldest) {
            return size() > KEEP;
        }
    };

    /** @param maxBytes largest golden blob accepted (they are read into memory) */
    public GoldenStore(ArtifactSource source, long maxBytes) {
        this.source = source;
        this.maxBytes = maxBytes;
    }

    public GoldenOutputs get(ArtifactRef ref) {
        synchronized (recent) {
            GoldenOutputs hit = recent.get(ref.sha256Hex());
            if (hit != null) {
                return hit;
            }
        }
        GoldenOutputs loaded = load(ref);
        synchronized (recent) {
            recent.put(ref.sha256Hex(), loaded);
        }
        return loaded;
    }

    private GoldenOutputs load(ArtifactRef ref) {
        if (ref.sizeBytes() > maxBytes) {
            throw new GoldenException(Fault.ARTIFACT, "golden blob " + ref.digest() + " has " + ref.sizeBytes()
                    + " bytes, over the " + maxBytes + "-byte limit for golden data held in memory");
        }
        byte[] bytes = fetch(ref);
        String problem = mismatch(ref, bytes);
        if (problem != null) {
            // One more download tells a transfer that corrupted the bytes from a blob that is corrupt.
            byte[] again = fetch(ref);
            String second = mismatch(ref, again);
            if (second != null) {
                boolean same = java.util.Arrays.equals(bytes, again);
                throw new GoldenException(same ? Fault.ARTIFACT : Fault.TRANSFER, second + (same
                        ? "; the same on two downloads, so the blob the registry stores is corrupt"
                        : "; two downloads gave different bytes: the transfer is corrupting them"));
            }
            bytes = again;
        }
        try {
            return GoldenOutputsCodec.read(new ByteArrayInputStream(bytes));
        } catch (GoldenFormatException e) {
            throw new GoldenException(Fault.ARTIFACT, "golden blob " + ref.digest() + " is not valid: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalStateException("reading from memory cannot fail", e);
        }
    }

    private byte[] fetch(ArtifactRef ref) {
        byte[] bytes;
        try (InputStream in = source.open(ref)) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        } catch (DownloadStatusException e) {
            throw new GoldenException(e.fault(), "cannot download golden blob " + ref.digest() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new GoldenException(Fault.TRANSFER, "cannot download golden blob " + ref.digest() + " from "
                    + ref.downloadUrl() + ": " + IoProblems.describe(e), e);
        }
        if (bytes.length > maxBytes) {
            throw new GoldenException(Fault.ARTIFACT, "golden blob " + ref.digest() + " is larger than " + maxBytes
                    + " bytes");
        }
        if (ref.sizeBytes() >= 0 && bytes.length < ref.sizeBytes()) {
            throw new GoldenException(Fault.TRANSFER, "download of golden blob " + ref.digest() + " from "
                    + ref.downloadUrl() + " ended after " + bytes.length + " of its " + ref.sizeBytes()
                    + " bytes (the connection closed early)");
        }
        return bytes;
    }

    /** Why the bytes are not the blob, or null when they are. */
    private static String mismatch(ArtifactRef ref, byte[] bytes) {
        String actual;
        try {
            actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK must provide SHA-256", e);
        }
        return actual.equals(ref.sha256Hex()) ? null : "golden blob digest mismatch for " + ref.downloadUrl()
                + ": expected " + ref.digest() + " but the " + bytes.length + " downloaded bytes hash to sha256:" + actual;
    }
}
