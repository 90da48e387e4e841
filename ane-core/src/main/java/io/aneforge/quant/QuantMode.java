package io.aneforge.quant;

/**
 * How the real range maps onto the integer range (COREML_FORMAT.md §5).
 * <ul>
 *   <li>{@code SYMMETRIC}: {@code scale = max|w| / qmax}, restricted range {@code [-qmax, qmax]}
 *       (int8: ±127) and zero point 0; unsigned types use the mid zero point (uint8: 128,
 *       range [1, 255]) so that the grid is the same.</li>
 *   <li>{@code AFFINE}: {@code vmin = min(0, min w)}, {@code vmax = max(0, max w)},
 *       {@code scale = (vmax - vmin) / (qmax - qmin)},
 *       {@code zp = clip(rint((qmin·vmax - qmax·vmin) / (vmax - vmin)))}.</li>
 * </ul>
 */
public enum QuantMode {
    SYMMETRIC,
    AFFINE
}
