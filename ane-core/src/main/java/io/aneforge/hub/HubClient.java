package io.aneforge.hub;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The seam to the Hugging Face Hub. Implementations cache exactly like the Python tools
 * ({@link HubCache}), so a file downloaded once is served from disk afterwards.
 */
public interface HubClient {

    /** Resolves {@code revision} (branch, tag, {@code refs/pr/N} or commit) to a commit and its files. */
    RepoInfo modelInfo(String repoId, String revision) throws IOException;

    /**
     * Returns the snapshot path of {@code file} at {@code revision}, downloading and verifying it
     * if it is not cached. Safe to call from several threads and processes at once.
     */
    Path download(String repoId, String revision, String file) throws IOException;

    /** The snapshot directory of a commit (which may hold only some of the repo's files). */
    Path snapshotDir(String repoId, String commit);

    /** A client configured from the environment ({@link HubConfig#fromEnvironment()}). */
    static HubClient fromEnvironment() {
        return new HttpHubClient(HubConfig.fromEnvironment());
    }
}
