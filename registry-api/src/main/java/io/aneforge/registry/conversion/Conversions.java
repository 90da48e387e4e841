package io.aneforge.registry.conversion;

import io.aneforge.mil.Target;
import io.aneforge.model.HeadChoice;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.conversion.ConversionViews.ConversionSummary;
import io.aneforge.registry.conversion.ConversionViews.ConversionView;
import io.aneforge.registry.conversion.ConversionViews.HandBack;
import io.aneforge.registry.conversion.ConversionViews.LeaseView;
import io.aneforge.registry.leaserequest.ReleasedLeaseRequests;
import io.aneforge.registry.leaserequest.ReleasedLeaseRequests.Queue;
import io.aneforge.registry.conversion.ConversionViews.ProgressReport;
import io.aneforge.registry.conversion.ConversionViews.Registration;
import io.aneforge.registry.conversion.ConversionViews.VariantProgress;
import io.aneforge.registry.conversion.ConversionViews.VariantReport;
import io.aneforge.registry.conversion.ConversionViews.VersionGolden;
import io.aneforge.registry.model.ModelRecords.VersionRef;
import io.aneforge.registry.model.ModelRecords.VersionView;
import io.aneforge.registry.model.Models;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Queues, leases and finishes conversions. */
@Service
public class Conversions {

    private static final Logger log = LoggerFactory.getLogger(Conversions.class);
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Set<String> STEPS = Set.of("fetch", "import", "golden", "variants", "finish");

    /**
     * A publish request that asks for a conversion.
     *
     * @param head {@code convert} (default), {@code none} or a head kind ({@code sequence-classification}), as
     *     {@code convert --head} ({@link HeadChoice#parse})
     * @param tokenTypes true gives the packages a {@code token_type_ids} input, as {@code convert --token-types}
     *     (default false)
     */
    public record Request(Models.Source source, List<String> chips, String recipe, Integer seqLen, String head,
                          Boolean tokenTypes) {}

    private final ConversionRepository conversions;
    private final ConversionVariantRepository variants;
    private final Models models;
    private final VariantPlanner planner;
    private final JdbcClient jdbc;
    private final Duration leaseDuration;
    private final int maxAttempts;
    /**
     * Releases of one conversion that give its attempt back ({@code aneforge.conversions.free-releases}). Rolling
     * updates and registry outages release a conversion a few times; one that is released more often is taken to
     * stop its own workers (killed for memory or a failing liveness probe during its build) and its releases spend
     * attempts from then on.
     */
    private final int freeReleases;
    /** {@code aneforge.conversions.max-hand-backs}: hand-backs for trouble of one conversion by one worker. */
    private final int maxHandBacks;
    private final ReleasedLeaseRequests releasedRequests;
    private final ConverterWorkers workers;

    Conversions(ConversionRepository conversions, ConversionVariantRepository variants, Models models,
                VariantPlanner planner, JdbcClient jdbc, ConversionProperties props,
                ReleasedLeaseRequests releasedRequests, ConverterWorkers workers) {
        this.conversions = conversions;
        this.variants = variants;
        this.models = models;
        this.planner = planner;
        this.jdbc = jdbc;
        this.leaseDuration = props.leaseDuration();
        this.maxAttempts = props.maxAttempts();
        this.freeReleases = props.freeReleases();
        this.maxHandBacks = props.maxHandBacks();
        this.releasedRequests = releasedRequests;
        this.workers = workers;
    }

