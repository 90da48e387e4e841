package io.aneforge.agent.golden;

import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.agent.cache.ArtifactSource;
import io.aneforge.agent.cache.DownloadStatusException;
import io.aneforge.agent.cache.Fault;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.eval.golden.GoldenFormatException;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.eval.golden.GoldenTooLargeException;
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
 *
 * <p>One bound, {@code aneforge.agent.golden-max-memory}, holds for the golden data in memory: a blob as downloaded,
 * the floats its tensors hold once decoded (decoding keeps no trailing zeros, {@link io.aneforge.eval.GoldenTensor}:
 * the padded positions of per-token outputs are not held, so GPT-2's logits on the fixed samples hold their real
 * tokens, about 124 MB, not the 823 MB their shapes declare; a blob that would hold more is refused before it is
 * allocated), the golden inputs as the agent expands them to feed the model ({@link #inputs}: refused when their
 * shapes declare more), and the decoded blobs kept, together (the least recently used are dropped until the newest
 * fits). The same bound ({@link #maxBytes()}) holds on its own for the parts of a variant's outputs a job keeps to
 * compare with the golden outputs ({@link GoldenComparison}).
 */
public final class GoldenStore {

    private static final int KEEP = 4;
    /** The setting {@code maxBytes} comes from, named in refusals. */
    static final String SETTING = "aneforge.agent.golden-max-memory (env ANEFORGE_AGENT_GOLDEN_MAX_MEMORY)";

    private final ArtifactSource source;
    private final long maxBytes;
    /** Decoded blobs by digest, least recently used first (guarded by itself). */
    private final Map<String, GoldenOutputs> recent = new LinkedHashMap<>(8, 0.75f, true);
    /** Bytes held by the blobs in {@link #recent} (guarded by {@link #recent}). */
    private long recentBytes;

    /**
     * @param maxBytes largest golden blob accepted as downloaded, most bytes it may hold once decoded, and most
     *     bytes the decoded blobs kept hold together
     */
    public GoldenStore(ArtifactSource source, long maxBytes) {
        this.source = source;
        this.maxBytes = maxBytes;
    }

    /** The bound, {@code aneforge.agent.golden-max-memory}, in bytes: what else holds golden-sized data uses it too. */
    public long maxBytes() {
        return maxBytes;
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
            keep(ref.sha256Hex(), loaded);
        }
        return loaded;
    }

    /**
     * The golden inputs blob at {@code ref}: {@link #get}, refused when its samples, which the agent expands to feed
     * the model ({@link GoldenOutputs.Sample#outputs()}), would take more than the bound once expanded. Decoding
     * bounds only the floats held, and a blob of a few bytes can declare shapes of gigabytes of zeros.
     *
     * @throws GoldenException ({@link Fault#ARTIFACT}) naming the setting when the inputs declare more than the bound,
     *     and naming the tensor when an input holds some positions only (golden format 3's held positions are for
     *     vocabulary-sized outputs: such an input cannot be expanded to feed the model)
     */
    public GoldenOutputs inputs(ArtifactRef ref) {
        GoldenOutputs inputs = get(ref);
        for (GoldenOutputs.Sample sample : inputs.samples()) {
            for (Map.Entry<String, GoldenTensor> e : sample.tensors().entrySet()) {
                if (e.getValue().holdsSomePositionsOnly()) {
                    // Refused here, as a bad artifact: expanding it later would throw past the job's failure handling.
                    throw new GoldenException(Fault.ARTIFACT, "golden inputs blob " + ref.digest() + " holds input '"
                            + e.getKey() + "' of sample '" + sample.id() + "' at some positions only (golden format 3's"
                            + " held positions, which only vocabulary-sized outputs use): the model needs every position"
                            + " of its inputs, so this blob is not the version's golden inputs (an outputs blob set as"
                            + " inputs?); set the golden data again from the directory convert wrote");
                }
            }
        }
        long expanded = inputs.expandedBytes();
        if (expanded > maxBytes) {
            throw new GoldenException(Fault.ARTIFACT, "golden inputs blob " + ref.digest() + " declares input tensors"
                    + " of " + expanded + " bytes once expanded, more than the " + maxBytes + "-byte limit for golden"
                    + " data held in memory: raise " + SETTING + ", and the agent's heap (-Xmx) with it, or the blob"
                    + " is not the inputs of a model (golden inputs are (1, seq len) per input)");
        }
        return inputs;
    }

    /** Keeps a decoded blob, dropping the least recently used ones until the kept ones fit the bound (and KEEP). */
    private void keep(String digest, GoldenOutputs loaded) {
        GoldenOutputs replaced = recent.put(digest, loaded);
        if (replaced != null) {
            recentBytes -= replaced.heldBytes(); // two jobs loaded the same blob at once
        }
        recentBytes += loaded.heldBytes();
        var eldest = recent.entrySet().iterator();
        while ((recentBytes > maxBytes || recent.size() > KEEP) && eldest.hasNext()) {
            Map.Entry<String, GoldenOutputs> e = eldest.next();
            if (e.getKey().equals(digest)) {
                continue; // the newest is within the bound on its own (the codec refused it otherwise)
            }
            recentBytes -= e.getValue().heldBytes();
            eldest.remove();
        }
    }

    private GoldenOutputs load(ArtifactRef ref) {
        if (ref.sizeBytes() > maxBytes) {
            throw new GoldenException(Fault.ARTIFACT, "golden blob " + ref.digest() + " has " + ref.sizeBytes()
                    + " bytes, over the " + maxBytes + "-byte limit for golden data held in memory; raise " + SETTING);
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
            return GoldenOutputsCodec.read(new ByteArrayInputStream(bytes), maxBytes);
        } catch (GoldenTooLargeException e) {
            throw new GoldenException(Fault.ARTIFACT, "golden blob " + ref.digest() + " (" + bytes.length
                    + " bytes) holds more than the " + maxBytes + "-byte limit for golden data held in memory once"
                    + " decoded (at least " + e.heldBytes() + " bytes): raise " + SETTING + ", and the agent's heap (-Xmx) with it", e);
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
                    + " bytes, the limit for golden data held in memory; raise " + SETTING);
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
