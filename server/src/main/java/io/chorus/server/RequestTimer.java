package io.chorus.server;

import io.chorus.engine.api.RequestOutput;
import java.util.logging.Logger;

/**
 * The timeline of one request, from its arrival at the server to its end: feeds the latency
 * histograms and the finish-reason counter, and writes the one access-log line. Used by the
 * request's handler thread only.
 */
final class RequestTimer {
    private static final Logger ACCESS = Logger.getLogger("io.chorus.server.access");

    private final ServerMetrics metrics;
    private final String requestId;
    private final long receivedNanos = System.nanoTime();
    private long firstTokenNanos, lastTokenNanos;
    private String finishReason;
    private boolean done;

    RequestTimer(ServerMetrics metrics, String requestId) {
        this.metrics = metrics;
        this.requestId = requestId;
    }

    /** Tokens arrived (on the handler thread, now). */
    void tokens(int count, RequestOutput.Timings engine) {
        long now = System.nanoTime();
        String m = metrics.model();
        if (firstTokenNanos == 0) {
            firstTokenNanos = now;
            metrics.ttft.labelValues(m).observe(seconds(now - receivedNanos));
            if (engine != null && engine.arrivalNanos() > 0) {
                metrics.queueTime.labelValues(m).observe(seconds(Math.max(0, engine.arrivalNanos() - receivedNanos)));
            }
        } else if (count > 0) {
            double gap = seconds(now - lastTokenNanos) / count;
            for (int i = 0; i < count; i++) metrics.itlPoint.observe(gap);
        }
        lastTokenNanos = now;
    }

    /** When the request arrived, its first and its latest token came ({@link System#nanoTime}; 0 = none yet). */
    long receivedNanos() { return receivedNanos; }
    long firstTokenNanos() { return firstTokenNanos; }
    long lastTokenNanos() { return lastTokenNanos; }

    void finished(String reason) {
        finishReason = reason;
    }

    /** The request is over (any way it ended); records it once. */
    void complete(int promptTokens, int outputTokens) {
        if (done) return;
        done = true;
        long now = System.nanoTime();
        String reason = finishReason != null ? finishReason : "error";
        String m = metrics.model();
        metrics.e2e.labelValues(m).observe(seconds(now - receivedNanos));
        metrics.promptTokens.labelValues(m).observe(promptTokens);
        metrics.generationTokens.labelValues(m).observe(outputTokens);
        metrics.finished(reason);
        ACCESS.info(String.format("%s prompt=%d output=%d ttft=%s total=%.3fs finish=%s", requestId, promptTokens, outputTokens,
                firstTokenNanos == 0 ? "-" : String.format("%.3fs", seconds(firstTokenNanos - receivedNanos)),
                seconds(now - receivedNanos), reason));
    }

    private static double seconds(long nanos) { return nanos / 1e9; }
}
