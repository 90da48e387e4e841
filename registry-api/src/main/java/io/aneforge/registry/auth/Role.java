package io.aneforge.registry.auth;

import java.util.Locale;

/** API token roles. {@link #ADMIN} may call every endpoint. */
public enum Role {
    READER, PUBLISHER, QA, WORKER, AGENT, ADMIN;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Role fromWire(String s) {
        for (Role r : values()) if (r.wireName().equals(s)) return r;
        return null;
    }
}
