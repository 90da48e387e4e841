package io.aneforge.cli.registry;

import io.aneforge.cli.CommandFailure;
import tools.jackson.databind.JsonNode;

/** A non-2xx answer of the registry: {@code HTTP 404 model-not-found: <detail>}. */
public class RegistryException extends CommandFailure {

    private final int status;
    private final String slug;

    RegistryException(int status, String slug, String message) {
        super(message);
        this.status = status;
        this.slug = slug;
    }

    public int status() {
        return status;
    }

    /** The problem type's last path segment ({@code model-not-found}), or null when the body was no problem+json. */
    public String slug() {
        return slug;
    }

    static RegistryException of(int status, String body, String what) {
        String slug = null;
        String detail = null;
        try {
            JsonNode p = RegistryClient.mapper().readTree(body == null ? "" : body);
            if (p != null && p.isObject()) {
                String type = p.path("type").asString("");
                slug = type.isEmpty() ? null : type.substring(type.lastIndexOf('/') + 1);
                detail = p.path("detail").asString(null);
                if (detail == null) {
                    detail = p.path("title").asString(null);
                }
            }
        } catch (RuntimeException e) {
            // Not problem+json (a proxy's HTML page, an empty body): fall back to the status line below.
        }
        if (status == 401 && detail == null) {
            detail = "the token was refused: check ANEFORGE_TOKEN";
        } else if (detail == null && status >= 500) {
            detail = "retry, or check the registry and any proxy in front of it";
        } else if (detail == null) {
            detail = "no problem detail in the answer: check that " + RegistryClient.URL_ENV + " points at the registry";
        }
        String text = "registry answered HTTP " + status + (slug != null ? " " + slug : "") + " to " + what
                + (detail != null ? ": " + detail : "");
        return new RegistryException(status, slug, text);
    }
}
