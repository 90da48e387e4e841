package io.aneforge.hub;

import java.util.List;

/** A repository at one commit: the 40-hex sha and its file names. */
public record RepoInfo(String repoId, String commit, List<String> files) {
    public RepoInfo {
        if (commit == null || !HubCache.isCommit(commit)) {
            throw new IllegalStateException("commit must be 40 hex digits: " + commit);
        }
        files = List.copyOf(files);
    }
}
