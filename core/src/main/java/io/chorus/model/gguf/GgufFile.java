package io.chorus.model.gguf;

import io.chorus.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A GGUF v2/v3 file, memory-mapped with FFM and read in place: tensor data is never copied onto the
 * heap, and files of any size (over 2 GB) work. Every count, length, offset and size in the header
 * is checked against the file before it is used, so a corrupt or truncated file gives a
 * {@link GgufException} naming the file and the problem, never an OOM or an index exception.
 *
 * <p>Metadata values are kept as Java values: integers of up to 32 bits as {@code Integer} (uint32
 * keeps its bits), 64-bit integers as {@code Long}, {@code Float}, {@code Double}, {@code Boolean},
 * {@code String}; arrays as {@code int[]}, {@code long[]}, {@code float[]}, {@code double[]},
 * {@code boolean[]}, {@code String[]} or {@code Object[]} (nested arrays).
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final int alignment;
    private final long dataOffset;
    private final Map<String, Object> metadata;
    private final Map<String, GgufValueType> metadataTypes;
    private final Map<String, GgufTensorInfo> tensors;

    private GgufFile(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        Cursor c = new Cursor();
        if (file.byteSize() < 24) fail("file is " + file.byteSize() + " bytes, too short for a GGUF header");
        int magic = c.i32("magic");
        if (magic != MAGIC) {
            fail(String.format("not a GGUF file (magic 0x%08x, expected 0x%08x \"GGUF\")", magic, MAGIC));
        }
        version = c.i32("version");
        if (version == 1) fail("GGUF version 1 is not supported (only v2 and v3); re-convert the model");
        if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
            fail("big-endian GGUF files are not supported");
        }
        if (version != 2 && version != 3) fail("unsupported GGUF version " + version + " (supported: 2, 3)");
        long tensorCount = c.i64("tensor count");
        long kvCount = c.i64("metadata count");
        // Every metadata entry takes at least 12 bytes and every tensor info 28: counts larger than the
        // file can hold are corruption, caught here before any allocation.
        if (kvCount < 0 || kvCount > c.remaining() / 12) fail("metadata count " + kvCount + " is impossible for a file of " + file.byteSize() + " bytes");
        if (tensorCount < 0 || tensorCount > c.remaining() / 28) fail("tensor count " + tensorCount + " is impossible for a file of " + file.byteSize() + " bytes");

        Map<String, Object> meta = new LinkedHashMap<>();
        Map<String, GgufValueType> types = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = c.string("metadata key #" + i);
            int typeId = c.i32("type of metadata " + key);
            GgufValueType type = GgufValueType.fromId(typeId);
            if (type == null) fail("metadata " + key + " has unknown value type " + typeId);
            if (meta.containsKey(key)) fail("metadata key " + key + " appears twice");
            meta.put(key, c.value(type, key, 0));
            types.put(key, type);
        }
        metadata = Collections.unmodifiableMap(meta);
        metadataTypes = Collections.unmodifiableMap(types);

        Object alignValue = meta.get("general.alignment");
        int align = DEFAULT_ALIGNMENT;
        if (alignValue != null) {
            if (!(alignValue instanceof Integer a) || a <= 0 || Integer.bitCount(a) != 1) {
                fail("general.alignment must be a power of two, got " + alignValue);
            }
            align = (Integer) alignValue;
        }
        alignment = align;

        record Pending(String name, long[] dims, int typeId, GgmlType type, long offset, long size) {}
        Pending[] pending = new Pending[(int) tensorCount];
        for (int i = 0; i < tensorCount; i++) {
            String name = c.string("name of tensor #" + i);
            int nDims = c.i32("dimension count of tensor " + name);
            if (nDims < 1 || nDims > MAX_DIMS) fail("tensor " + name + " has " + nDims + " dimensions (1.." + MAX_DIMS + " allowed)");
            long[] dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = c.i64("dimension " + d + " of tensor " + name);
                if (dims[d] <= 0) fail("tensor " + name + " has dimension " + d + " = " + dims[d]);
                try {
                    elements = Math.multiplyExact(elements, dims[d]);
                } catch (ArithmeticException e) {
                    fail("tensor " + name + " has an element count that overflows");
                }
            }
            int typeId = c.i32("type of tensor " + name);
            GgmlType type = GgmlType.fromId(typeId);
            if (type == null) fail("tensor " + name + " has unknown tensor type id " + typeId);
            if (dims[0] % type.blockSize != 0) {
                fail("tensor " + name + " of type " + type + " has a row of " + dims[0]
                        + " values, not a multiple of its block size " + type.blockSize);
            }
            long offset = c.i64("data offset of tensor " + name);
            long size;
            try {
                size = Math.multiplyExact(elements / type.blockSize, (long) type.typeSize);
            } catch (ArithmeticException e) {
                throw new GgufException(path + ": tensor " + name + " has a byte size that overflows");
            }
            pending[i] = new Pending(name, dims, typeId, type, offset, size);
        }
        dataOffset = alignUp(c.pos, alignment);
        if (tensorCount > 0 && dataOffset > file.byteSize()) fail("tensor data would start at " + dataOffset + ", past the end of the file (" + file.byteSize() + " bytes): file is truncated");
        long dataSize = file.byteSize() - Math.min(dataOffset, file.byteSize());

        Map<String, GgufTensorInfo> infos = new LinkedHashMap<>();
        for (Pending p : pending) {
            if (p.offset < 0 || p.offset % alignment != 0) fail("tensor " + p.name + " has data offset " + p.offset + ", not a multiple of the alignment " + alignment);
            if (p.offset > dataSize || p.size > dataSize - p.offset) {
                fail("tensor " + p.name + " (" + p.type + ", " + p.size + " bytes at data offset " + p.offset
                        + ") extends past the end of the file: file is truncated or corrupt (data section is " + dataSize + " bytes)");
            }
            if (infos.containsKey(p.name)) fail("tensor " + p.name + " appears twice");
            MemorySegment slice = file.asSlice(dataOffset + p.offset, p.size);
            infos.put(p.name, new GgufTensorInfo(p.name, p.dims, p.typeId, p.type, p.offset, p.size, slice));
        }
        tensors = Collections.unmodifiableMap(infos);
    }

    /** Maps and parses the file. The mapping lives until {@link #close()}. */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.NULL.reinterpret(0) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new GgufFile(path, arena, seg);
        } catch (java.nio.file.NoSuchFileException e) {
            arena.close();
            throw new GgufException(path + ": no such file", e);
        } catch (IOException e) {
            arena.close();
            throw new GgufException(path + ": cannot read: " + e, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    static long alignUp(long pos, int alignment) {
        return (pos + alignment - 1) / alignment * alignment;
    }

    private void fail(String what) {
        throw new GgufException(path + ": " + what);
    }

    public Path path() { return path; }
    public int version() { return version; }
    public int alignment() { return alignment; }
    public long dataOffset() { return dataOffset; }
    public long fileSize() { return file.byteSize(); }
    public Map<String, Object> metadata() { return metadata; }
    public GgufValueType metadataType(String key) { return metadataTypes.get(key); }
    public Map<String, GgufTensorInfo> tensors() { return tensors; }

    public GgufTensorInfo tensor(String name) {
        return tensors.get(name);
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public Object get(String key) {
        return metadata.get(key);
    }

    /** A required string; a clear error when it is missing or of another type. */
    public String getString(String key) {
        return require(key, String.class);
    }

    public String getString(String key, String fallback) {
        Object v = metadata.get(key);
        return v instanceof String s ? s : fallback;
    }

    public long getLong(String key) {
        Object v = metadata.get(key);
        if (v == null) fail("missing metadata " + key);
        if (v instanceof Integer i) return metadataType(key) == GgufValueType.UINT32 ? Integer.toUnsignedLong(i) : i;
        if (v instanceof Long l) return l;
        throw new GgufException(path + ": metadata " + key + " should be an integer, found " + describe(v));
    }

    public int getInt(String key) {
        long v = getLong(key);
        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) fail("metadata " + key + " = " + v + " is out of range");
        return (int) v;
    }

    public int getInt(String key, int fallback) {
        return metadata.containsKey(key) ? getInt(key) : fallback;
    }

    public float getFloat(String key) {
        Object v = metadata.get(key);
        if (v == null) fail("missing metadata " + key);
        if (v instanceof Float f) return f;
        if (v instanceof Double d) return d.floatValue();
        if (v instanceof Integer || v instanceof Long) return getLong(key);
        throw new GgufException(path + ": metadata " + key + " should be a number, found " + describe(v));
    }

    public float getFloat(String key, float fallback) {
        return metadata.containsKey(key) ? getFloat(key) : fallback;
    }

    public boolean getBool(String key, boolean fallback) {
        Object v = metadata.get(key);
        if (v == null) return fallback;
        if (v instanceof Boolean b) return b;
        throw new GgufException(path + ": metadata " + key + " should be a bool, found " + describe(v));
    }

    public String[] getStringArray(String key) {
        return require(key, String[].class);
    }

    public float[] getFloatArray(String key) {
        return require(key, float[].class);
    }

    public int[] getIntArray(String key) {
        return require(key, int[].class);
    }

    private <T> T require(String key, Class<T> type) {
        Object v = metadata.get(key);
        if (v == null) fail("missing metadata " + key);
        if (!type.isInstance(v)) fail("metadata " + key + " should be " + type.getSimpleName() + ", found " + describe(v));
        return type.cast(v);
    }

    private static String describe(Object v) {
        return v == null ? "nothing" : v.getClass().getSimpleName();
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Bounds-checked reader over the header. */
    private final class Cursor {
        long pos;

        long remaining() {
            return file.byteSize() - pos;
        }

        void need(long n, String what) {
            if (n < 0 || n > remaining()) {
                fail("file is truncated: reading " + what + " needs " + n + " bytes at offset " + pos
                        + " but the file is " + file.byteSize() + " bytes");
            }
        }

        int i32(String what) {
            need(4, what);
            int v = file.get(I32, pos);
            pos += 4;
            return v;
        }

        long i64(String what) {
            need(8, what);
            long v = file.get(I64, pos);
            pos += 8;
            return v;
        }

        String string(String what) {
            long len = i64("length of " + what);
            if (len < 0 || len > remaining()) fail("string " + what + " claims " + len + " bytes, more than the " + remaining() + " left in the file");
            byte[] bytes = new byte[(int) len];
            MemorySegment.copy(file, ValueLayout.JAVA_BYTE, pos, bytes, 0, (int) len);
            pos += len;
            return new String(bytes, StandardCharsets.UTF_8);
        }

        Object value(GgufValueType type, String key, int depth) {
            switch (type) {
                case UINT8: need(1, key); return Byte.toUnsignedInt(file.get(ValueLayout.JAVA_BYTE, pos++));
                case INT8: need(1, key); return (int) file.get(ValueLayout.JAVA_BYTE, pos++);
                case BOOL: need(1, key); return file.get(ValueLayout.JAVA_BYTE, pos++) != 0;
                case UINT16: { need(2, key); int v = Short.toUnsignedInt(file.get(I16, pos)); pos += 2; return v; }
                case INT16: { need(2, key); int v = file.get(I16, pos); pos += 2; return v; }
                case UINT32, INT32: return i32(key);
                case UINT64, INT64: return i64(key);
                case FLOAT32: { need(4, key); float v = file.get(F32, pos); pos += 4; return v; }
                case FLOAT64: { need(8, key); double v = file.get(F64, pos); pos += 8; return v; }
                case STRING: return string(key);
                case ARRAY: return array(key, depth);
                default: throw new IllegalStateException(type.name());
            }
        }

        Object array(String key, int depth) {
            if (depth > 4) fail("metadata " + key + " nests arrays too deeply");
            int elemId = i32("element type of array " + key);
            GgufValueType elem = GgufValueType.fromId(elemId);
            if (elem == null) fail("array " + key + " has unknown element type " + elemId);
            long count = i64("length of array " + key);
            long minSize = elem.size > 0 ? elem.size : (elem == GgufValueType.STRING ? 8 : 12);
            if (count < 0 || count > remaining() / minSize) {
                fail("array " + key + " claims " + count + " elements, more than the " + remaining() + " bytes left can hold");
            }
            int n = (int) count;
            switch (elem) {
                case UINT8, INT8, UINT16, INT16, UINT32, INT32 -> {
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) a[i] = (Integer) value(elem, key, depth);
                    return a;
                }
                case UINT64, INT64 -> {
                    long[] a = new long[n];
                    for (int i = 0; i < n; i++) a[i] = i64(key);
                    return a;
                }
                case FLOAT32 -> {
                    float[] a = new float[n];
                    MemorySegment.copy(file, F32, pos, a, 0, n);
                    pos += 4L * n;
                    return a;
                }
                case FLOAT64 -> {
                    double[] a = new double[n];
                    for (int i = 0; i < n; i++) a[i] = (Double) value(elem, key, depth);
                    return a;
                }
                case BOOL -> {
                    boolean[] a = new boolean[n];
                    for (int i = 0; i < n; i++) a[i] = (Boolean) value(elem, key, depth);
                    return a;
                }
                case STRING -> {
                    String[] a = new String[n];
                    for (int i = 0; i < n; i++) a[i] = string("element " + i + " of " + key);
                    return a;
                }
                default -> {
                    Object[] a = new Object[n];
                    for (int i = 0; i < n; i++) a[i] = value(elem, key, depth + 1);
                    return a;
                }
            }
        }
    }
}
