package io.chorus.model.gguf;

import io.chorus.tensor.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * One tensor of a GGUF file. {@code dims[0]} is the innermost (fastest varying) dimension, as in
 * GGML: a weight matrix with {@code rows} outputs and {@code cols} inputs has dims {cols, rows}.
 * {@code type} is null when the file uses a type id unknown to Chorus ({@code typeId} keeps it).
 */
public record GgufTensorInfo(String name, long[] dims, int typeId, GgmlType type, long offset, long byteSize,
                             MemorySegment data) {

    public long elements() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    public String typeName() {
        return type != null ? type.name() : "unknown type id " + typeId;
    }

    public String shape() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) sb.append(i > 0 ? ", " : "").append(dims[i]);
        return sb.append(']').toString();
    }
}
