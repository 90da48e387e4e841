package io.aneforge.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** One claim per conversion and build: the first partition holds it, the others get it to wait on. */
class SharedBuildsTest {

    @Test
    void theFirstClaimHoldsTheBuildAFailedOneIsReleasedAndConversionsAreApart() {
        SharedBuilds shared = new SharedBuilds();
        CompletableFuture<String> first = new CompletableFuture<>();
        assertThat(shared.claim(1, "ios16-ane-fp16-s32", first)).isNull();
        assertThat(shared.claim(1, "ios16-ane-fp16-s32", new CompletableFuture<>())).isSameAs(first);
        // another build, or the same build of another conversion, is its own claim
        assertThat(shared.claim(1, "ios18-ane-int8-block32-s32", new CompletableFuture<>())).isNull();
        assertThat(shared.claim(2, "ios16-ane-fp16-s32", new CompletableFuture<>())).isNull();

        // the claimant failed: released before its waiters wake, so one of them claims the build afresh
        shared.release(1, "ios16-ane-fp16-s32", first);
        CompletableFuture<String> second = new CompletableFuture<>();
        assertThat(shared.claim(1, "ios16-ane-fp16-s32", second)).isNull();
        // a stale release (of the failed claim) does not drop the new one
        shared.release(1, "ios16-ane-fp16-s32", first);
        assertThat(shared.claim(1, "ios16-ane-fp16-s32", new CompletableFuture<>())).isSameAs(second);

        shared.evict(1);
        assertThat(shared.claim(1, "ios16-ane-fp16-s32", new CompletableFuture<>())).isNull();
        assertThat(shared.claim(2, "ios16-ane-fp16-s32", new CompletableFuture<>())).isNotNull();
    }
}
