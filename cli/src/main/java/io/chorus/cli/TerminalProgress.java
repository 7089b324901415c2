package io.chorus.cli;

import io.chorus.hub.DownloadProgress;
import java.io.PrintStream;

/**
 * A download's progress on stderr: a bar redrawn in place on a terminal (at most four times a
 * second), or a line per tenth when the output is a log file, so logs stay readable.
 */
final class TerminalProgress implements DownloadProgress {
    private static final int WIDTH = 30;
    private final PrintStream err;
    private final boolean terminal;
    private String name;
    private long offset, total, done, startNanos, lastDraw;
    private int lastTenth = -1;

    TerminalProgress(PrintStream err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    static TerminalProgress onStderr() {
        return new TerminalProgress(System.err, System.console() != null);
    }

    @Override
    public void start(String n, long off, long tot) {
        name = n;
        offset = off;
        total = tot;
        done = off;
        startNanos = System.nanoTime();
        if (off > 0) err.println("chorus: resuming " + n + " at " + Units.bytes(off));
        draw(true);
    }

    @Override
    public void advance(long bytes) {
        done += bytes;
        draw(false);
    }

    @Override
    public void done() {
        draw(true);
        if (terminal) err.println();
    }

    private void draw(boolean force) {
        long now = System.nanoTime();
        if (terminal) {
            if (!force && now - lastDraw < 250_000_000L) return;
            lastDraw = now;
            err.print("\r" + line(now) + "   ");
            err.flush();
        } else {
            int tenth = total > 0 ? (int) (done * 10 / total) : 0;
            if (!force && tenth == lastTenth) return;
            lastTenth = tenth;
            err.println(line(now));
        }
    }

    /** "name [=====     ]  42%  1.2 GiB / 2.9 GiB  35.1 MiB/s  ETA 48 s" (size, rate and ETA as far as known). */
    String line(long now) {
        double seconds = Math.max((now - startNanos) / 1e9, 1e-3);
        double rate = (done - offset) / seconds;
        StringBuilder sb = new StringBuilder(name).append(' ');
        if (total > 0) {
            int filled = (int) (WIDTH * done / total);
            sb.append('[').append("=".repeat(filled)).append(" ".repeat(WIDTH - filled)).append("] ");
            sb.append(String.format("%3d%%  %s / %s", done * 100 / total, Units.bytes(done), Units.bytes(total)));
        } else {
            sb.append(Units.bytes(done));
        }
        sb.append(String.format("  %s/s", Units.bytes((long) rate)));
        if (total > 0 && rate > 0 && done < total) sb.append(String.format("  ETA %d s", (long) ((total - done) / rate)));
        return sb.toString();
    }
}