    /** Creates a draft version and queues its conversion, in one transaction; refuses impossible recipes first. */
    @Transactional
    public VersionView publish(String model, Request req, Caller caller) {
        String type = req.source() == null ? null : req.source().type();
        if (!"hub".equals(type) && !"local".equals(type)) {
            throw ApiProblem.badRequest("invalid-source", "Invalid source",
                    "a conversion needs source.type 'hub' (repo, revision) or 'local' (path), got '" + type
                            + "'; upload-sourced versions take variants directly");
        }
        String head = req.head() == null ? "convert" : req.head();
        try {
            HeadChoice.parse(head);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest("invalid-request", "Invalid request", "head: must be 'convert' (the checkpoint's"
                    + " task head is converted, the default), 'none' (the packages output the base model's hidden"
                    + " states) or the head kind to convert: of a checkpoint that has two, fill-mask of a pre-training"
                    + " checkpoint (its masked-LM half) or pre-training of a BertForMaskedLM checkpoint that carries the"
                    + " next-sentence head and the pooler (one of " + HeadChoice.values() + "), got '" + head + "'");
        }
        int seqLen = req.seqLen() == null ? 128 : req.seqLen();
        String recipe = req.recipe() == null || req.recipe().isBlank() ? "default" : req.recipe();
        List<VariantSpec> plan;
        try {
            plan = planner.plan(req.chips(), recipe, seqLen);
        } catch (VariantPlanner.RecipeRejectedException | IllegalArgumentException e) {
            throw ApiProblem.unprocessable("recipe-rejected", "Recipe rejected", e.getMessage());
        }
        if (plan.isEmpty()) {
            throw ApiProblem.unprocessable("recipe-rejected", "Recipe rejected",
                    "recipe '" + recipe + "' plans no variant for chips " + req.chips());
        }
        VersionView version = models.createVersion(model, req.source(), caller);
        VersionRef ref = models.lockVersion(model, version.version());
        OffsetDateTime now = OffsetDateTime.now();
        Conversion c = new Conversion();
        c.versionId = ref.id();
        c.state = Conversion.QUEUED;
        c.chips = String.join(",", req.chips());
        c.recipe = recipe;
        c.seqLen = seqLen;
        c.head = head;
        c.tokenTypes = Boolean.TRUE.equals(req.tokenTypes());
        c.maxAttempts = maxAttempts;
        c.createdBy = caller.name();
        c.createdAt = now;
        c.updatedAt = now;
        c = conversions.save(c);
        Set<String> seen = new HashSet<>();
        for (VariantSpec s : plan) {
            if (!seen.add(s.id())) continue; // a recipe may list a variant twice; it is built once
            ConversionVariant v = new ConversionVariant();
            v.conversionId = c.id;
            v.specId = s.id();
            v.chip = s.chip();
            v.deploymentTarget = s.target().name();
            v.layout = s.layout().id();
            v.precision = s.precision().id();
            v.seqLen = s.seqLen();
            v.attentionChunk = s.attentionChunk();
            v.state = ConversionVariant.PENDING;
            v.updatedAt = now;
            variants.save(v);
        }
        log.info("queued conversion {} for {} v{} ({} variants)", c.id, model, version.version(), seen.size());
        return version;
    }

    @Transactional(readOnly = true)
    public ConversionView get(long id) {
        return view(conversions.findById(id).orElseThrow(() -> notFound(id)));
    }

    @Transactional(readOnly = true)
    public ConversionView forVersion(String model, int version) {
        models.version(model, version); // 404 names a missing model or version
        long versionId = jdbc.sql("SELECT v.id FROM model_version v JOIN model m ON m.id = v.model_id"
                + " WHERE m.name = ? AND v.version = ?").params(model, version).query(Long.class).single();
        return view(conversions.findByVersionId(versionId).orElseThrow(() -> noConversion(model, version)));
    }

    /** The most conversions one list call returns. */
    static final int MAX_LIST = 500;

    /**
     * Conversions newest first (by id, i.e. by creation): {@code active} = queued or running (a running one
     * holds a lease), {@code all} = every state. One query with variant counts, so the UI can poll it cheaply.
     */
    @Transactional(readOnly = true)
    public List<ConversionSummary> list(String state, int limit) {
        boolean all;
        if ("active".equals(state)) all = false;
        else if ("all".equals(state)) all = true;
        else throw ApiProblem.badRequest("invalid-query", "Invalid query",
                "parameter 'state' must be 'active' (queued or running) or 'all', got '" + state + "'");
        if (limit < 1 || limit > MAX_LIST) {
            throw ApiProblem.badRequest("invalid-query", "Invalid query",
                    "parameter 'limit' must be between 1 and " + MAX_LIST + ", got " + limit);
        }
        return jdbc.sql("SELECT c.id, m.name, v.version, c.state, c.step, c.lease_owner, c.attempts, c.error,"
                        + " c.created_at, c.updated_at, c.finished_at,"
                        + " (SELECT count(*) FROM conversion_variant cv WHERE cv.conversion_id = c.id"
                        + "   AND cv.state = '" + ConversionVariant.REGISTERED + "') AS done,"
                        + " (SELECT count(*) FROM conversion_variant cv WHERE cv.conversion_id = c.id"
                        + "   AND cv.state = '" + ConversionVariant.FAILED + "') AS failed,"
                        + " (SELECT count(*) FROM conversion_variant cv WHERE cv.conversion_id = c.id) AS total"
                        + " FROM conversion c JOIN model_version v ON v.id = c.version_id JOIN model m ON m.id = v.model_id"
                        + " WHERE ? OR c.state IN ('" + Conversion.QUEUED + "', '" + Conversion.RUNNING + "')"
                        + " ORDER BY c.id DESC LIMIT ?")
                .params(all, limit)
                .query((rs, n) -> new ConversionSummary(rs.getLong("id"), rs.getString("name"), rs.getInt("version"),
                        rs.getString("state"), rs.getString("step"), rs.getString("lease_owner"), rs.getInt("attempts"),
                        rs.getInt("done"), rs.getInt("failed"), rs.getInt("total"), rs.getString("error"),
                        rs.getObject("created_at", OffsetDateTime.class), rs.getObject("updated_at", OffsetDateTime.class),
                        rs.getObject("finished_at", OffsetDateTime.class)))
                .list();
    }

