package io.aneforge.agent.loop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Releases the agent has not delivered yet, kept in {@code <cache dir>/unsent-releases/} so that they outlive the
 * process: a release of a lease in hand that failed ({@code lease-<uuid>.json}) and a release by request of a lease
 * call whose answer was lost or unreadable ({@code request-<uuid>.json}). The agent, this process or the next one
 * started on the same cache directory, sends them before it leases; without them an agent restarted while the
 * registry was unreachable would leave those leases to expire, each spending an attempt.
 *
 * <p>One small file per release, written atomically (a temporary file moved into place): an agent killed while
 * writing leaves no half record, and agents on one host that share the cache directory (they share one agent id,
 * so either may send the other's release) never rewrite each other's files. The file name is a name-based UUID of
 * the ids, so ids from the registry never make a path. A file that does not parse is renamed to
 * {@code <name>.unreadable} (logged) and skipped, never deleted: it holds the only way to give its attempt back.
 * Records older than {@link #MAX_AGE} are dropped unsent (logged): a lease lasts minutes, and the registry keeps
 * a release by request that found nothing for a day (V15), so by then there is nothing a release could change.
 */
final class UnsentReleases {

    private static final Logger log = LoggerFactory.getLogger(UnsentReleases.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final String DIR = "unsent-releases";
    /** How long a record is worth sending: the registry's retention of released lease requests (V15). */
    static final Duration MAX_AGE = Duration.ofDays(1);

    /** A release of a lease in hand: {@code trouble} as the first try said. */
    record LeaseRelease(String agentId, String jobId, String leaseId, String reason, boolean trouble,
            Instant recordedAt) {
        LeaseRelease {
            required(agentId, "agentId");
            required(jobId, "jobId");
            required(leaseId, "leaseId");
            required(recordedAt, "recordedAt");
        }
    }

    /**
     * A release by the request id of a lease call; a lease for it can be granted until {@code windowEnd}. {@code
     * trouble}: whether the registry counts it against the job and agent (a lost or unreadable answer); false for a
     * call a drain cut short and for the unanswered call of an ended process. A record written before the field
     * (absent) is trouble, as its release was then.
     */
    record RequestRelease(String agentId, String request, String reason, Instant windowEnd, Instant recordedAt,
            Boolean trouble) {
        RequestRelease {
            required(agentId, "agentId");
            required(request, "request");
            required(windowEnd, "windowEnd");
            required(recordedAt, "recordedAt");
            trouble = trouble == null || trouble;
        }
    }

    /** A record missing an id cannot be sent: read as unreadable (set aside), not as a release of nothing. */
    private static void required(Object value, String field) {
        if (value == null || value.toString().isBlank()) {
            throw new IllegalArgumentException("an unsent release needs " + field);
        }
    }

    private final Path dir;

    /** @param cacheDir the agent's cache directory ({@code aneforge.agent.cache.dir}) */
    UnsentReleases(Path cacheDir) {
        this.dir = cacheDir.resolve(DIR);
    }

    Path dir() {
        return dir;
    }

    /** Records the release; false (logged) when the directory cannot be written. */
    boolean record(LeaseRelease r) {
        return write(leaseFile(r.jobId(), r.leaseId()), r);
    }

    boolean record(RequestRelease r) {
        return write(requestFile(r.request()), r);
    }

    void forget(LeaseRelease r) {
        delete(leaseFile(r.jobId(), r.leaseId()));
    }

    void forget(RequestRelease r) {
        delete(requestFile(r.request()));
    }

    /** The recorded releases of leases in hand, oldest first; old ones and unreadable files are put away (logged). */
    List<LeaseRelease> leases(Instant now) {
        List<LeaseRelease> out = new ArrayList<>();
        for (Path f : files("lease-*.json")) {
            LeaseRelease r = read(f, LeaseRelease.class);
            if (r == null) {
                continue;
            }
            if (tooOld(f, r.recordedAt(), now)) {
                log.warn("dropped the recorded release of job {} (lease {}) unsent: recorded {}, more than {} h ago; its"
                        + " lease has long expired, so it can give nothing back", r.jobId(), r.leaseId(), r.recordedAt(),
                        MAX_AGE.toHours());
                continue;
            }
            out.add(r);
        }
        out.sort(java.util.Comparator.comparing(LeaseRelease::recordedAt));
        return out;
    }

    /** The recorded releases by request, oldest first; old ones and unreadable files are put away (logged). */
    List<RequestRelease> requests(Instant now) {
        List<RequestRelease> out = new ArrayList<>();
        for (Path f : files("request-*.json")) {
            RequestRelease r = read(f, RequestRelease.class);
            if (r == null) {
                continue;
            }
            if (tooOld(f, r.recordedAt(), now)) {
                log.warn("dropped the recorded release of lease call {} unsent: recorded {}, more than {} h ago; a lease"
                        + " granted for it has long expired", r.request(), r.recordedAt(), MAX_AGE.toHours());
                continue;
            }
            out.add(r);
        }
        out.sort(java.util.Comparator.comparing(RequestRelease::recordedAt));
        return out;
    }

    private boolean tooOld(Path f, Instant recordedAt, Instant now) {
        if (!recordedAt.isBefore(now.minus(MAX_AGE))) {
            return false;
        }
        delete(f);
        return true;
    }

    private List<Path> files(String glob) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, glob)) {
            files.forEach(out::add);
        } catch (IOException e) {
            log.warn("cannot list the unsent releases in {} ({}); they are tried again before the next lease", dir,
                    e.toString());
        }
        return out;
    }

    private <T> T read(Path f, Class<T> type) {
        try {
            T r = JSON.readValue(Files.readString(f, StandardCharsets.UTF_8), type);
            if (r == null) {
                throw new IllegalArgumentException("empty record");
            }
            return r;
        } catch (NoSuchFileException gone) {
            return null; // sent by another agent on this cache directory meanwhile
        } catch (IOException | RuntimeException unreadable) {
            Path aside = f.resolveSibling(f.getFileName() + ".unreadable");
            try {
                Files.move(f, aside, StandardCopyOption.REPLACE_EXISTING);
                log.error("cannot read the unsent release {} ({}); moved it to {} and it is not sent. Read it and, if"
                        + " its lease is still held, release it by hand; then delete the file", f, unreadable, aside);
            } catch (IOException e) {
                log.error("cannot read the unsent release {} ({}) nor move it aside ({}); it is skipped", f,
                        unreadable, e.toString());
            }
            return null;
        }
    }

    private boolean write(Path target, Object record) {
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "writing-", ".tmp");
            try {
                Files.write(tmp, JSON.writeValueAsBytes(record));
                try {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            return true;
        } catch (IOException | RuntimeException e) {
            log.warn("cannot record the unsent release in {} ({}): a restart before it is delivered loses it", dir,
                    e.toString());
            return false;
        }
    }

    private void delete(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            // sent again next time; the registry answers a repeat without changing anything
            log.warn("cannot delete the delivered release {} ({}); it is sent once more", f, e.toString());
        }
    }

    private Path leaseFile(String jobId, String leaseId) {
        return dir.resolve("lease-" + nameOf(jobId + "\n" + leaseId) + ".json");
    }

    private Path requestFile(String request) {
        return dir.resolve("request-" + nameOf(request) + ".json");
    }

    private static UUID nameOf(String ids) {
        return UUID.nameUUIDFromBytes(ids.getBytes(StandardCharsets.UTF_8));
    }
}
