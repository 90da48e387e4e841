package io.aneforge.registry.resolve;

import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.problem.ApiProblem;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
class ResolveController {

    /** The query parameters resolve reads, in the order the refusal lists them. */
    static final List<String> PARAMETERS = List.of("device", "chip", "os", "alias", "version", "precision", "layout", "signed");
    /** The parameters of answers the fast path may serve: a signed answer is minted per request, here. */
    static final List<String> CACHEABLE_PARAMETERS = PARAMETERS.subList(0, PARAMETERS.size() - 1);
    private static final Set<String> KNOWN = Set.copyOf(PARAMETERS);

    private final Resolver resolver;

    ResolveController(Resolver resolver) {
        this.resolver = resolver;
    }

    /** Which variant to download; {@code If-None-Match} with the last ETag costs a 304. */
    @GetMapping("/api/v1/models/{name}/resolve")
    @Allowed(anyRole = true)
    ResponseEntity<byte[]> resolve(@PathVariable String name,
                                   @RequestParam(required = false) String device,
                                   @RequestParam(required = false) String chip,
                                   @RequestParam(required = false) String os,
                                   @RequestParam(required = false) String alias,
                                   @RequestParam(required = false) Integer version,
                                   @RequestParam(required = false) String precision,
                                   @RequestParam(required = false) String layout,
                                   @RequestParam(required = false) String signed,
                                   @RequestHeader(value = HttpHeaders.IF_NONE_MATCH, required = false) String ifNoneMatch,
                                   HttpServletRequest request) {
        refuseUnknownParameters(request);
        boolean sign = signed(signed);
        Resolver.Answer a = resolver.resolve(name, alias, version, device, chip, os, precision, layout);
        if (sign) {
            // The answer carries a credential (the signed URL) that changes with every call: no cache may keep it.
            return ResponseEntity.ok().cacheControl(CacheControl.noStore()).contentType(MediaType.APPLICATION_JSON)
                    .body(resolver.withDownloadUrl(a, Instant.now()));
        }
        // no-cache: clients may keep the answer but must revalidate, since an alias can move.
        if (ifNoneMatch != null && (ifNoneMatch.contains(a.etag()) || ifNoneMatch.trim().equals("*"))) {
            return ResponseEntity.status(HttpStatus.NOT_MODIFIED).eTag(a.etag()).cacheControl(CacheControl.noCache()).build();
        }
        return ResponseEntity.ok().eTag(a.etag()).cacheControl(CacheControl.noCache())
                .contentType(MediaType.APPLICATION_JSON).body(a.json());
    }

    private static boolean signed(String value) {
        if (value == null || value.equalsIgnoreCase("false")) return false;
        if (value.equalsIgnoreCase("true")) return true;
        throw ApiProblem.badRequest("invalid-parameter", "Invalid parameter",
                        "signed '" + value + "' must be true (add a signed, expiring downloadUrl) or false")
                .with("parameter", "signed").with("allowed", List.of("true", "false"));
    }

    /**
     * A misspelt pin ({@code verison=2}, or Hugging Face's {@code revision=}) must not silently resolve the
     * default alias: an app build would then ship whatever {@code production} points at with a 200.
     */
    private static void refuseUnknownParameters(HttpServletRequest request) {
        for (String name : request.getParameterMap().keySet()) {
            if (!KNOWN.contains(name)) {
                throw ApiProblem.badRequest("invalid-parameter", "Invalid parameter",
                                "unknown query parameter '" + name + "'; resolve takes device|chip, os, alias|version, "
                                        + "precision, layout, signed (pin a version with version=N, an alias with alias=NAME)")
                        .with("parameter", name).with("allowed", PARAMETERS);
            }
        }
    }
}
