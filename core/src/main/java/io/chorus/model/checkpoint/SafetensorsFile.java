package io.chorus.model.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One .safetensors file, memory-mapped and read in place: an 8-byte little-endian header length N,
 * N bytes of JSON ({@code name: {dtype, shape, data_offsets: [begin, end]}}, offsets relative to the
 * first byte after the header), then the data. Every offset, shape and size is checked against the
 * file before use, so a bad file is a {@link CheckpointException} naming it, never an index error.
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20; // the format's own limit on the JSON header

    /** One tensor: dtype as the file names it, torch shape (outermost first), and its bytes. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end, MemorySegment data) {
        public long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private final Path path;
    private final Arena arena;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        if (file.byteSize() < 8) throw fail("file is " + file.byteSize() + " bytes, too short for a safetensors header");
        long n = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 2 || n > MAX_HEADER || n > file.byteSize() - 8) throw fail("header length " + n + " is impossible for a file of " + file.byteSize() + " bytes");
        dataStart = 8 + n;
        JsonNode header;
        try {
            header = JSON.readTree(new String(file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw fail("header is not JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) throw fail("header is not a JSON object");
        MemorySegment data = file.asSlice(dataStart);
        Map<String, Entry> map = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (v.isObject()) v.fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            map.put(name, entry(name, v, data));
        }
        entries = Collections.unmodifiableMap(map);
        metadata = Collections.unmodifiableMap(meta);
    }

    private Entry entry(String name, JsonNode v, MemorySegment data) {
        JsonNode dtype = v.get("dtype"), shape = v.get("shape"), offsets = v.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray() || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw fail("tensor " + name + " lacks dtype, shape or data_offsets [begin, end]");
        }
        long[] dims = new long[shape.size()];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            if (!shape.get(i).canConvertToLong() || shape.get(i).asLong() < 0) throw fail("tensor " + name + " has a bad shape " + shape);
            dims[i] = shape.get(i).asLong();
            elements = Math.multiplyExact(elements, dims[i]);
        }
        long begin = offsets.get(0).asLong(-1), end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > data.byteSize()) {
            throw fail("tensor " + name + " has data_offsets " + offsets + " outside the " + data.byteSize() + " data bytes");
        }
        int size = dtypeBytes(dtype.asText());
        if (size > 0 && elements * size != end - begin) {
            throw fail("tensor " + name + " (" + dtype.asText() + " " + shape + ") needs " + elements * size + " bytes, data_offsets give " + (end - begin));
        }
        return new Entry(name, dtype.asText(), dims, begin, end, data.asSlice(begin, end - begin));
    }

    /** Maps and parses the file. The mapping lives until {@link #close()}. */
    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.NULL.reinterpret(0) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new SafetensorsFile(path, arena, seg);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new CheckpointException(path + ": no such file", e);
        } catch (IOException e) {
            arena.close();
            throw new CheckpointException(path + ": cannot read: " + e, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Bytes per element of a safetensors dtype, or -1 for one Chorus does not know. */
    public static int dtypeBytes(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> -1;
        };
    }

    /** The GGML type that reads a safetensors dtype the same way, or null when there is none. */
    public static GgmlType ggmlType(String dtype) {
        return switch (dtype) {
            case "F32" -> GgmlType.F32;
            case "F16" -> GgmlType.F16;
            case "BF16" -> GgmlType.BF16;
            case "F64" -> GgmlType.F64;
            case "I8" -> GgmlType.I8;
            case "I16" -> GgmlType.I16;
            case "I32" -> GgmlType.I32;
            case "I64" -> GgmlType.I64;
            case "F8_E4M3" -> GgmlType.F8_E4M3;
            default -> null;
        };
    }

    private CheckpointException fail(String what) {
        return new CheckpointException(path + ": " + what);
    }

    public Path path() { return path; }
    /** Offset of the first data byte (8 + header length). */
    public long dataStart() { return dataStart; }
    public Map<String, Entry> entries() { return entries; }
    public Entry entry(String name) { return entries.get(name); }
    /** The header's {@code __metadata__} strings. */
    public Map<String, String> metadata() { return metadata; }

    @Override
    public void close() {
        arena.close();
    }
}
