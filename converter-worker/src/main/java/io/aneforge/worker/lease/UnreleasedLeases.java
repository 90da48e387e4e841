package io.aneforge.worker.lease;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Leases this worker meant to hand back but could not (the one release a stopping worker sends failed within its
 * 5 s, or the registry stayed unreachable through a running worker's retries), written to
 * {@code <work dir>/unreleased-leases/conversion-<id>.json} so that the worker — this process or the next one
 * started on the same work directory — sends the release again instead of letting the lease run out, which
 * spends an attempt. Until another worker takes the conversion over (after the lease expired), the registry
 * still accepts the release and gives the attempt back; after that it answers {@code lease-lost} and the record
 * is dropped. Other refusals (401 after a token rotation, 404 from an older registry) keep it, for at most
 * {@link Leases#MAX_RECORD_AGE}. A file per conversion, written atomically (a temporary file moved into place): a worker killed
 * while writing leaves no half record.
 *
 * <p>Releases by lease request ({@link Leases#releaseLeaseRequest}) are kept here too, as {@code request-<uuid>.json}
 * (the UUID derived from the request id, so no id from outside makes a path), from the moment the lease call's answer
 * was lost until the registry answered the release: a worker restarted meanwhile on the same work directory sends them
 * ({@link #requests}). Older workers list only {@code conversion-*.json} and leave these alone.
 */
public final class UnreleasedLeases {

    private static final Logger log = LoggerFactory.getLogger(UnreleasedLeases.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final String DIR = "unreleased-leases";

    /**
     * A lease to hand back: the conversion, its lease token, why it is handed back, and whether for trouble (counted
     * by the registry; false for a stopping worker's release, and in records written before the field existed).
     * {@code trouble} is a {@code Boolean} on purpose: Jackson refuses a record without a primitive field, and a
     * worker updated in place must still read the records its predecessor wrote (null reads as false).
     */
    public record Unreleased(long conversionId, String leaseToken, String reason, Boolean trouble) {
        public Unreleased {
            trouble = Boolean.TRUE.equals(trouble);
        }
    }

    /**
     * A release by lease request still to be sent: the lease call {@code request} of worker {@code worker} (whose id
     * the registry bound the grant to), any lease for it granted by {@code windowEnd}; recorded at {@code recordedAt}.
     */
    public record UnreleasedRequest(String request, String worker, String reason, Instant windowEnd,
            Instant recordedAt) {
        public UnreleasedRequest {
            // A record without them cannot be sent: read as unreadable (moved aside), not as a release of nothing.
            if (request == null || request.isBlank() || worker == null || worker.isBlank() || windowEnd == null
                    || recordedAt == null) {
                throw new IllegalArgumentException("a release by lease request needs request, worker, windowEnd and"
                        + " recordedAt");
            }
        }
    }

    private final Path dir;

    public UnreleasedLeases(Path workDir) {
        this.dir = workDir.resolve(DIR);
    }

    /** Records the lease; returns false (nothing to do about it) when the work directory cannot be written. */
    public boolean record(Unreleased u) {
        return write(file(u.conversionId()), "conversion-" + u.conversionId() + "-", u);
    }

    /** Records a release by lease request; false when the work directory cannot be written (then kept in memory only). */
    public boolean record(UnreleasedRequest r) {
        return write(requestFile(r.request()), "request-", r);
    }

    private boolean write(Path target, String prefix, Object record) {
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, prefix, ".tmp");
            Files.write(tmp, JSON.writeValueAsBytes(record));
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return true;
        } catch (IOException | RuntimeException e) {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a stray .tmp file is never read
                }
            }
            return false;
        }
    }

    /**
     * The recorded releases by lease request, oldest first. One that does not parse is moved aside as for {@link
     * #recorded}; one recorded more than {@code maxAge} before {@code now} is deleted unsent (logged): the registry
     * keeps a release by request for a day (V15), and a lease granted for the call ran out long before.
     */
    public List<UnreleasedRequest> requests(Instant now, java.time.Duration maxAge) {
        List<UnreleasedRequest> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "request-*.json")) {
            for (Path f : files) {
                try {
                    UnreleasedRequest r = JSON.readValue(Files.readString(f, StandardCharsets.UTF_8),
                            UnreleasedRequest.class);
                    if (r.recordedAt().isBefore(now.minus(maxAge))) {
                        Files.deleteIfExists(f);
                        log.warn("dropped the recorded release of lease call {} unsent: recorded {}, more than {} h ago;"
                                + " a lease granted for it ran out long ago", r.request(), r.recordedAt(),
                                maxAge.toHours());
                    } else {
                        out.add(r);
                    }
                } catch (NoSuchFileException gone) {
                    // sent by another worker on this work directory meanwhile
                } catch (IOException | RuntimeException unreadable) {
                    setAside(f, unreadable);
                }
            }
        } catch (IOException e) {
            return out;
        }
        out.sort(java.util.Comparator.comparing(UnreleasedRequest::recordedAt));
        return out;
    }

    /** Forgets the record of this release by lease request (answered, or no longer worth sending). */
    public void forgetRequest(String request) {
        try {
            Files.deleteIfExists(requestFile(request));
        } catch (IOException ignored) {
            // sent again by the next worker on this work directory; the registry answers a repeat the same way
        }
    }

    private Path requestFile(String request) {
        return dir.resolve("request-" + java.util.UUID.nameUUIDFromBytes(request.getBytes(StandardCharsets.UTF_8))
                + ".json");
    }

    /**
     * The recorded leases. A record that does not parse is moved aside to {@code conversion-<id>.json.unreadable}
     * (logged), not deleted: it may be a newer or older worker's format that a fix can still read, and its lease
     * token is the only way to give the attempt back.
     */
    public List<Unreleased> recorded() {
        List<Unreleased> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "conversion-*.json")) {
            for (Path f : files) {
                try {
                    out.add(JSON.readValue(Files.readString(f, StandardCharsets.UTF_8), Unreleased.class));
                } catch (NoSuchFileException gone) {
                    // released by another worker on this work directory meanwhile
                } catch (IOException | RuntimeException unreadable) {
                    setAside(f, unreadable);
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    private static void setAside(Path f, Exception why) {
        Path aside = f.resolveSibling(f.getFileName() + ".unreadable");
        try {
            Files.move(f, aside, StandardCopyOption.REPLACE_EXISTING);
            log.warn("cannot read the unreleased-lease record {} ({}); moved it to {} and it is not sent: read it and"
                    + " release the lease by hand if it is still held, then delete the file", f, why.toString(), aside);
        } catch (IOException e) {
            log.warn("cannot read the unreleased-lease record {} ({}) nor move it aside ({}); it is skipped", f,
                    why.toString(), e.toString());
        }
    }

    /**
     * When this conversion's lease was recorded (the record file's last write), or empty when there is no record.
     * Not in the record itself, so records written before it was asked for are read the same.
     */
    public java.util.Optional<Instant> recordedAt(long conversionId) {
        try {
            return java.util.Optional.of(Files.getLastModifiedTime(file(conversionId)).toInstant());
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    /** Forgets the record of this conversion (released, or no longer this worker's to release). */
    public void forget(long conversionId) {
        try {
            Files.deleteIfExists(file(conversionId));
        } catch (IOException ignored) {
            // tried again (and answered lease-lost or 204) next time
        }
    }

    private Path file(long conversionId) {
        return dir.resolve("conversion-" + conversionId + ".json");
    }
}
