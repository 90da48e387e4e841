package io.aneforge.quant;

/**
 * What calibration saw at the input of each weight, by the weight's name: GPTQ's statistics
 * ({@link QuantSpec.ScaleFit#GPTQ}) and W8A8's activation ranges. Measured by {@code io.aneforge.convert.Calibration}.
 */
public interface CalibrationInputs {
    /** The statistics of the inputs {@code weightName} multiplies, or null when no calibration input reached it. */
    InputGram of(String weightName);

    /**
     * The range of the inputs {@code weightName} multiplies (W8A8's activation scales), or null when no
     * calibration input reached it.
     */
    ActivationRange range(String weightName);

    /**
     * A digest of every statistic, bit for bit: GPTQ variants carry it in their metadata, so two builds whose
     * bytes differ show whether their statistics did.
     */
    String fingerprint();
}