    /**
     * Leases the oldest queued (or lease-expired) conversion, or empty when there is none, or when the worker already
     * released {@code request} (it lost this call's answer, and its release found nothing yet: the call came late).
     * A conversion with a non-default head or token types only when {@code options} (what the worker declared) is at
     * least {@link #OPTIONS_HEAD_TOKEN_TYPES}.
     */
    @Transactional
    public Optional<LeaseView> leaseNext(String worker, UUID request, int options) {
        requireWorker(worker);
        requireOptions(options);
        workers.called(worker, options);
        // In this transaction and before the pick, so a release cannot slip in between (ReleasedLeaseRequests).
        if (releasedRequests.released(Queue.CONVERSION, worker, request)) {
            log.info("lease call {} of worker '{}' arrived after the worker released it: nothing granted", request, worker);
            return Optional.empty();
        }
        while (true) {
            Optional<Conversion> next = conversions.lockNextLeasable(options);
            if (next.isEmpty()) return Optional.empty();
            Conversion c = next.get();
            if (c.attempts >= c.maxAttempts) {
                fail(c, "the lease expired " + c.attempts + " times (max attempts " + c.maxAttempts
                        + "); the last worker was '" + c.leaseOwner + "'. Check the worker logs for conversion " + c.id);
                continue;
            }
            return Optional.of(grant(c, worker, request));
        }
    }

    /**
     * Leases one conversion by id: if it is queued, its lease expired, or {@code worker} already holds it
     * (a restarted worker recovering its own executions). A call whose {@code request} the worker already released
     * is refused ({@code 409 conversion-not-leasable}), as {@link #leaseNext} grants nothing for it.
     */
    @Transactional(noRollbackFor = ApiProblem.class) // exhausting the attempts fails the conversion, then refuses
    public LeaseView lease(long id, String worker, UUID request, int options) {
        requireWorker(worker);
        requireOptions(options);
        workers.called(worker, options);
        if (releasedRequests.released(Queue.CONVERSION, worker, request)) {
            throw ApiProblem.conflict("conversion-not-leasable", "Conversion not leasable", "worker '" + worker
                    + "' released lease request " + request + " before this call reached the registry (it had lost the"
                    + " answer); nothing is granted for it. Lease again with a new request id");
        }
        Conversion c = conversions.lock(id).orElseThrow(() -> notFound(id));
        OffsetDateTime now = OffsetDateTime.now();
        boolean free = Conversion.QUEUED.equals(c.state) || c.leaseExpired(now)
                || (Conversion.RUNNING.equals(c.state) && worker.equals(c.leaseOwner));
        if (!free) {
            throw ApiProblem.conflict("conversion-not-leasable", "Conversion not leasable",
                    "conversion " + id + " is " + c.state + (Conversion.RUNNING.equals(c.state)
                            ? ", leased by '" + c.leaseOwner + "' until " + c.leaseExpiresAt : ""));
        }
        if (options < c.requiredOptions()) {
            throw ApiProblem.conflict("conversion-not-leasable", "Conversion not leasable", "conversion " + id
                    + " sets head '" + c.head + "' and tokenTypes " + c.tokenTypes + ", which worker '" + worker
                    + "' did not declare it acts on (conversionOptions " + c.requiredOptions() + "); it would"
                    + (c.requiredOptions() == OPTIONS_PRE_TRAINING ? " refuse the head it does not know"
                    : " build other packages") + ". Upgrade the converter worker");
        }
        if (c.attempts >= c.maxAttempts) {
            fail(c, "attempts exhausted (" + c.attempts + " of " + c.maxAttempts + ")");
            throw ApiProblem.conflict("conversion-not-leasable", "Conversion not leasable",
                    "conversion " + id + " used all " + c.maxAttempts + " attempts and is now failed");
        }
        return grant(c, worker, request);
    }

