package io.chorus.model.checkpoint;

import io.chorus.tensor.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * One stored tensor as a checkpoint hands it out: its element type, its shape and its bytes, read in
 * place (a slice of the mapped file). {@code dims[0]} is the innermost dimension, as in GGML: a
 * weight matrix with {@code rows} outputs and {@code cols} inputs has dims {cols, rows} whatever
 * the file's own convention. {@code type} is null for element types Chorus has no name for;
 * {@code typeName} always says what the file holds.
 */
public record TensorData(String name, GgmlType type, String typeName, long[] dims, MemorySegment data) {

    public long elements() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    /** The dims as text, innermost first ({@code [cols, rows]}). */
    public String shape() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) sb.append(i > 0 ? ", " : "").append(dims[i]);
        return sb.append(']').toString();
    }

    /** True for a matrix of {@code rows} x {@code cols} (dims {cols, rows}). */
    public boolean isMatrix(long rows, long cols) {
        return dims.length == 2 && dims[0] == cols && dims[1] == rows;
    }
}
