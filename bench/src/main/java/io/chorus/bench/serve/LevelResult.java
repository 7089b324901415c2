package io.chorus.bench.serve;

import java.util.Map;

/**
 * Every figure of one run at one load level, named as {@code vllm bench serve} names them.
 *
 * @param maxConcurrency       the concurrency limit of this level (0 = none)
 * @param requestRate          the configured arrival rate (Infinity = all at once)
 * @param completed            requests whose stream ended properly
 * @param failed               requests that errored, were cut short or timed out
 * @param durationS            from the first send to the last completion
 * @param totalInputTokens     prompt tokens of the completed requests
 * @param totalOutputTokens    generated tokens of the completed requests
 * @param requestThroughput    completed requests per second
 * @param outputThroughput     generated tokens per second, all users together
 * @param totalTokenThroughput prompt plus generated tokens per second
 * @param peakConcurrency      most requests actually in flight at one instant
 * @param perUserOutputSpeed   mean over requests of 1000 / TPOT: the tokens per second one user sees once output flows
 * @param usageReported        true when every completed request's token counts came from the server's usage
 * @param errors               failure reasons with their counts
 */
public record LevelResult(int maxConcurrency, double requestRate, int completed, int failed, double durationS,
                          long totalInputTokens, long totalOutputTokens, double requestThroughput, double outputThroughput,
                          double totalTokenThroughput, int peakConcurrency, double perUserOutputSpeed,
                          LatencyStats ttftMs, LatencyStats tpotMs, LatencyStats itlMs, LatencyStats e2eMs,
                          boolean usageReported, Map<String, Integer> errors) {

    /** The concurrency to plot this level at: its limit, or the peak measured when it had none. */
    public int plotConcurrency() {
        return maxConcurrency > 0 ? maxConcurrency : peakConcurrency;
    }
}
