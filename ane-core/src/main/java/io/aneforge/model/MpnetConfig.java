package io.aneforge.model;

import java.util.ArrayList;
import java.util.List;

/**
 * MPNet encoder ({@code model_type} {@code mpnet}: sentence-transformers' all-mpnet-base-v2), as transformers'
 * {@code modeling_mpnet.py} computes it: word plus position embeddings (no token types; position ids from
 * {@code padding_idx + 1} = 2, {@code padding_idx} fixed at 1 by {@code MPNetEmbeddings} whatever
 * {@code pad_token_id} says), LayerNorm, then BERT's post-LN layers with the projections named
 * {@code attention.attn.q/k/v/o} and the attention LayerNorm {@code attention.LayerNorm}, and one relative position
 * bias for the whole encoder: {@code encoder.relative_attention_bias}, an {@code Embedding(buckets, heads)} read at
 * {@link #positionBucket} of each key's offset from its query and added to every layer's attention scores.
 *
 * @param relativeBuckets rows of {@code relative_attention_bias} ({@code relative_attention_num_buckets}); transformers
 *                        buckets offsets into {@link #BUCKETS} whatever this says ({@code compute_position_bias}'s
 *                        default argument), so rows past 32 are never read and fewer than 32 are refused
 */
public record MpnetConfig(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                          int maxPositions, double layerNormEps, String hiddenAct, int relativeBuckets)
        implements ArchitectureConfig {
    /** The buckets {@code MPNetEncoder.compute_position_bias} uses (its {@code num_buckets=32} default). */
    public static final int BUCKETS = 32;
    /** {@code relative_position_bucket}'s {@code max_distance}: offsets this far or farther share the last bucket. */
    public static final int MAX_DISTANCE = 128;
    /** {@code MPNetEmbeddings.padding_idx}: position ids start at 2. */
    public static final int POSITION_OFFSET = 2;
    public static final String RELATIVE_BIAS = "encoder.relative_attention_bias.weight";

    public MpnetConfig {
        ArchitectureConfig.checkDimension("vocab_size", vocabSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("hidden_size", hiddenSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("num_hidden_layers", numLayers, MAX_LAYERS);
        ArchitectureConfig.checkDimension("num_attention_heads", numHeads, hiddenSize);
        ArchitectureConfig.checkDimension("intermediate_size", intermediateSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("max_position_embeddings", maxPositions, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("relative_attention_num_buckets", relativeBuckets, MAX_DIMENSION);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numHeads);
        }
        if (!(layerNormEps > 0 && layerNormEps < 1)) {
            throw new IllegalArgumentException("layer_norm_eps " + layerNormEps + " must be in (0, 1)");
        }
        if (relativeBuckets < BUCKETS) {
            // transformers indexes rows up to 31 whatever the table holds: an IndexError once an input's offsets reach
            // a missing row, so with fewer than 18 rows any input of 2 or more tokens (a key right after its query is
            // bucket 17), with 18 to 31 rows a longer one (bucket 31 needs a key 91 or more positions after its query)
            throw new IllegalArgumentException("config field 'relative_attention_num_buckets' = " + relativeBuckets
                    + " is not supported: transformers' MPNetEncoder buckets relative positions into " + BUCKETS
                    + " buckets whatever this says, so the relative_attention_bias table needs at least " + BUCKETS
                    + " rows (this checkpoint could not run in transformers either)");
        }
        if (POSITION_OFFSET >= maxPositions) {
            throw new IllegalArgumentException("max_position_embeddings " + maxPositions + " leaves no position after"
                    + " MPNet's padding_idx 1");
        }
    }

    @Override
    public String modelType() {
        return "mpnet";
    }

    /** MPNet's heads are RoBERTa's ({@code MPNetLMHead}, {@code MPNetClassificationHead} are the same modules). */
    @Override
    public String headFamily() {
        return "roberta";
    }

    @Override
    public int maxSequenceLength() {
        return maxPositions - POSITION_OFFSET;
    }

    /**
     * The bucket of a key at {@code relativePosition = key - query}, as transformers'
     * {@code MPNetEncoder.relative_position_bucket} computes it with 32 buckets and {@code max_distance} 128
     * (bidirectional, T5's scheme): keys before or at the query take buckets 0..15, keys after it 16..31; within a
     * half, distances 0..7 have a bucket each, and 8..127 share the other 8 on a log scale, {@code 8 + trunc(log(n / 8)
     * / log(128 / 8) * 8)} computed in float32 as torch computes it, capped at 15 (so every distance of 91 or more is
     * 15).
     */
    public static int positionBucket(int relativePosition) {
        int half = BUCKETS / 2;
        int n = -relativePosition;
        int bucket = n < 0 ? half : 0;
        n = Math.abs(n);
        int maxExact = half / 2;
        if (n < maxExact) {
            return bucket + n;
        }
        // torch: log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact), in
        // float32 (the Python float divisor becomes a float32 scalar), then .to(long) truncates
        float ratio = (float) n / maxExact;
        float scaled = (float) Math.log(ratio) / (float) Math.log((double) MAX_DISTANCE / maxExact) * (half - maxExact);
        int large = maxExact + (int) scaled;
        return bucket + Math.min(large, half - 1);
    }

    /** {@link #positionBucket} of every (query, key) pair of a {@code seqLen} sequence, row-major: {@code [q * S + k]}. */
    public static int[] positionBuckets(int seqLen) {
        int[] buckets = new int[seqLen * seqLen];
        for (int q = 0; q < seqLen; q++) {
            for (int k = 0; k < seqLen; k++) {
                buckets[q * seqLen + k] = positionBucket(k - q);
            }
        }
        return buckets;
    }

    @Override
    public List<ExpectedTensor> expectedTensors() {
        int h = hiddenSize;
        List<ExpectedTensor> t = new ArrayList<>();
        t.add(ExpectedTensor.required("embeddings.word_embeddings.weight", vocabSize, h));
        t.add(ExpectedTensor.required("embeddings.position_embeddings.weight", maxPositions, h));
        t.add(ExpectedTensor.required("embeddings.LayerNorm.weight", h));
        t.add(ExpectedTensor.required("embeddings.LayerNorm.bias", h));
        for (int i = 0; i < numLayers; i++) {
            String p = "encoder.layer." + i + ".";
            for (String proj : List.of("attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o")) {
                t.add(ExpectedTensor.required(p + proj + ".weight", h, h));
                t.add(ExpectedTensor.required(p + proj + ".bias", h));
            }
            t.add(ExpectedTensor.required(p + "attention.LayerNorm.weight", h));
            t.add(ExpectedTensor.required(p + "attention.LayerNorm.bias", h));
            t.add(ExpectedTensor.required(p + "intermediate.dense.weight", intermediateSize, h));
            t.add(ExpectedTensor.required(p + "intermediate.dense.bias", intermediateSize));
            t.add(ExpectedTensor.required(p + "output.dense.weight", h, intermediateSize));
            t.add(ExpectedTensor.required(p + "output.dense.bias", h));
            t.add(ExpectedTensor.required(p + "output.LayerNorm.weight", h));
            t.add(ExpectedTensor.required(p + "output.LayerNorm.bias", h));
        }
        t.add(ExpectedTensor.required(RELATIVE_BIAS, relativeBuckets, numHeads));
        // MPNetModel(add_pooling_layer=True) saves it; the head models build theirs without
        t.add(ExpectedTensor.optional("pooler.dense.weight", h, h));
        t.add(ExpectedTensor.optional("pooler.dense.bias", h));
        return t;
    }

    @Override
    public List<String> checkpointPrefixes() {
        return List.of("mpnet.");
    }

    @Override
    public boolean isTaskHead(String name) {
        return isIgnored(name) && !name.equals("embeddings.position_ids");
    }

    @Override
    public boolean isIgnored(String name) {
        return name.equals("embeddings.position_ids") || name.startsWith("lm_head.") || name.startsWith("classifier.")
                || name.startsWith("qa_outputs.");
    }
}
