package io.aneforge.worker.pipeline;

import io.aneforge.convert.Calibration;
import io.aneforge.graph.WeightCache;
import io.aneforge.model.AbsentHeadException;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.MissingHeadTensorsException;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.worker.registry.RegistryModels.Conversion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/**
 * The imported weights of the conversions this worker is running, one copy per conversion shared by
 * its partitions (weights are never in an execution context; a restarted job re-imports from the
 * snapshot directory, whose path is in the job context).
 */
@Component
class ModelCache {

    private final Map<Long, ImportedModel> models = new ConcurrentHashMap<>();
    private final Map<Long, WeightCache> encodings = new ConcurrentHashMap<>();

    /**
     * The model a conversion converts: imported with the conversion's {@code head} (the checkpoint's task head, none,
     * or the one kind of a checkpoint that names two, as {@code convert --head} chooses), and taking {@code token_type_ids} when it asks for {@code tokenTypes} (what
     * {@code convert --head none} and {@code --token-types} do), so golden outputs and packages see one model.
     *
     * @throws IllegalArgumentException for {@code tokenTypes} on a model that has no second segment (naming why)
     */
    ImportedModel get(long conversionId, String snapshotDir, String commit, Conversion options) {
        return models.computeIfAbsent(conversionId, id -> {
            ImportedModel m;
            try {
                m = ModelImporter.importWeights(ModelSnapshot.of(Path.of(snapshotDir), commit), options.headChoice());
            } catch (MissingHeadTensorsException e) {
                // the importer's way out is convert's "drop --head"; a publisher set the conversion's head field. The
                // conversion's error quotes the direct cause when it adds to the message: this one does not
                IOException reworded = new IOException(inPublishersTerms(e), e);
                throw new UncheckedIOException(reworded.getMessage(), reworded);
            } catch (AbsentHeadException e) {
                IOException reworded = new IOException(inPublishersTerms(e), e);
                throw new UncheckedIOException(reworded.getMessage(), reworded);
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e); // the message names file and problem
            }
            if (options.takesTokenTypes()) {
                try {
                    m = m.withTokenTypeInput();
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("tokenTypes: " + e.getMessage() + " (publish the version without"
                            + " tokenTypes)", e);
                }
            }
            return m;
        });
    }

    /**
     * A conversion's {@code head: pre-training} on a masked-LM checkpoint without the next-sentence head, worded for
     * the {@code head} field the publisher set (over HTTP, or with {@code publish --head}).
     */
    static String inPublishersTerms(MissingHeadTensorsException e) {
        return (e.file() == null ? "" : e.file() + ": ") + "head '" + e.kind().id() + "': " + e.problem()
                + ": publish the version again without head (or with head 'convert') to convert the masked-LM head"
                + " alone (fill-mask), or from weights that carry the next-sentence head";
    }

    /**
     * A conversion's {@code head: <kind>} on a checkpoint holding none of that head's tensors (its weights are the base
     * model's), worded for the {@code head} field the publisher set.
     */
    static String inPublishersTerms(AbsentHeadException e) {
        return (e.file() == null ? "" : e.file() + ": ") + "head '" + e.kind().id() + "': " + e.problem()
                + ": publish the version again with head 'none' to convert the base model, or from weights that carry"
                + " the head";
    }

    /**
     * The weight encodings (FP16, quantized) of a conversion, shared by its partitions as
     * {@code ./aneforge convert} shares them between variants: the ane and standard fp16 variants
     * store the same bytes, and variants for several chips share everything. The calibration statistics of
     * {@code -gptq} and {@code w8a8} variants are measured once per conversion, when the first one needs them, on the
     * snapshot's tokenizer and the fixed calibration texts ({@link Calibration}).
     */
    WeightCache encodings(long conversionId, String snapshotDir, String commit, Conversion options, int seqLen) {
        return encodings.computeIfAbsent(conversionId, id -> WeightCache.create(() -> {
            try (Tokenizer tokenizer = Tokenizer.load(Path.of(snapshotDir).resolve(ModelSnapshot.TOKENIZER))) {
                return Calibration.measure(get(id, snapshotDir, commit, options), tokenizer, seqLen);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load the tokenizer for calibration (GPTQ, W8A8): " + e.getMessage(), e);
            }
        }));
    }

    void evict(long conversionId) {
        models.remove(conversionId);
        encodings.remove(conversionId);
    }
}