    private LeaseView grant(Conversion c, String worker, UUID request) {
        OffsetDateTime now = OffsetDateTime.now();
        c.state = Conversion.RUNNING;
        c.attempts++;
        c.leaseOwner = worker;
        c.leaseToken = UUID.randomUUID().toString();
        c.leaseRequest = request;
        c.leaseExpiresAt = now.plus(leaseDuration);
        c.updatedAt = now;
        conversions.save(c);
        log.info("conversion {} leased to {} (attempt {}/{})", c.id, worker, c.attempts, c.maxAttempts);
        return new LeaseView(c.leaseToken, c.leaseExpiresAt, leaseDuration.toSeconds(), view(c));
    }

    /** Extends the lease; refused once the conversion was cancelled or the lease was taken over. */
    @Transactional
    public LeaseView heartbeat(long id, String token) {
        Conversion c = holding(id, token);
        OffsetDateTime now = OffsetDateTime.now();
        c.leaseExpiresAt = now.plus(leaseDuration);
        c.updatedAt = now;
        conversions.save(c);
        return new LeaseView(c.leaseToken, c.leaseExpiresAt, leaseDuration.toSeconds(), view(c));
    }

    @Transactional
    public ConversionView progress(long id, ProgressReport report) {
        Conversion c = holding(id, report.leaseToken());
        OffsetDateTime now = OffsetDateTime.now();
        if (report.step() != null) {
            if (!STEPS.contains(report.step())) throw invalid("step '" + report.step() + "' must be one of " + STEPS);
            c.step = report.step();
        }
        if (report.commit() != null) {
            if (!COMMIT.matcher(report.commit()).matches()) throw invalid("commit '" + report.commit() + "' must be 40 hex");
            c.resolvedCommit = report.commit();
            jdbc.sql("UPDATE model_version SET hub_commit = ? WHERE id = ? AND source_type = 'hub'")
                    .params(report.commit(), c.versionId).update();
        }
        if (report.goldenDigest() != null) {
            String hex = stripDigest(report.goldenDigest());
            requireBlob(hex, "goldenDigest");
            c.goldenDigest = hex;
        }
        if (report.variants() != null) {
            for (int i = 0; i < report.variants().size(); i++) {
                if (report.variants().get(i) == null) {
                    throw invalid("variants[" + i + "] is null; send one {specId, state, ...} object per variant");
                }
            }
            for (VariantReport r : report.variants()) update(c, r, now);
        }
        c.updatedAt = now;
        c.leaseExpiresAt = now.plus(leaseDuration); // progress is a heartbeat too
        conversions.save(c);
        return view(c);
    }

    private void update(Conversion c, VariantReport r, OffsetDateTime now) {
        ConversionVariant v = variants.findByConversionIdAndSpecId(c.id, r.specId())
                .orElseThrow(() -> invalid("conversion " + c.id + " has no planned variant '" + r.specId() + "'"));
        String state = r.state();
        if (ConversionVariant.BUILDING.equals(state)) {
            if (ConversionVariant.REGISTERED.equals(v.state)) {
                throw ApiProblem.conflict("variant-already-registered", "Variant already registered",
                        "variant " + v.specId + " of conversion " + c.id + " is registered as variant " + v.variantId
                                + "; it must not be built again");
            }
            // One build per lease: a repeated report of the same lease (a worker retrying after a lost answer)
            // must not count a second build.
            if (!(ConversionVariant.BUILDING.equals(v.state) && c.leaseToken.equals(v.buildLease))) v.builds++;
            v.state = state;
            v.buildLease = c.leaseToken;
            v.error = null;
        } else if (ConversionVariant.REGISTERED.equals(state)) {
            String hex = stripDigest(r.digest());
            if (r.variantId() == null) throw invalid("a registered variant report needs variantId");
            String registered = jdbc.sql("SELECT blob_digest FROM variant WHERE id = ? AND version_id = ?")
                    .params(r.variantId(), c.versionId).query(String.class).optional()
                    .orElseThrow(() -> invalid("variant " + r.variantId() + " does not belong to this conversion's version"));
            if (!registered.equals(hex)) {
                throw invalid("variant " + r.variantId() + " has digest sha256:" + registered + ", not sha256:" + hex);
            }
            v.state = state;
            v.digest = hex;
            v.size = r.size();
            v.variantId = r.variantId();
            v.error = null;
        } else if (ConversionVariant.FAILED.equals(state)) {
            v.state = state;
            v.error = r.error();
        } else {
            throw invalid("variant state '" + state + "' must be building, registered or failed");
        }
        v.updatedAt = now;
        variants.save(v);
    }

