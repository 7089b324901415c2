package io.chorus.backend;

/**
 * A model's paged KV cache as its {@link Backend} allocated it: {@code numBlocks} blocks of
 * {@code blockSize} token slots for every layer's K and V. The model holds it and hands it back to
 * the backend that made it ({@link Backend#writeKv}, {@link Backend#attend}, {@link Backend#copyBlocks});
 * where its memory lives is the backend's business.
 */
public interface KvCache extends AutoCloseable {
    int numBlocks();

    int blockSize();

    /** Whether the cache's memory is committed as blocks are written rather than allocated in chunks on first write. */
    boolean reserved();

    @Override
    void close();
}
