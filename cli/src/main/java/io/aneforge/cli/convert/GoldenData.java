package io.aneforge.cli.convert;

import io.aneforge.cli.CommandFailure;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.eval.golden.HeldPositions;
import io.aneforge.graph.Graphs;
import io.aneforge.io.IoProblems;
import io.aneforge.tokenizer.MaskToken;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The golden data of a {@code convert} output directory: what the registry's accuracy and benchmark jobs
 * compare a version's variants against, in the files and media types the converter worker stores. The
 * inputs are {@code Golden.sampleInputs} of every fixed sample at the sequence length; the outputs are
 * {@code Golden.forStorage} of them (the FP32 graph on each sample's real tokens, 0 at padded positions, as
 * {@code HeldPositions.forStorage} stores them: vocabulary-sized logits at a bounded set of real tokens, golden format
 * 3), the function the worker's golden step calls: both files are the bytes the worker stores for the same source,
 * sequence length and samples.
 *
 * @param outputs the golden outputs as stored ({@code Golden.Pass.stored}); {@code convert}'s own fidelity compares
 *                the outputs it computed, every real token, not these
 */
public record GoldenData(GoldenOutputs inputs, GoldenOutputs outputs) {

    public static final String INPUTS_FILE = "golden-inputs.bin";
    public static final String OUTPUTS_FILE = "golden-outputs.bin";
    /** The media types the converter worker uploads them with (the registry's blob allow-list has both). */
    public static final String INPUTS_MEDIA_TYPE = "application/vnd.aneforge.golden-inputs";
    public static final String OUTPUTS_MEDIA_TYPE = "application/vnd.aneforge.golden-outputs";

    /** The two files, for the output directory's list of what a run writes. */
    public static List<String> fileNames() {
        return List.of(INPUTS_FILE, OUTPUTS_FILE);
    }

    /**
     * What a fill-mask (or pre-training) model's golden data costs: its outputs are the logits over the whole
     * vocabulary, hundreds of times a classifier's per token. Held at every real token of the fixed samples (a
     * vocabulary under {@link HeldPositions#MIN_WIDTH}, or {@code ANEFORGE_GOLDEN_FORMAT} 1 or 2) they are about
     * 75 MB for BERT-base's 30522 tokens and 125 MB for RoBERTa's 50265, which every agent downloads for each job of the
     * version: the note names the one way to skip them, {@code --samples 0}, and what that costs. Held at some real
     * tokens only (golden format 3, the default for a real vocabulary) they are at most about 8 MB: the note says how
     * many of the real tokens the agents compare and which agents take the version's jobs. Either way it says how
     * many of those tokens the samples mask ({@code MaskedSamples}), when {@code mask} is the samples' mask token.
     */
    public String fillMaskNote(String task, long fileBytes, int vocabSize, Optional<MaskToken> mask) {
        long real = 0;
        long masked = 0;
        long maskedHeld = 0;
        for (int i = 0; i < inputs.samples().size(); i++) {
            GoldenOutputs.Sample s = inputs.samples().get(i);
            GoldenTensor attention = s.tensors().get(Graphs.ATTENTION_MASK);
            if (attention != null) {
                for (float m : attention.stored()) {
                    real += m != 0 ? 1 : 0;
                }
            }
            GoldenTensor ids = s.tensors().get(Graphs.INPUT_IDS);
            if (mask.isPresent() && ids != null) {
                float[] id = ids.expand().data();
                for (float v : id) {
                    masked += v == mask.get().id() ? 1 : 0;
                }
                int[] held = outputs.samples().get(i).tensors().values().stream()
                        .filter(GoldenTensor::holdsSomePositionsOnly).map(GoldenTensor::heldPositions).findFirst()
                        .orElse(new int[0]);
                for (int p : held) {
                    maskedHeld += id[p] == mask.get().id() ? 1 : 0;
                }
            }
        }
        long heldBytes = outputs.heldBytes();
        boolean reduced = outputs.samples().stream().anyMatch(s -> s.tensors().values().stream()
                .anyMatch(GoldenTensor::holdsSomePositionsOnly));
        if (reduced) {
            // a pre-training model's 2 next-sentence logits per sample are too few to change the position count (floored)
            return String.format(Locale.ROOT, "note: a " + task + " model's golden data holds its logits over"
                    + " the whole vocabulary (%d tokens) at %d of the fixed samples' %d real tokens (golden format 3,"
                    + " about %.1f MB at every one)%s: %s is %.1f MB; the agents' accuracy and benchmark jobs compare those"
                    + " positions only (the fidelity above compares every real token), and only agents that read golden"
                    + " format 3 take the version's jobs (ANEFORGE_GOLDEN_FORMAT=2 keeps every real token)", vocabSize,
                    heldBytes / (4L * vocabSize), real, 4.0 * real * vocabSize / 1e6,
                    mask.isEmpty() ? "" : ", " + maskedHeld + " of them " + mask.get().text() + " in the samples",
                    OUTPUTS_FILE, fileBytes / 1e6);
        }
        // a pre-training model's 2 next-sentence logits per sample are too few to change the token count (floored)
        return String.format(Locale.ROOT, "note: a " + task + " model's golden data holds its logits over the"
                + " whole vocabulary (%d tokens) at each of the fixed samples' %d real tokens%s: %s is %.1f MB, %.1f MB"
                + " once decoded; every agent downloads it for each benchmark job of the version and holds it within"
                + " aneforge.agent.golden-max-memory (1GB by default, shared with the other versions' golden data it"
                + " keeps); --samples 0 skips it, and the fidelity metrics with it (publish --dir of such a directory"
                + " needs --without-golden-data --reason TEXT: the version's accuracy is then not checked)", vocabSize,
                heldBytes / (4L * vocabSize), mask.isEmpty() ? "" : " (" + masked + " of them " + mask.get().text()
                + " in the samples)", OUTPUTS_FILE, fileBytes / 1e6, heldBytes / 1e6);
    }

    /** Writes both files into {@code dir} and returns their {@code variants.json} entry. */
    public VariantsManifest.Golden write(Path dir) {
        return new VariantsManifest.Golden(inputs.samples().size(), INPUTS_FILE, write(inputs, dir.resolve(INPUTS_FILE)),
                OUTPUTS_FILE, write(outputs, dir.resolve(OUTPUTS_FILE)));
    }

    private static String write(GoldenOutputs data, Path file) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK must provide SHA-256", e);
        }
        try (OutputStream out = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(file)), sha)) {
            GoldenOutputsCodec.write(data, out);
        } catch (IOException e) {
            throw new CommandFailure("cannot write " + file + ": " + IoProblems.describe(e, file), e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