    /**
     * Every planned variant registered: publishes the version (which makes it resolvable). A repeat with the
     * token of the lease that completed it (a worker retrying after the answer was lost) gets the same answer.
     * The publish is audited as the worker's ({@code version.publish}, by {@link Models#publish} in this transaction); a
     * repeat is not.
     */
    @Transactional
    public ConversionView complete(long id, String token, Caller worker) {
        Conversion c = conversions.lock(id).orElseThrow(() -> notFound(id));
        if (endedBy(c, Conversion.SUCCEEDED, token)) return view(c);
        requireHolder(c, token);
        List<String> missing = variants.findByConversionIdOrderById(id).stream()
                .filter(v -> !ConversionVariant.REGISTERED.equals(v.state)).map(v -> v.specId).toList();
        if (!missing.isEmpty()) {
            throw ApiProblem.conflict("conversion-incomplete", "Conversion incomplete",
                    "conversion " + id + " still has unregistered variants " + missing);
        }
        VersionRef ref = versionRef(c.versionId);
        OffsetDateTime now = OffsetDateTime.now();
        c.state = Conversion.SUCCEEDED;
        c.step = "finish";
        // The token stays (it no longer leases anything: the state is not running) so a repeat is recognised.
        c.leaseExpiresAt = null;
        c.finishedAt = now;
        c.updatedAt = now;
        conversions.saveAndFlush(c); // before publishing: publish refuses versions with a live conversion
        // the worker stored the golden data in its golden step; Models.publish audits the publish as the worker's
        models.publish(ref.model(), ref.version(), null, worker, id);
        log.info("conversion {} succeeded: {} v{} published", id, ref.model(), ref.version());
        return view(c);
    }

    /** Fails the conversion for good; a repeat with the token of the lease that failed it gets the same answer. */
    @Transactional
    public ConversionView fail(long id, String token, String reason) {
        Models.requireReason(reason);
        Conversion c = conversions.lock(id).orElseThrow(() -> notFound(id));
        if (endedBy(c, Conversion.FAILED, token)) return view(c);
        requireHolder(c, token);
        fail(c, reason);
        c.leaseToken = token; // kept so that a repeat is recognised (the state is no longer running)
        conversions.save(c);
        return view(c);
    }

    /**
     * Hands the lease back: the conversion is queued again and the attempt it took is given back (a worker
     * shutting down, or one that could not reach the registry for a while), so the next worker leases it at
     * once instead of after the lease expires. Idempotent: a repeat with the same token, while the conversion
     * is still queued (or failed by this release), changes nothing and gets the same answer. Anything else than the
     * current or just released lease is refused.
     * Past {@code aneforge.conversions.free-releases} releases of one conversion a release keeps the attempt spent, so that a
     * conversion whose own build gets its worker stopped every time still runs out of attempts.
     * A release for {@code trouble} (not the conversion's own: the registry unreachable, the worker unable to run the
     * job, a lease answer it could not read) is counted per conversion and worker ({@code conversion_hand_back}, V14);
     * past {@code aneforge.conversions.max-hand-backs} the conversion fails instead, naming the count, the bound and
     * {@code reason}. A stopping worker's release is not for trouble and not counted.
     */
    /** How the failure a hand-back past the bound causes begins: it tells that failure from the holder's own. */
    private static String handBackFailurePrefix(Conversion c) {
        return "worker '" + c.leaseOwner + "' handed conversion " + c.id + " back ";
    }

