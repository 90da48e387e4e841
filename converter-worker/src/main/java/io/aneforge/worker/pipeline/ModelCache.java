package io.aneforge.worker.pipeline;

import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
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

    ImportedModel get(long conversionId, String snapshotDir, String commit) {
        return models.computeIfAbsent(conversionId, id -> {
            try {
                return ModelImporter.importWeights(ModelSnapshot.of(Path.of(snapshotDir), commit));
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e); // the message names file and problem
            }
        });
    }

    void evict(long conversionId) {
        models.remove(conversionId);
    }
}
