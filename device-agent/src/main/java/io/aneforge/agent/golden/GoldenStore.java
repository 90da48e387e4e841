package io.aneforge.agent.golden;

import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.agent.cache.ArtifactSource;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenFormatException;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Golden input samples and FP32 outputs of a model version, fetched by digest (verified) and
 * decoded with {@link GoldenOutputsCodec}. The last few are kept in memory: the benchmark jobs of
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
            throw new GoldenException("golden blob " + ref.digest() + " has " + ref.sizeBytes() + " bytes, over the "
                    + maxBytes + "-byte limit for golden data held in memory");
        }
        byte[] bytes;
        try (InputStream in = source.open(ref)) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        } catch (IOException e) {
            throw new GoldenException("cannot download golden blob " + ref.digest() + " from " + ref.downloadUrl() + ": "
                    + e.getMessage(), e);
        }
        if (bytes.length > maxBytes) {
            throw new GoldenException("golden blob " + ref.digest() + " is larger than " + maxBytes + " bytes");
        }
        String actual;
        try {
            actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK must provide SHA-256", e);
        }
        if (!actual.equals(ref.sha256Hex())) {
            throw new GoldenException("golden blob digest mismatch for " + ref.downloadUrl() + ": expected " + ref.digest()
                    + " but the " + bytes.length + " downloaded bytes hash to sha256:" + actual);
        }
        try {
            return GoldenOutputsCodec.read(new ByteArrayInputStream(bytes));
        } catch (GoldenFormatException e) {
            throw new GoldenException("golden blob " + ref.digest() + " is not valid: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalStateException("reading from memory cannot fail", e);
        }
    }
}
