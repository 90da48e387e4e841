package io.aneforge.onnx;

import java.io.IOException;
import java.nio.file.Path;

/** An ONNX file cannot be imported: names the file, the initializer or node, and the rule. */
public class OnnxFormatException extends IOException {
    public OnnxFormatException(Path file, String message) {
        super(file + ": " + message);
    }
}
