package io.chorus.tokenizer;

import java.util.List;

/**
 * Watches streamed text for stop strings. Text is released as soon as it can no longer be part of a
 * stop string: only a tail that is a prefix of some stop string is held back, so a stop string split
 * across tokens is still caught and the output ends exactly where it begins (or after it, with
 * includeStopString). Not thread-safe: one per stream.
 */
public final class StopStringMatcher {
    /**
     * What {@link #push} yields: text safe to emit now and, once a stop string is complete, which one.
     * After a stop, the stream is over and further input is ignored.
     */
    public record Result(String text, String stop) {
        public boolean stopped() { return stop != null; }
    }

    private final List<String> stops;
    private final boolean includeStopString;
    private final StringBuilder held = new StringBuilder();
    private boolean done;

    public StopStringMatcher(List<String> stopStrings, boolean includeStopString) {
        this.stops = stopStrings.stream().filter(s -> s != null && !s.isEmpty()).toList();
        this.includeStopString = includeStopString;
    }

    public boolean stopped() { return done; }

    /** Adds streamed text; returns the text to emit and the stop string if one completed. */
    public Result push(String text) {
        if (done) return new Result("", null);
        held.append(text);
        // The earliest complete stop string wins; among those starting at the same place, the longest.
        int best = -1;
        String bestStop = null;
        for (String s : stops) {
            int at = held.indexOf(s);
            if (at >= 0 && (best < 0 || at < best || (at == best && s.length() > bestStop.length()))) {
                best = at;
                bestStop = s;
            }
        }
        if (best >= 0) {
            done = true;
            String out = held.substring(0, includeStopString ? best + bestStop.length() : best);
            held.setLength(0);
            return new Result(out, bestStop);
        }
        int keep = longestPrefixTail();
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return new Result(out, null);
    }

    /** Ends the stream without a stop: releases the held tail. */
    public String flush() {
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    /** Length of the longest tail of the held text that is a proper prefix of a stop string. */
    private int longestPrefixTail() {
        int n = held.length();
        int best = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, n); k > best; k--) {
                if (regionEquals(n - k, s, k)) { best = k; break; }
            }
        }
        return best;
    }

    private boolean regionEquals(int from, String s, int k) {
        for (int i = 0; i < k; i++) if (held.charAt(from + i) != s.charAt(i)) return false;
        return true;
    }
}
