package io.aneforge.chips;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OS release such as {@code 18.2}. Deployment targets and device OS versions are compared in iOS
 * numbering: macOS releases map to the iOS release shipped the same year (macOS 14 = iOS 17,
 * macOS 15 = iOS 18, macOS 26 = iOS 26), the same pairing Core ML uses for its deployment targets.
 */
public record OsVersion(int major, int minor, int patch) implements Comparable<OsVersion> {

    private static final Pattern FORM = Pattern.compile("(\\d{1,3})(?:\\.(\\d{1,3}))?(?:\\.(\\d{1,3}))?");

    public OsVersion {
        if (major < 0 || minor < 0 || patch < 0) throw new IllegalArgumentException("OS version parts must be >= 0");
    }

    /** Parses {@code 18}, {@code 18.2} or {@code 18.2.1}; rejects anything else with a message naming the input. */
    public static OsVersion parse(String text) {
        Matcher m = text == null ? null : FORM.matcher(text.trim());
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("OS version '" + text + "' is not of the form MAJOR[.MINOR[.PATCH]] (e.g. 18.2)");
        }
        return new OsVersion(Integer.parseInt(m.group(1)),
                m.group(2) == null ? 0 : Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3)));
    }

    /** The same release in iOS numbering (identity for iOS and iPadOS). */
    public OsVersion toIosNumbering(Platform platform) {
        if (platform != Platform.MACOS || major >= 26) return this;
        // macOS 11 (Big Sur) shipped with iOS 14; the offset held until both jumped to 26.
        return new OsVersion(major + 3, minor, patch);
    }

    @Override
    public int compareTo(OsVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) c = Integer.compare(minor, o.minor);
        if (c == 0) c = Integer.compare(patch, o.patch);
        return c;
    }

    @Override
    public String toString() {
        return patch == 0 ? major + "." + minor : major + "." + minor + "." + patch;
    }
}