    @Transactional
    public HandBack release(long id, String token, String reason, boolean trouble) {
        if (token == null || token.isBlank()) throw invalid("field 'leaseToken' is required");
        Conversion c = conversions.lock(id).orElseThrow(() -> notFound(id));
        if (endedBy(c, Conversion.QUEUED, token)) {
            return new HandBack(id, HandBack.RELEASED, handBacks(c), maxHandBacks, null);
        }
        // Only a failure this release caused (past the bound) is answered as its repeat; after the holder's own
        // /fail the lease is gone as before (409 lease-lost from requireHolder).
        if (endedBy(c, Conversion.FAILED, token) && c.error != null && c.error.startsWith(handBackFailurePrefix(c))) {
            return new HandBack(id, HandBack.FAILED, handBacks(c), maxHandBacks, c.error);
        }
        requireHolder(c, token);
        int n = handBacks(c);
        if (trouble) {
            n = jdbc.sql("""
                            INSERT INTO conversion_hand_back (conversion_id, worker, hand_backs) VALUES (?, ?, 1)
                            ON CONFLICT (conversion_id, worker) DO UPDATE SET hand_backs = conversion_hand_back.hand_backs + 1
                            RETURNING hand_backs""")
                    .params(c.id, c.leaseOwner).query(Integer.class).single();
            if (n > maxHandBacks) {
                String last = reason == null || reason.isBlank() ? "(no reason given)"
                        : reason.length() <= 4000 ? reason : reason.substring(0, 3997) + "...";
                String failure = handBackFailurePrefix(c) + n + " times, each"
                        + " time for a reason that is not the conversion's own (the registry unreachable, the worker unable"
                        + " to run the job, or a lease answer it could not read; each time the conversion went back to"
                        + " the queue, and aneforge.conversions.max-hand-backs allows " + maxHandBacks + "); the last: "
                        + last;
                fail(c, failure);
                c.leaseToken = token; // kept so that a repeat of this release is recognised (the state is failed)
                conversions.save(c);
                return new HandBack(id, HandBack.FAILED, n, maxHandBacks, failure);
            }
        }
        OffsetDateTime now = OffsetDateTime.now();
        c.state = Conversion.QUEUED;
        c.releases++;
        boolean free = c.releases <= freeReleases;
        if (free) c.attempts = Math.max(0, c.attempts - 1);
        // leaseToken stays as the released one (a queued conversion has no lease) so that a repeat is
        // recognised; the next grant replaces it. leaseOwner stays as the last worker, as after an expiry.
        c.leaseExpiresAt = null;
        c.updatedAt = now;
        conversions.save(c);
        String why = (reason == null || reason.isBlank() ? "" : " (" + reason + ")")
                + (trouble ? "; hand-back " + n + " of " + maxHandBacks + " for trouble by this worker" : "");
        if (free) {
            log.info("conversion {} released by '{}'{}: queued again, the attempt is not spent", id, c.leaseOwner, why);
        } else {
            log.warn("conversion {} released by '{}'{}: queued again; release {} is past the {} that give the attempt"
                    + " back, so attempt {} of {} is spent", id, c.leaseOwner, why, c.releases, freeReleases, c.attempts,
                    c.maxAttempts);
        }
        return new HandBack(id, HandBack.RELEASED, n, maxHandBacks, null);
    }

    /** The counted hand-backs of the conversion by its (last) lease owner. */
    private int handBacks(Conversion c) {
        if (c.leaseOwner == null) return 0;
        return jdbc.sql("SELECT hand_backs FROM conversion_hand_back WHERE conversion_id = ? AND worker = ?")
                .params(c.id, c.leaseOwner).query(Integer.class).optional().orElse(0);
    }

    /**
     * Releases the lease granted for {@code request} (the id a worker sent with its lease call) if {@code worker}
     * still holds it: the worker could not read the lease answer (a proxy's HTML page, JSON without the lease) or
     * lost it in transport (a reset, a timeout, a body cut short, a proxy's 5xx), so it knows no lease token, but
     * the lease would otherwise run out and spend an attempt. Only the conversion leased under this worker id for
     * this request is touched: another worker neither shares the id nor knows the (random) request id. Otherwise a
     * release like {@link #release}, counted for trouble: it counts against the free releases and this worker's
     * hand-backs. Nothing held for the request (already released, never granted, taken over, or not yet granted: a
     * lease call that reaches the registry late) is not an error: the answer says {@code none}, and the request is
     * remembered so that a grant for it later is refused ({@link ReleasedLeaseRequests}, V15).
     */
    @Transactional
    public ConversionViews.RequestRelease releaseRequest(UUID request, String worker, String reason) {
        requireWorker(worker);
        if (request == null) throw invalid("the lease request id is required");
        // Before the search: waits for a grant of this request under way, and holds later ones until this commits.
        releasedRequests.lockForRelease(Queue.CONVERSION, worker, request);
        Optional<Long> id = jdbc.sql("SELECT id FROM conversion WHERE state = 'running' AND lease_owner = ?"
                        + " AND lease_request = ? ORDER BY id LIMIT 1")
                .params(worker, request).query(Long.class).optional();
        ConversionViews.RequestRelease none = new ConversionViews.RequestRelease(request, null, false, HandBack.NONE, 0,
                maxHandBacks, null);
        if (id.isEmpty()) {
            releasedRequests.remember(Queue.CONVERSION, worker, request);
            return none;
        }
        Conversion c = conversions.lock(id.get()).orElseThrow(() -> notFound(id.get()));
        if (!Conversion.RUNNING.equals(c.state) || !worker.equals(c.leaseOwner) || !request.equals(c.leaseRequest)) {
            return none; // taken over meanwhile
        }
        HandBack h = release(c.id, c.leaseToken, reason == null || reason.isBlank()
                ? "the worker could not read the lease answer" : reason, true);
        return new ConversionViews.RequestRelease(request, c.id, HandBack.RELEASED.equals(h.outcome()), h.outcome(),
                h.handBacks(), h.maxHandBacks(), h.failure());
    }

