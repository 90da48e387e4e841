package io.aneforge.model;

import io.aneforge.onnx.OnnxWeights;
import io.aneforge.safetensors.SafetensorsFile;
import io.aneforge.safetensors.ShardedSafetensors;
import io.aneforge.safetensors.TensorInfo;
import io.aneforge.safetensors.TensorReader;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Snapshot to {@link ImportedModel}: parses {@code config.json}, reads the weights tensor by
 * tensor, maps them to canonical names and layout, and checks every expected tensor (missing,
 * extra, wrong shape). Shapes are checked from the header before any tensor is read.
 */
public final class ModelImporter {
    private static final int MAX_LISTED = 8;

    private ModelImporter() {
    }

    public static ImportedModel importWeights(ModelSnapshot snapshot) throws IOException {
        return importWeights(snapshot, HeadChoice.DEFAULT);
    }

    /**
     * Like {@link #importWeights(ModelSnapshot)}, with the task head {@code choice} picks ({@code convert --head}); the
     * checkpoint's other heads are dropped and named in {@link ImportedModel#droppedHeads}.
     */
    public static ImportedModel importWeights(ModelSnapshot snapshot, HeadChoice choice) throws IOException {
        ArchitectureConfigs.Parsed parsed = ArchitectureConfigs.parseWithHead(snapshot.configJson(), choice);
        ArchitectureConfig config = parsed.config();
        TaskHead head = parsed.head();
        Map<String, ExpectedTensor> expected = new LinkedHashMap<>();
        for (ExpectedTensor t : config.expectedTensors()) {
            expected.put(t.name(), t);
        }
        if (head != null) {
            for (ExpectedTensor t : head.tensors(config)) {
                expected.put(t.name(), t);
            }
        }
        Map<String, FloatTensor> found = new LinkedHashMap<>();
        java.util.Set<String> droppedHeads = new java.util.LinkedHashSet<>();
        // whether the checkpoint holds any tensor of the head (read, or a tied decoder's weight skipped)
        boolean headSeen = false;
        java.util.Set<String> headNames = new java.util.HashSet<>();
        if (head != null) {
            head.tensors(config).forEach(t -> headNames.add(t.name()));
        }
        Path weights = snapshot.weights();
        switch (snapshot.format()) {
            case SAFETENSORS, SHARDED_SAFETENSORS -> {
                try (TensorReader reader = open(snapshot)) {
                    if (nextSentenceChosen(head)) {
                        // from the header, before a BERT-base checkpoint's 440 MB are read for a refusal
                        refuseMissingNextSentenceHead(weights, head, canonicalNames(config, reader.tensors()));
                    }
                    for (TensorInfo info : reader.tensors()) {
                        String name = canonical(config, info.name());
                        headSeen |= ofHead(config, head, headNames, name);
                        if (config.isIgnored(name) && !expected.containsKey(name)) {
                            noteHead(config, head, name, droppedHeads);
                            continue;
                        }
                        ExpectedTensor want = expect(weights, config, expected, name, info.name());
                        int[] stored = want.shape();
                        if (config.storedTransposed(name) && stored.length == 2) {
                            stored = new int[] {stored[1], stored[0]};
                        }
                        if (!Arrays.equals(toLong(stored), info.shape())) {
                            refuseLabelCount(weights, config, head, name, info.name(), info.shape());
                            throw new ModelImportException(weights, "tensor '" + info.name() + "' has shape "
                                    + Arrays.toString(info.shape()) + " but " + config.modelType() + " expects "
                                    + Arrays.toString(stored) + " for '" + name + "'");
                        }
                        if (found.containsKey(name)) {
                            throw new ModelImportException(weights, "tensor '" + name
                                    + "' appears twice (with and without a head prefix)");
                        }
                        FloatTensor t = reader.readFloat(info.name());
                        found.put(name, config.storedTransposed(name) ? transpose(t) : t);
                    }
                }
            }
            case ONNX -> {
                for (Map.Entry<String, FloatTensor> e : OnnxWeights.read(weights).entrySet()) {
                    String name = canonical(config, e.getKey());
                    headSeen |= ofHead(config, head, headNames, name);
                    if (config.isIgnored(name) && !expected.containsKey(name)) {
                        noteHead(config, head, name, droppedHeads);
                        continue;
                    }
                    ExpectedTensor want = expect(weights, config, expected, name, e.getKey());
                    if (!Arrays.equals(want.shape(), e.getValue().shape())) {
                        refuseLabelCount(weights, config, head, name, e.getKey(), toLong(e.getValue().shape()));
                        throw new ModelImportException(weights, "initializer for '" + name + "' has shape "
                                + Arrays.toString(e.getValue().shape()) + " but " + config.modelType()
                                + " expects " + Arrays.toString(want.shape()));
                    }
                    if (found.put(name, e.getValue()) != null) {
                        throw new ModelImportException(weights, "tensor '" + name + "' appears twice");
                    }
                }
            }
        }
        String absentHead = null;
        if (head != null && !headSeen) {
            // the required ones, and a masked-LM head's vocabulary bias (required under either of its two names)
            String vocabBias = head.kind().predictsTokens() ? TaskHead.maskedLmNames(config.headFamily()).bias() : null;
            List<String> headTensors = head.tensors(config).stream()
                    .filter(t -> !t.optional() || t.name().equals(vocabBias)).map(ExpectedTensor::name).toList();
            if (choice.kind() != null) {
                throw new AbsentHeadException(weights, head.kind(), head.architecture(), headTensors);
            }
            // config.json names a head the checkpoint has no tensor of: the class name is a hint, the weights decide
            // (sentence-transformers' all-mpnet-base-v2 ships MPNetModel's weights under an MPNetForMaskedLM config):
            // the base model, and the import says which head it is not
            absentHead = head.architecture();
            java.util.Set<String> base = new java.util.HashSet<>();
            config.expectedTensors().forEach(t -> base.add(t.name()));
            head.tensors(config).forEach(t -> {
                if (!base.contains(t.name())) {
                    expected.remove(t.name());
                }
            });
            head = null;
        }
        List<String> missing = new ArrayList<>();
        for (ExpectedTensor t : expected.values()) {
            if (!t.optional() && !found.containsKey(t.name())) {
                missing.add(t.name());
            }
        }
        if (nextSentenceChosen(head)) {
            refuseMissingNextSentenceHead(weights, head, found.keySet()); // an ONNX file's, read whole
        }
        if (head != null && head.readsPooler(config.headFamily()) && !found.containsKey("pooler.dense.weight")) {
            throw new ModelImportException(weights, head.architecture() + " classifies the pooler output"
                    + (head.kind() == TaskHead.Kind.PRE_TRAINING ? " (next-sentence prediction)" : "") + ", but the"
                    + " checkpoint has no pooler.dense weights: use the checkpoint's complete weights"
                    + (head.kind() == TaskHead.Kind.PRE_TRAINING ? ", or convert with --head fill-mask for the"
                    + " masked-LM head alone" : ""));
        }
        if (head != null && head.kind() == TaskHead.Kind.PRE_TRAINING
                && !found.containsKey(TaskHead.SEQ_RELATIONSHIP + ".weight")) {
            throw new ModelImportException(weights, head.architecture() + "'s next-sentence head '"
                    + TaskHead.SEQ_RELATIONSHIP + "' is missing: use the checkpoint's complete weights, or convert"
                    + " with --head fill-mask for the masked-LM head alone (or --head none for the base model)");
        }
        if (!missing.isEmpty()) {
            throw new ModelImportException(weights, missing.size() + " tensor(s) required by " + config.modelType()
                    + " are missing: " + head(missing) + " (is config.json for a different model?)");
        }
        if (head != null && head.kind().predictsTokens()) {
            keepOneBias(weights, config, found);
        }
        Map<String, FloatTensor> ordered = new LinkedHashMap<>();
        for (ExpectedTensor t : expected.values()) {
            FloatTensor value = found.containsKey(t.name()) ? found.get(t.name()) : config.computedWhenMissing(t.name());
            if (value != null) {
                ordered.put(t.name(), value);
            }
        }
        return new ImportedModel(config, ordered, snapshot.commit(), List.copyOf(droppedHeads), head, false, absentHead);
    }

