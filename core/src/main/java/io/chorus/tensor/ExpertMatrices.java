package io.chorus.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The experts of a 3-D expert tensor ({@code ffn_gate_exps} and friends, GGUF ne [cols, rows,
 * experts]) as one {@link WeightMatrix} each: expert e is the e-th run of rows x cols values, viewed
 * in place as a slice of the mapped segment (nothing is copied), so every weight type and kernel
 * that serves a dense matrix serves an expert.
 */
public final class ExpertMatrices {
    private ExpertMatrices() {}

    /**
     * One matrix per expert over {@code data}, which must hold exactly experts x rows x cols values
     * of the type.
     *
     * @throws IllegalArgumentException as {@link WeightMatrix#of} does, or when data's size is wrong
     */
    public static WeightMatrix[] of(String name, GgmlType type, MemorySegment data, int experts, int rows, int cols) {
        if (experts <= 0) throw new IllegalArgumentException("tensor " + name + " has " + experts + " experts");
        if (cols % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + " (" + type + ") has " + cols
                    + " columns, not a multiple of the block size " + type.blockSize);
        }
        long bytes = type.bytesFor((long) rows * cols);
        if (data.byteSize() != bytes * experts) {
            throw new IllegalArgumentException("tensor " + name + " (" + type + ", " + experts + " x " + rows + " x " + cols
                    + ") needs " + bytes * experts + " bytes, got " + data.byteSize());
        }
        WeightMatrix[] out = new WeightMatrix[experts];
        for (int e = 0; e < experts; e++) out[e] = WeightMatrix.of(name + "[" + e + "]", type, data.asSlice(e * bytes, bytes), rows, cols);
        return out;
    }
}
