package io.aneforge.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/** A tokenizer.json cannot be used: names the file and what is unsupported or broken. */
public class TokenizerException extends IOException {
    public TokenizerException(Path file, String message) {
        super(file + ": " + message);
    }
}
