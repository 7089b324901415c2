package io.chorus.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The physical paged KV cache: one off-heap arena of {@code numBlocks} blocks of {@code blockSize}
 * token slots, for every layer a K and a V plane. Slot s = block * blockSize + offset holds, per
 * plane, the {@code kvDim = kvHeads * headDim} values of one token: [layer][K|V][slot][kvHead][headDim].
 *
 * <p>The cache knows nothing of sequences: block tables and slots come from the KV cache manager
 * through the batch. Values are stored as f32 or f16 ({@link KvCacheDtype}).
 */
public final class PagedKvCache implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena;
    private final MemorySegment memory;
    private final int layers;
    private final int numBlocks;
    private final int blockSize;
    private final int kvDim;
    private final KvCacheDtype dtype;
    private final long planeBytes;

    public PagedKvCache(int layers, int numBlocks, int blockSize, int kvDim, KvCacheDtype dtype) {
        this.layers = layers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvDim = kvDim;
        this.dtype = dtype;
        this.planeBytes = (long) numBlocks * blockSize * kvDim * dtype.bytes;
        this.arena = Arena.ofShared();
        this.memory = arena.allocate(planeBytes * 2 * layers, 64);
    }

    /** Bytes the cache takes per block across all layers. */
    public static long bytesPerBlock(int layers, int blockSize, int kvDim, KvCacheDtype dtype) {
        return 2L * layers * blockSize * kvDim * dtype.bytes;
    }

    public int numBlocks() { return numBlocks; }
    public int blockSize() { return blockSize; }
    public int kvDim() { return kvDim; }
    public KvCacheDtype dtype() { return dtype; }
    public MemorySegment memory() { return memory; }
    public long byteSize() { return memory.byteSize(); }

    /** Byte offset of the K (v = 0) or V (v = 1) row of {@code slot} in layer {@code layer}. */
    public long offset(int layer, int v, int slot) {
        return (2L * layer + v) * planeBytes + (long) slot * kvDim * dtype.bytes;
    }

    /** Stores one token's K and V rows (kvDim values each) at its slot. */
    public void write(int layer, int slot, float[] k, int ko, float[] v, int vo) {
        long kOff = offset(layer, 0, slot), vOff = offset(layer, 1, slot);
        if (dtype == KvCacheDtype.F32) {
            MemorySegment.copy(k, ko, memory, F32, kOff, kvDim);
            MemorySegment.copy(v, vo, memory, F32, vOff, kvDim);
        } else {
            for (int i = 0; i < kvDim; i++) {
                memory.set(F16, kOff + 2L * i, Float.floatToFloat16(k[ko + i]));
                memory.set(F16, vOff + 2L * i, Float.floatToFloat16(v[vo + i]));
            }
        }
    }

    /** Copies every layer's K/V of block {@code src} to block {@code dst} (copy-on-write). */
    public void copyBlock(int src, int dst) {
        long blockBytes = (long) blockSize * kvDim * dtype.bytes;
        for (int l = 0; l < layers; l++) {
            for (int v = 0; v < 2; v++) {
                MemorySegment.copy(memory, offset(l, v, src * blockSize), memory, offset(l, v, dst * blockSize), blockBytes);
            }
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
