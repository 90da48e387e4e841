package io.aneforge.registry.model;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;

/** The JSON shapes of models and versions. */
public final class ModelRecords {

    private ModelRecords() {}

    /**
     * @param aliases the model's aliases and the version each points at now, by alias name (empty: none); the
     *                alias endpoints ({@code /models/{name}/aliases}) add who moved each and when
     */
    public record ModelView(String name, String task, String description, String owner, OffsetDateTime createdAt,
                            Map<String, Integer> aliases) {}

    /**
     * {@code type} is hub, local or upload; for hub, {@code commit} is the pinned 40-hex sha, or null until
     * pinned; for local, {@code path} is the snapshot directory.
     */
    public record SourceView(String type, String repo, String revision, String commit, String path) {}

    /**
     * @param publishedWithoutGoldenData who published the version without golden data and why (its accuracy is
     *                                   not checked); null for a version with golden data, and for a draft
     * @param aliases                    the names of the aliases that point at this version now, sorted (empty: none)
     */
    public record VersionView(String model, int version, SourceView source, String status, String createdBy,
                              OffsetDateTime createdAt, OffsetDateTime publishedAt, OffsetDateTime yankedAt,
                              String yankReason, Models.WithoutGoldenData publishedWithoutGoldenData,
                              List<String> aliases) {}

    /** Internal handle on a version row. */
    public record VersionRef(long id, long modelId, String model, int version, String status) {}
}
