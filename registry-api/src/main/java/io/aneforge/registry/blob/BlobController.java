package io.aneforge.registry.blob;

import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.storage.BlobStorage;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RestController;

/** {@code PUT/GET/HEAD /api/v1/blobs/sha256:<hex>}. */
@RestController
@RequestMapping("/api/v1/blobs")
class BlobController {

    /**
     * {@code private}, not {@code public}: downloads need a bearer token, and {@code public} is exactly what lets a
     * shared cache (CDN, proxy, ingress) store an answer to a request with {@code Authorization} and serve it to
     * anyone who knows the digest (RFC 9111 §3.5). The client's own cache still keeps the bytes for a year.
     */
    static final String IMMUTABLE = "private, max-age=31536000, immutable";
    static final String NOSNIFF_HEADER = "X-Content-Type-Options";

    private final Blobs blobs;
    private final BlobStorage storage;

    BlobController(Blobs blobs, BlobStorage storage) {
        this.blobs = blobs;
        this.storage = storage;
    }

    @RequestMapping(path = "/sha256:{hex}", method = RequestMethod.PUT)
    @Allowed({Role.PUBLISHER, Role.WORKER})
    ResponseEntity<Map<String, Object>> put(@PathVariable String hex, HttpServletRequest request) throws IOException {
        // The body is the blob whatever the Content-Type says (no form parsing reaches it: see application.yml).
        Blobs.PutResult r = blobs.put(hex, request.getInputStream(), request.getContentLengthLong(),
                Blob.servedType(request.getContentType()), Caller.of(request));
        Map<String, Object> body = Map.of("digest", r.blob().digest(), "size", r.blob().size(), "mediaType",
                Blob.servedType(r.blob().mediaType()));
        return ResponseEntity.status(r.created() ? HttpStatus.CREATED : HttpStatus.OK)
                .header(HttpHeaders.LOCATION, "/api/v1/blobs/" + r.blob().digest())
                .eTag(r.blob().digest())
                .body(body);
    }

    /**
     * The bytes in the type they were uploaded with, whatever the client accepts (not JSON: see JsonByDefault). With a
     * bearer token, or through a signed download URL for this blob ({@code DownloadSigner}), ranges included.
     */
    @RequestMapping(path = "/sha256:{hex}", method = {RequestMethod.GET, RequestMethod.HEAD}, produces = MediaType.ALL_VALUE)
    @Allowed(anyRole = true, signedUrl = true)
    void get(@PathVariable String hex, HttpServletRequest request, HttpServletResponse response) throws IOException {
        Blobs.requireHex(hex);
        Blob blob = blobs.find(hex).orElseThrow(() -> ApiProblem.notFound("blob-not-found", "Blob not found",
                "no verified blob sha256:" + hex + "; upload it with PUT /api/v1/blobs/sha256:" + hex));
        String etag = "\"" + blob.digest() + "\"";
        // Browsers must not guess a type from the bytes (an uploaded page would run on the registry's origin).
        response.setHeader(NOSNIFF_HEADER, "nosniff");
        response.setHeader(HttpHeaders.ACCEPT_RANGES, "bytes");
        String inm = request.getHeader(HttpHeaders.IF_NONE_MATCH);
        if (inm != null && (inm.contains(etag) || inm.trim().equals("*"))) {
            cacheable(response, etag);
            response.setStatus(HttpStatus.NOT_MODIFIED.value());
            return;
        }
        ByteRange range;
        try {
            String ifRange = request.getHeader(HttpHeaders.IF_RANGE);
            range = ifRange != null && !ifRange.equals(etag) ? null : ByteRange.parse(request.getHeader(HttpHeaders.RANGE), blob.size());
        } catch (ByteRange.Unsatisfiable e) {
            // No validators or long caching on the refusal: a cache must not keep an error for a year.
            response.setHeader(HttpHeaders.CONTENT_RANGE, "bytes */" + blob.size());
            throw new ApiProblem(HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "range-not-satisfiable",
                    "Range not satisfiable", e.getMessage());
        }
        cacheable(response, etag);
        // Rows stored before uploads were checked may carry any type the uploader sent.
        response.setContentType(Blob.servedType(blob.mediaType()));
        long offset = 0, length = blob.size();
        if (range != null) {
            offset = range.start();
            length = range.length();
            response.setStatus(HttpStatus.PARTIAL_CONTENT.value());
            response.setHeader(HttpHeaders.CONTENT_RANGE, "bytes " + range.start() + "-" + range.endInclusive() + "/" + blob.size());
        }
        response.setContentLengthLong(length);
        if ("HEAD".equals(request.getMethod()) || length == 0) return;
        try (InputStream in = storage.open(blob.storageKey(), offset, range == null ? -1 : length)) {
            OutputStream out = response.getOutputStream();
            in.transferTo(out);
        }
    }

    /** The validator and year-long caching, only on answers that carry the blob (200, 206) or confirm it (304). */
    private static void cacheable(HttpServletResponse response, String etag) {
        response.setHeader(HttpHeaders.ETAG, etag);
        response.setHeader(HttpHeaders.CACHE_CONTROL, IMMUTABLE);
    }
}