    /** Whether {@code token}'s lease already ended the conversion in {@code state} (a repeated final call). */
    private static boolean endedBy(Conversion c, String state, String token) {
        return state.equals(c.state) && token != null && token.equals(c.leaseToken);
    }

    @Transactional
    public ConversionView cancel(long id, Caller caller) {
        Conversion c = conversions.lock(id).orElseThrow(() -> notFound(id));
        // The cancel path names no model: a scoped token cancels only its own models' conversions (403 forbidden-model).
        if (!caller.scope().all()) caller.requireWriteTo(versionRef(c.versionId).model());
        if (!c.live()) {
            throw ApiProblem.conflict("conversion-finished", "Conversion finished",
                    "conversion " + id + " is already " + c.state + "; only queued or running conversions can be cancelled");
        }
        fail(c, "cancelled by " + caller.name());
        c.state = Conversion.CANCELLED;
        conversions.save(c);
        return view(c);
    }

    /** Ends a conversion as failed: the version becomes failed and loses its (draft, never resolvable) variants. */
    private void fail(Conversion c, String reason) {
        OffsetDateTime now = OffsetDateTime.now();
        c.state = Conversion.FAILED;
        c.error = reason;
        c.leaseToken = null;
        c.leaseExpiresAt = null;
        c.finishedAt = now;
        c.updatedAt = now;
        conversions.save(c);
        conversions.flush();
        jdbc.sql("UPDATE conversion_variant SET variant_id = NULL, state = CASE WHEN state = 'registered' THEN 'pending'"
                + " ELSE state END, updated_at = now() WHERE conversion_id = ?").param(c.id).update();
        // The variants' agent jobs (and any results) go with them: registering a variant queues its jobs
        // (io.aneforge.registry.job), and their foreign keys would otherwise refuse the delete.
        String draftVariants = "SELECT va.id FROM variant va WHERE va.version_id = ? AND EXISTS (SELECT 1 FROM"
                + " model_version v WHERE v.id = ? AND v.status = 'draft')";
        jdbc.sql("DELETE FROM job_result WHERE job_id IN (SELECT j.id FROM job j WHERE j.variant_id IN (" + draftVariants
                + "))").params(c.versionId, c.versionId).update();
        jdbc.sql("DELETE FROM job WHERE variant_id IN (" + draftVariants + ")").params(c.versionId, c.versionId).update();
        jdbc.sql("DELETE FROM variant WHERE version_id = ? AND EXISTS (SELECT 1 FROM model_version v WHERE v.id = ?"
                + " AND v.status = 'draft')").params(c.versionId, c.versionId).update();
        jdbc.sql("UPDATE model_version SET status = 'failed' WHERE id = ? AND status = 'draft'").param(c.versionId).update();
        log.warn("conversion {} failed: {}", c.id, reason);
    }

    /** The conversion, locked, if {@code token} is its current lease. */
    private Conversion holding(long id, String token) {
        Conversion c = conversions.lock(id).orElseThrow(() -> notFound(id));
        requireHolder(c, token);
        return c;
    }

    /** Refuses a token that is not the conversion's current lease (409, naming what happened to the conversion). */
    private static void requireHolder(Conversion c, String token) {
        long id = c.id;
        if (Conversion.CANCELLED.equals(c.state)) {
            throw ApiProblem.conflict("conversion-cancelled", "Conversion cancelled",
                    "conversion " + id + " was cancelled: " + c.error + "; stop working on it");
        }
        if (!Conversion.RUNNING.equals(c.state) || token == null || !token.equals(c.leaseToken)) {
            throw ApiProblem.conflict("lease-lost", "Lease lost",
                    "this worker no longer holds the lease of conversion " + id + " (it is " + c.state
                            + (c.leaseOwner == null ? "" : ", last leased by '" + c.leaseOwner + "'") + "); stop working on it");
        }
    }

    private VersionRef versionRef(long versionId) {
        return jdbc.sql("SELECT v.id, v.model_id, m.name, v.version, v.status FROM model_version v JOIN model m ON m.id = v.model_id"
                        + " WHERE v.id = ?").param(versionId)
                .query((rs, i) -> new VersionRef(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getInt(4), rs.getString(5)))
                .single();
    }

    private void requireBlob(String hex, String field) {
        long n = jdbc.sql("SELECT count(*) FROM blob WHERE digest = ?").param(hex).query(Long.class).single();
        if (n == 0) {
            throw ApiProblem.unprocessable("blob-not-found", "Blob not found",
                    field + " sha256:" + hex + " has not been uploaded; PUT /api/v1/blobs/sha256:" + hex + " first");
        }
    }

