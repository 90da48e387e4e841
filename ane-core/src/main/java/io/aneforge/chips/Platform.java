package io.aneforge.chips;

/** The operating system a device runs; deployment targets are expressed in iOS numbering. */
public enum Platform {
    IOS, IPADOS, MACOS;

    static Platform parse(String s) {
        switch (s) {
            case "iOS": return IOS;
            case "iPadOS": return IPADOS;
            case "macOS": return MACOS;
            default: throw new IllegalArgumentException("unknown platform '" + s + "' (expected iOS, iPadOS or macOS)");
        }
    }
}