    /** True for a checkpoint tensor (canonical name) of {@code head}: one it reads, or a tied decoder's it skips. */
    private static boolean ofHead(ArchitectureConfig config, TaskHead head, java.util.Set<String> headNames, String name) {
        return head != null && (headNames.contains(name) || head.covers(config.headFamily(), name));
    }

    /** {@code --head pre-training} on a config that names the masked-LM head only ({@code BertForMaskedLM}). */
    private static boolean nextSentenceChosen(TaskHead head) {
        return head != null && head.kind() == TaskHead.Kind.PRE_TRAINING && head.chosenBeyondArchitecture();
    }

    /**
     * {@code --head pre-training} on a config that names the masked-LM head only: the weights decide, and without the
     * next-sentence head's (and the pooler's, which it reads) there is nothing to convert. Refused naming every one
     * missing; {@link MissingHeadTensorsException} lets each caller name its own way out.
     */
    private static void refuseMissingNextSentenceHead(Path file, TaskHead head, java.util.Collection<String> present)
            throws MissingHeadTensorsException {
        List<String> missing = TaskHead.NEXT_SENTENCE_TENSORS.stream().filter(n -> !present.contains(n)).toList();
        if (!missing.isEmpty()) {
            throw new MissingHeadTensorsException(file, head.kind(), head.architecture(), missing);
        }
    }

