package io.chorus.model.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a .safetensors file (for tests and benchmarks that make Hugging Face folders): the header
 * JSON padded with spaces to a multiple of 8, then each tensor's bytes in the order added. Tensor
 * data is written straight into the mapped output file.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Fills {@code dst} (exactly the tensor's byte size) with the tensor's bytes. */
    @FunctionalInterface
    public interface Data {
        void fill(MemorySegment dst);
    }

    private record Tensor(String name, String dtype, long[] shape, long bytes, Data data) {}

    private final List<Tensor> tensors = new ArrayList<>();

    /** Adds a tensor with a torch shape (outermost first). */
    public SafetensorsWriter add(String name, String dtype, long[] shape, Data data) {
        int size = SafetensorsFile.dtypeBytes(dtype);
        if (size < 0) throw new IllegalArgumentException("unknown safetensors dtype " + dtype);
        long n = 1;
        for (long d : shape) n *= d;
        tensors.add(new Tensor(name, dtype, shape.clone(), n * size, data));
        return this;
    }

    public void write(Path out) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode n = header.putObject(t.name);
            n.put("dtype", t.dtype);
            var shape = n.putArray("shape");
            for (long d : t.shape) shape.add(d);
            n.putArray("data_offsets").add(offset).add(offset + t.bytes);
            offset += t.bytes;
        }
        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        long total = 8 + padded + offset;
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofConfined()) {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
            file.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, padded);
            MemorySegment.copy(MemorySegment.ofArray(json), 0, file, 8, json.length);
            file.asSlice(8 + json.length, padded - json.length).fill((byte) ' ');
            long at = 8 + padded;
            for (Tensor t : tensors) {
                t.data.fill(file.asSlice(at, t.bytes));
                at += t.bytes;
            }
            file.force();
        }
    }
}
