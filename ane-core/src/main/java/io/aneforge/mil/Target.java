package io.aneforge.mil;

/**
 * Deployment targets: Core ML specification version and MIL opset name, kept
 * together so {@code Model.specificationVersion} and {@code Function.opset} never
 * disagree.
 */
public enum Target {
    IOS15(6, "CoreML5", "iOS 15 / macOS 12"),
    IOS16(7, "CoreML6", "iOS 16 / macOS 13"),
    IOS17(8, "CoreML7", "iOS 17 / macOS 14"),
    IOS18(9, "CoreML8", "iOS 18 / macOS 15"),
    IOS26(10, "CoreML9", "iOS 26 / macOS 26");

    private final int specificationVersion;
    private final String opset;
    private final String os;

    Target(int specificationVersion, String opset, String os) {
        this.specificationVersion = specificationVersion;
        this.opset = opset;
        this.os = os;
    }

    public int specificationVersion() {
        return specificationVersion;
    }

    public String opset() {
        return opset;
    }

    public String os() {
        return os;
    }

    /** The iOS major version this target needs: 15 for {@link #IOS15}, 26 for {@link #IOS26} (macOS 15 is iOS 18). */
    public int iosMajor() {
        return Integer.parseInt(name().substring("IOS".length()));
    }

    public boolean atLeast(Target other) {
        return compareTo(other) >= 0;
    }

    public static Target fromOpset(String opset) {
        for (Target t : values()) {
            if (t.opset.equals(opset)) {
                return t;
            }
        }
        throw new MilException("unknown opset '" + opset + "' (supported: CoreML5..CoreML9)");
    }

    public static Target fromSpecificationVersion(int version) {
        for (Target t : values()) {
            if (t.specificationVersion == version) {
                return t;
            }
        }
        throw new MilException("unsupported Core ML specification version " + version + " (supported: 6..10)");
    }
}