    /**
     * Which of the canonical tensor {@code names} the snapshot's checkpoint lacks, read from the safetensors headers
     * alone (an ONNX file is read whole). {@code convert} asks it of a masked-LM checkpoint whose next-sentence head it
     * dropped ({@link TaskHead#NEXT_SENTENCE_TENSORS}), to name {@code --head pre-training} only where it converts.
     */
    public static List<String> absentTensors(ModelSnapshot snapshot, List<String> names) throws IOException {
        // without a head choice, which a config naming two kinds would need: only the prefixes matter here
        ArchitectureConfig config = ArchitectureConfigs.parseWithHead(snapshot.configJson(), HeadChoice.NONE).config();
        java.util.Set<String> present = new java.util.HashSet<>();
        if (snapshot.format() == io.aneforge.source.WeightsFormat.ONNX) {
            for (String name : OnnxWeights.read(snapshot.weights()).keySet()) {
                present.add(canonical(config, name));
            }
        } else {
            try (TensorReader reader = open(snapshot)) {
                present.addAll(canonicalNames(config, reader.tensors()));
            }
        }
        return names.stream().filter(n -> !present.contains(n)).toList();
    }

    private static java.util.Set<String> canonicalNames(ArchitectureConfig config, List<TensorInfo> tensors) {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (TensorInfo info : tensors) {
            names.add(canonical(config, info.name()));
        }
        return names;
    }

    /**
     * A head's output projection whose rows are not the config's label count: the config and the weights disagree on
     * num_labels (a classifier fine-tuned for 3 labels with the base model's 2-label config, say), refused naming both.
     */
    private static void refuseLabelCount(Path file, ArchitectureConfig config, TaskHead head, String name,
                                         String original, long[] shape) throws ModelImportException {
        if (head == null || !head.countsLabels(config.headFamily(), name) || shape.length == 0
                || shape.length == 2 && shape[1] != config.hiddenSize() || shape.length > 2) {
            return;
        }
        if (head.kind() == TaskHead.Kind.QUESTION_ANSWERING) {
            throw new ModelImportException(file, "tensor '" + original + "' has " + shape[0] + " rows, but "
                    + head.architecture() + " computes start and end logits from exactly 2: is config.json for"
                    + " another model?");
        }
        throw new ModelImportException(file, "the classifier '" + original + "' has " + shape[0] + " rows (labels)"
                + ", but config.json has " + head.numLabels() + " labels (id2label " + head.id2labelJson() + "): use"
                + " the config.json saved with these weights, or fix its id2label to " + shape[0] + " labels");
    }

