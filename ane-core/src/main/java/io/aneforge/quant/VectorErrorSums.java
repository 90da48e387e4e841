package io.aneforge.quant;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link QuantReport#chains} in the lanes of one 4-double vector per sum: lane c is chain c, and
 * each lane does the scalar chain's operations in its order (a double multiply, then an add, no
 * fused multiply-add), so the sums are bit-identical ({@code QuantReportTest}). Reached only when
 * {@link io.aneforge.vector.VectorPath#enabled()} (this class names incubator types).
 */
final class VectorErrorSums {
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Double> D4 = DoubleVector.SPECIES_256;

    private VectorErrorSums() {
    }

    static double[] chains(float[] source, float[] approx) {
        DoubleVector s = DoubleVector.zero(D4);
        DoubleVector n = DoubleVector.zero(D4);
        DoubleVector m = DoubleVector.zero(D4);
        int i = 0;
        for (; i + 4 <= source.length; i += 4) {
            DoubleVector w = (DoubleVector) FloatVector.fromArray(F4, source, i).convertShape(VectorOperators.F2D, D4, 0);
            DoubleVector a = (DoubleVector) FloatVector.fromArray(F4, approx, i).convertShape(VectorOperators.F2D, D4, 0);
            DoubleVector e = w.sub(a);
            s = s.add(w.mul(w));
            n = n.add(e.mul(e));
            m = m.max(e.abs());
        }
        double[] chains = new double[12];
        s.intoArray(chains, 0);
        n.intoArray(chains, 4);
        m.intoArray(chains, 8);
        return QuantReport.tail(source, approx, i, chains);
    }
}