    private static String stripDigest(String digest) {
        String hex = digest != null && digest.startsWith("sha256:") ? digest.substring(7) : digest;
        if (hex == null || !HEX64.matcher(hex).matches()) throw invalid("digest '" + digest + "' must look like sha256:<64 hex>");
        return hex;
    }

    private static void requireWorker(String worker) {
        if (worker == null || worker.isBlank() || worker.length() > 200) {
            throw invalid("field 'worker' (a stable worker id, at most 200 characters) is required");
        }
    }

    private static void requireOptions(int options) {
        if (options < 0) {
            throw invalid("field 'conversionOptions' must be 0 or more (what the worker acts on: "
                    + OPTIONS_HEAD_TOKEN_TYPES + " for head and tokenTypes; leave it out for none), got " + options);
        }
    }

    /**
     * The {@code conversionOptions} a worker declares when it acts on {@code head} and {@code tokenTypes}. A worker of
     * an older release sends none and would ignore both (building the checkpoint's head without {@code
     * token_type_ids}), so it is never given a conversion that sets them.
     */
    public static final int OPTIONS_HEAD_TOKEN_TYPES = 1;
    /**
     * The {@code conversionOptions} of a worker that also knows {@code head} {@value #PRE_TRAINING_HEAD} (V31): one that
     * declares only {@link #OPTIONS_HEAD_TOKEN_TYPES} would fail the conversion on the unknown head, so it is not given it.
     */
    public static final int OPTIONS_PRE_TRAINING = 2;
    static final String PRE_TRAINING_HEAD = "pre-training";

    ConversionView view(Conversion c) {
        VersionView version = versionView(c.versionId);
        List<VariantProgress> vs = variants.findByConversionIdOrderById(c.id).stream().map(Conversions::progress).toList();
        return new ConversionView(c.id, version.model(), version.version(), version.source(), c.state, c.step,
                Arrays.asList(c.chips.split(",")), c.recipe, c.seqLen, c.head, c.tokenTypes, c.attempts, c.maxAttempts, c.leaseOwner,
                c.leaseExpiresAt, c.resolvedCommit, c.goldenDigest == null ? null : "sha256:" + c.goldenDigest,
                versionGolden(c.versionId), c.error, c.createdAt, c.updatedAt, c.finishedAt, vs, waitingFor(c));
    }

    /** The golden pair stored on the version (null fields while none is set). */
    private VersionGolden versionGolden(long versionId) {
        return jdbc.sql("SELECT golden_inputs_digest, golden_digest, golden_format FROM model_version WHERE id = ?")
                .param(versionId)
                .query((rs, i) -> new VersionGolden(digest(rs.getString(1)), digest(rs.getString(2)),
                        rs.getObject(3, Integer.class)))
                .single();
    }

    private static String digest(String hex) {
        return hex == null ? null : "sha256:" + hex;
    }

    /** Only a queued conversion waits (one whose lease expired is leased at the next call of any fitting worker). */
    private String waitingFor(Conversion c) {
        if (!Conversion.QUEUED.equals(c.state)) return null;
        return ConverterWorkers.waitingFor(c.requiredOptions(), workers.running(), workers.window());
    }

    private VersionView versionView(long versionId) {
        VersionRef ref = versionRef(versionId);
        return models.version(ref.model(), ref.version());
    }

    private static VariantProgress progress(ConversionVariant v) {
        return new VariantProgress(v.specId, v.chip, v.deploymentTarget, v.layout, v.precision, v.seqLen, v.attentionChunk,
                v.state, v.builds, v.digest == null ? null : "sha256:" + v.digest, v.size, v.variantId, v.error,
                registration(v));
    }

    /** The variants API's names for a spec: iOS MAJOR.MINOR, and precision split into name, block size and mode. */
    static Registration registration(ConversionVariant v) {
        Target target = Target.valueOf(v.deploymentTarget);
        Precision p = Precision.parse(v.precision);
        return new Registration(v.chip, target.name().substring(3) + ".0", v.layout, p.family(),
                p.blockSize() == 0 ? null : p.blockSize(), p.registryQuantization(), v.seqLen);
    }

    private static ApiProblem notFound(long id) {
        return ApiProblem.notFound("conversion-not-found", "Conversion not found", "no conversion " + id);
    }

    private static ApiProblem noConversion(String model, int version) {
        return ApiProblem.notFound("conversion-not-found", "Conversion not found",
                "version " + version + " of '" + model + "' has no conversion (it was not published with chips and a recipe)");
    }

    private static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("invalid-report", "Invalid report", detail);
    }
}
