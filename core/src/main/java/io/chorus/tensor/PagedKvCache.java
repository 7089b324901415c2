package io.chorus.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The physical paged KV cache: {@code numBlocks} blocks of {@code blockSize} token slots, for every
 * layer a K and a V plane. Blocks are grouped in chunks of {@code blocksPerChunk} (a power of two);
 * a chunk is one off-heap segment laid out [layer][K|V][slot in chunk][kvHead][headDim], so one
 * block's rows of one plane are contiguous.
 *
 * <p>Memory is committed on use, never up front: the whole budget is one {@link ReservedMemory}
 * range (the kernel backs a page when it is first written, and an unwritten page reads as zeros),
 * and the chunks are slices of it. Where that is unavailable a chunk is allocated the first time
 * one of its blocks is written, and reading a block of a chunk never written is an error (attention
 * reads only slots written before). Chunks are created on the engine thread (writes and block
 * copies run there); worker threads only read, after the step has handed them the work.
 *
 * <p>The cache knows nothing of sequences: block tables and slots come from the KV cache manager
 * through the batch. Values are stored as f32 or f16 ({@link KvCacheDtype}).
 */
public final class PagedKvCache implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Target bytes per chunk: the unit in which the fallback allocates. */
    static final long CHUNK_BYTES = 32L << 20;

    private final Arena arena;
    private final MemorySegment[] chunks; // [numChunks]; null until first written when not reserved
    private final boolean reserved;
    private final int layers;
    private final int numBlocks;
    private final int blockSize;
    private final int kvDim;
    private final KvCacheDtype dtype;
    private final int chunkShift;         // log2(blocksPerChunk)
    private final int chunkMask;          // blocksPerChunk - 1
    private final long rowBytes;          // one token's K (or V) row
    private final long planeBytes;        // one layer's K (or V) plane of one chunk
    private final long chunkBytes;

    public PagedKvCache(int layers, int numBlocks, int blockSize, int kvDim, KvCacheDtype dtype) {
        this(layers, numBlocks, blockSize, kvDim, dtype, true);
    }

    /** {@code reserve} false forces the allocate-on-write fallback (for tests of that path). */
    PagedKvCache(int layers, int numBlocks, int blockSize, int kvDim, KvCacheDtype dtype, boolean reserve) {
        if (numBlocks < 1) throw new IllegalArgumentException("a KV cache needs at least one block, got " + numBlocks);
        this.layers = layers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvDim = kvDim;
        this.dtype = dtype;
        this.rowBytes = (long) kvDim * dtype.bytes;
        long perChunk = Math.max(1, Math.min(numBlocks, CHUNK_BYTES / bytesPerBlock(layers, blockSize, kvDim, dtype)));
        int blocksPerChunk = Integer.highestOneBit((int) perChunk);
        this.chunkShift = Integer.numberOfTrailingZeros(blocksPerChunk);
        this.chunkMask = blocksPerChunk - 1;
        this.planeBytes = (long) blocksPerChunk * blockSize * rowBytes;
        this.chunkBytes = planeBytes * 2 * layers;
        int numChunks = (numBlocks + chunkMask) >>> chunkShift;
        this.chunks = new MemorySegment[numChunks];
        this.arena = Arena.ofShared();
        MemorySegment all = reserve ? ReservedMemory.reserve(chunkBytes * numChunks, arena) : null;
        this.reserved = all != null;
        if (reserved) {
            for (int c = 0; c < numChunks; c++) chunks[c] = all.asSlice(c * chunkBytes, chunkBytes);
        }
    }

    /** Bytes the cache takes per block across all layers. */
    public static long bytesPerBlock(int layers, int blockSize, int kvDim, KvCacheDtype dtype) {
        return 2L * layers * blockSize * kvDim * dtype.bytes;
    }

    public int numBlocks() { return numBlocks; }
    public int blockSize() { return blockSize; }
    public int kvDim() { return kvDim; }
    public KvCacheDtype dtype() { return dtype; }

    /** Whether the budget is one reservation the system commits page by page (else chunks are allocated on write). */
    public boolean reserved() { return reserved; }

    /** Bytes of address space the cache spans (all chunks). */
    public long reservedBytes() { return chunkBytes * chunks.length; }

    /** Chunks that have memory behind them now: all when reserved, else those written so far. */
    int chunksInUse() {
        int n = 0;
        for (MemorySegment c : chunks) if (c != null) n++;
        return n;
    }

    /** The segment holding {@code block}; {@link #offset} gives positions inside it. */
    public MemorySegment chunkOf(int block) {
        MemorySegment m = chunks[block >>> chunkShift];
        if (m == null) throw new IllegalStateException("KV block " + block + " is read before anything was written to it");
        return m;
    }

    /** Byte offset, inside {@link #chunkOf}(block), of the K (v = 0) or V (v = 1) row of token {@code i} of {@code block}. */
    public long offset(int layer, int v, int block, int i) {
        return (2L * layer + v) * planeBytes + ((long) (block & chunkMask) * blockSize + i) * rowBytes;
    }

    /** The chunk holding {@code block}, allocated first when it has none yet (engine thread only). */
    private MemorySegment writable(int block) {
        int c = block >>> chunkShift;
        MemorySegment m = chunks[c];
        if (m == null) m = chunks[c] = arena.allocate(chunkBytes, 64);
        return m;
    }

    /** Stores one token's K and V rows (kvDim values each) at its slot (block * blockSize + i). */
    public void write(int layer, int slot, float[] k, int ko, float[] v, int vo) {
        int block = slot / blockSize, i = slot - block * blockSize;
        MemorySegment memory = writable(block);
        long kOff = offset(layer, 0, block, i), vOff = offset(layer, 1, block, i);
        if (dtype == KvCacheDtype.F32) {
            MemorySegment.copy(k, ko, memory, F32, kOff, kvDim);
            MemorySegment.copy(v, vo, memory, F32, vOff, kvDim);
        } else {
            for (int j = 0; j < kvDim; j++) {
                memory.set(F16, kOff + 2L * j, Float.floatToFloat16(k[ko + j]));
                memory.set(F16, vOff + 2L * j, Float.floatToFloat16(v[vo + j]));
            }
        }
    }

    /** Reads back one token's K and V rows at its slot, as floats. */
    public void read(int layer, int slot, float[] k, int ko, float[] v, int vo) {
        int block = slot / blockSize, i = slot - block * blockSize;
        MemorySegment memory = chunkOf(block);
        long kOff = offset(layer, 0, block, i), vOff = offset(layer, 1, block, i);
        if (dtype == KvCacheDtype.F32) {
            MemorySegment.copy(memory, F32, kOff, k, ko, kvDim);
            MemorySegment.copy(memory, F32, vOff, v, vo, kvDim);
        } else {
            for (int j = 0; j < kvDim; j++) {
                k[ko + j] = Float.float16ToFloat(memory.get(F16, kOff + 2L * j));
                v[vo + j] = Float.float16ToFloat(memory.get(F16, vOff + 2L * j));
            }
        }
    }

    /** Copies every layer's K/V of block {@code src} to block {@code dst} (copy-on-write). */
    public void copyBlock(int src, int dst) {
        MemorySegment from = chunkOf(src), to = writable(dst);
        long blockBytes = blockSize * rowBytes;
        for (int l = 0; l < layers; l++) {
            for (int v = 0; v < 2; v++) {
                MemorySegment.copy(from, offset(l, v, src, 0), to, offset(l, v, dst, 0), blockBytes);
            }
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
