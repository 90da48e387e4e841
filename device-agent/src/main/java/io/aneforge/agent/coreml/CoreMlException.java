package io.aneforge.agent.coreml;

/** Core ML refused something at prediction time; the message names the feature and Core ML's reason. */
public class CoreMlException extends RuntimeException {

    public CoreMlException(String message) {
        super(message);
    }
}