    /**
     * A masked-LM head's vocabulary bias, which checkpoints store as {@code bias}, as {@code decoder.bias} or as both
     * (transformers ties the two parameters; the first wins when both are there, as they are the same tensor in a
     * checkpoint transformers saved): kept once, under the head's {@code bias} name.
     */
    private static void keepOneBias(Path file, ArchitectureConfig config, Map<String, FloatTensor> found)
            throws ModelImportException {
        TaskHead.MaskedLmNames n = TaskHead.maskedLmNames(config.headFamily());
        FloatTensor decoderBias = n.decoderBias() == null ? null : found.remove(n.decoderBias());
        if (!found.containsKey(n.bias())) {
            if (decoderBias == null) {
                throw new ModelImportException(file, "the masked-LM head's vocabulary bias '" + n.bias() + "'"
                        + (n.decoderBias() == null ? "" : " (or '" + n.decoderBias() + "')") + " is missing: use the"
                        + " checkpoint's complete weights, or convert with --head none for the base model");
            }
            found.put(n.bias(), decoderBias);
        }
    }

    /**
     * Records the module of a dropped task-head tensor ({@code classifier} of {@code classifier.weight}); one level
     * deeper inside a module of the converted head ({@code cls.seq_relationship} beside a masked-LM head's
     * {@code cls.predictions}). Tensors of the converted head that the import skips (a tied decoder's weight) are not.
     */
    private static void noteHead(ArchitectureConfig config, TaskHead head, String name, java.util.Set<String> heads) {
        if (!config.isTaskHead(name) || head != null && head.covers(config.headFamily(), name)) {
            return;
        }
        String module = name.contains(".") ? name.substring(0, name.indexOf('.')) : name;
        if (head != null && head.modules(config.headFamily()).contains(module)) {
            int second = name.indexOf('.', module.length() + 1);
            module = second < 0 ? name : name.substring(0, second);
        }
        heads.add(module);
    }

    /**
     * The snapshot's safetensors reader. The shard index is the one text file among the weights: bytes that are not
     * UTF-8 are a broken model file (named, like config.json's), not an I/O failure.
     */
    private static TensorReader open(ModelSnapshot snapshot) throws IOException {
        Path weights = snapshot.weights();
        if (snapshot.format() == io.aneforge.source.WeightsFormat.SAFETENSORS) {
            return SafetensorsFile.open(weights);
        }
        try {
            return ShardedSafetensors.open(weights);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ModelImportException(weights, ShardedSafetensors.INDEX_FILE + " is not valid UTF-8: save it as"
                    + " UTF-8 JSON");
        }
    }

    private static ExpectedTensor expect(Path file, ArchitectureConfig config, Map<String, ExpectedTensor> expected,
                                         String name, String original) throws ModelImportException {
        ExpectedTensor want = expected.get(name);
        if (want == null) {
            throw new ModelImportException(file, "unexpected tensor '" + original + "': not part of "
                    + config.modelType() + " with " + config.numLayers() + " layers (extra tensor, or config.json"
                    + " does not match the weights)");
        }
        return want;
    }

    static String canonical(ArchitectureConfig config, String name) {
        for (String prefix : config.checkpointPrefixes()) {
            if (name.startsWith(prefix)) {
                return name.substring(prefix.length());
            }
        }
        return name;
    }

    private static long[] toLong(int[] shape) {
        return Arrays.stream(shape).asLongStream().toArray();
    }

    private static String head(List<String> names) {
        return names.size() <= MAX_LISTED ? names.toString()
                : names.subList(0, MAX_LISTED) + " and " + (names.size() - MAX_LISTED) + " more";
    }

    private static FloatTensor transpose(FloatTensor t) {
        int rows = t.shape()[0];
        int cols = t.shape()[1];
        float[] src = t.data();
        float[] dst = new float[src.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                dst[c * rows + r] = src[r * cols + c];
            }
        }
        return new FloatTensor(new int[] {cols, rows}, dst);
    }
}
