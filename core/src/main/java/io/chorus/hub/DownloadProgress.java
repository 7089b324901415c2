package io.chorus.hub;

/** Where a download reports how far it got (a terminal bar, a log, a test's record). Called from the downloading thread. */
public interface DownloadProgress {
    /** The transfer starts at {@code offset} bytes (a resumed download) of {@code total} (-1 when unknown). */
    void start(String name, long offset, long total);

    /** {@code bytes} more arrived. */
    void advance(long bytes);

    /** The file is complete and verified. */
    void done();

    DownloadProgress NONE = new DownloadProgress() {
        @Override public void start(String name, long offset, long total) {}
        @Override public void advance(long bytes) {}
        @Override public void done() {}
    };
}
