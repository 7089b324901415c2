package io.chorus.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Byte-lane helpers for unpacking quantized weights. AVX-512 has no byte-lane shift, and the
 * Vector API's emulation of one is slow, so shifts run in 16-bit lanes and the bits that crossed a
 * byte boundary are masked off.
 */
final class Bytes {
    private Bytes() {}

    /** Unsigned v >>> n per byte (0 < n < 8). */
    static ByteVector shr(ByteVector v, int n) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, n).reinterpretAsBytes().and((byte) (0xFF >>> n));
    }

    /** v << n per byte (0 < n < 8), dropping bits shifted out of each byte. */
    static ByteVector shl(ByteVector v, int n) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHL, n).reinterpretAsBytes().and((byte) (0xFF << n));
    }

    /** The 16 signed bytes of a 128-bit vector as 16 floats. */
    static FloatVector toFloats(ByteVector v) {
        return (FloatVector) v.convertShape(VectorOperators.B2F, FloatTiles.F, 0);
    }
}
