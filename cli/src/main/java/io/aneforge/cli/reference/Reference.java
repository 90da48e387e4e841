package io.aneforge.cli.reference;

import java.util.Arrays;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** The outputs {@code eval --reference} and {@code convert --reference} compare a package with; {@link #id()} is the option value and the JSON value. */
public enum Reference {
    /** The unconverted FP32 graph the converter builds from the source (standard layout, FP32 weights). */
    FP32_GRAPH("fp32-graph"),
    /** The source's ONNX file ({@code onnx/model.onnx}) run by ONNX Runtime. */
    ONNXRUNTIME("onnxruntime");

    private final String id;

    Reference(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    @Override
    public String toString() {
        return id; // picocli's ${DEFAULT-VALUE} and ${COMPLETION-CANDIDATES}
    }

    /** Parses {@code --reference}; an unknown value names the known ones. */
    public static final class Converter implements ITypeConverter<Reference> {
        @Override
        public Reference convert(String value) {
            for (Reference r : values()) {
                if (r.id.equals(value)) {
                    return r;
                }
            }
            throw new TypeConversionException("unknown reference '" + value + "': use one of "
                    + Arrays.stream(values()).map(Reference::id).collect(Collectors.joining(", ")));
        }
    }
}
