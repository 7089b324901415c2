package io.chorus.model.gguf;

import io.chorus.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3 files (synthetic models for tests, benchmarks and the demo). Metadata is given with
 * its GGUF type; tensor data is produced by a {@link TensorData} callback that fills the tensor's
 * slice of the memory-mapped output, so a model of any size is written without holding it on the heap.
 * The file appears atomically (written to a temporary name, then moved).
 */
public final class GgufWriter {

    /** Fills {@code dst} (exactly the tensor's byte size) with the tensor's data. */
    @FunctionalInterface
    public interface TensorData {
        void fill(MemorySegment dst);
    }

    private record Value(GgufValueType type, GgufValueType elemType, Object value) {}

    private record Tensor(String name, GgmlType type, long[] dims, TensorData data, long size) {}

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    public GgufWriter putString(String key, String v) { return put(key, GgufValueType.STRING, null, v); }
    public GgufWriter putUInt32(String key, int v) { return put(key, GgufValueType.UINT32, null, v); }
    public GgufWriter putInt32(String key, int v) { return put(key, GgufValueType.INT32, null, v); }
    public GgufWriter putUInt64(String key, long v) { return put(key, GgufValueType.UINT64, null, v); }
    public GgufWriter putFloat32(String key, float v) { return put(key, GgufValueType.FLOAT32, null, v); }
    public GgufWriter putBool(String key, boolean v) { return put(key, GgufValueType.BOOL, null, v); }
    public GgufWriter putStrings(String key, String[] v) { return put(key, GgufValueType.ARRAY, GgufValueType.STRING, v); }
    public GgufWriter putFloats(String key, float[] v) { return put(key, GgufValueType.ARRAY, GgufValueType.FLOAT32, v); }
    public GgufWriter putInts(String key, int[] v) { return put(key, GgufValueType.ARRAY, GgufValueType.INT32, v); }

    public GgufWriter alignment(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) throw new IllegalArgumentException("alignment must be a power of two");
        this.alignment = alignment;
        return putUInt32("general.alignment", alignment);
    }

    private GgufWriter put(String key, GgufValueType type, GgufValueType elem, Object v) {
        metadata.put(key, new Value(type, elem, v));
        return this;
    }

    /** Adds a tensor with GGML dims (dims[0] innermost). */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, TensorData data) {
        long elements = 1;
        for (long d : dims) elements *= d;
        if (dims[0] % type.blockSize != 0) throw new IllegalArgumentException(name + ": row of " + dims[0] + " is not a multiple of " + type.blockSize);
        tensors.add(new Tensor(name, type, dims.clone(), data, type.bytesFor(elements)));
        return this;
    }

    public void write(Path out) throws IOException {
        ByteBuffer header = buildHeader();
        long dataStart = GgufFile.alignUp(header.limit(), alignment);
        long total = dataStart;
        long[] offsets = new long[tensors.size()];
        long off = 0;
        long end = 0;
        for (int i = 0; i < tensors.size(); i++) {
            offsets[i] = off;
            end = off + tensors.get(i).size;
            off = GgufFile.alignUp(end, alignment);
        }
        total += end; // no padding after the last tensor
        if (tensors.isEmpty()) total = header.limit();
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofConfined()) {
            while (header.hasRemaining()) ch.write(header);
            if (total > header.limit()) {
                ch.truncate(total);
                ch.write(ByteBuffer.wrap(new byte[1]), total - 1); // extend the file to its full size
                MemorySegment map = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
                for (int i = 0; i < tensors.size(); i++) {
                    Tensor t = tensors.get(i);
                    t.data.fill(map.asSlice(dataStart + offsets[i], t.size));
                }
                map.force();
            }
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private ByteBuffer buildHeader() {
        Buf b = new Buf();
        b.i32(GgufFile.MAGIC);
        b.i32(3);
        b.i64(tensors.size());
        b.i64(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            b.str(e.getKey());
            Value v = e.getValue();
            b.i32(v.type.id);
            if (v.type == GgufValueType.ARRAY) {
                b.i32(v.elemType.id);
                switch (v.elemType) {
                    case STRING -> { String[] a = (String[]) v.value; b.i64(a.length); for (String s : a) b.str(s); }
                    case FLOAT32 -> { float[] a = (float[]) v.value; b.i64(a.length); for (float f : a) b.f32(f); }
                    case INT32 -> { int[] a = (int[]) v.value; b.i64(a.length); for (int x : a) b.i32(x); }
                    default -> throw new IllegalStateException(v.elemType.name());
                }
            } else {
                switch (v.type) {
                    case STRING -> b.str((String) v.value);
                    case UINT32, INT32 -> b.i32((Integer) v.value);
                    case UINT64 -> b.i64((Long) v.value);
                    case FLOAT32 -> b.f32((Float) v.value);
                    case BOOL -> b.u8((Boolean) v.value ? 1 : 0);
                    default -> throw new IllegalStateException(v.type.name());
                }
            }
        }
        long off = 0;
        for (Tensor t : tensors) {
            b.str(t.name);
            b.i32(t.dims.length);
            for (long d : t.dims) b.i64(d);
            b.i32(t.type.id);
            b.i64(off);
            off = GgufFile.alignUp(off + t.size, alignment);
        }
        ByteBuffer out = b.buf.flip();
        return out;
    }

    /** Growable little-endian byte buffer for the header. */
    private static final class Buf {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        void ensure(int n) {
            if (buf.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        void u8(int v) { ensure(1); buf.put((byte) v); }
        void i32(int v) { ensure(4); buf.putInt(v); }
        void i64(long v) { ensure(8); buf.putLong(v); }
        void f32(float v) { ensure(4); buf.putFloat(v); }

        void str(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            i64(bytes.length);
            ensure(bytes.length);
            buf.put(bytes);
        }
    }
}
