package io.chorus.bench.serve;

import java.util.List;

/**
 * A whole benchmark: its settings (API key redacted), when it ran, the calibration used for random
 * prompts, and one {@link LevelResult} per concurrency level.
 */
public record BenchResult(String label, String startedAt, BenchConfig settings, double tokensPerWord, String calibrationNote,
                          List<LevelResult> levels) {

    /** The label to show in tables and chart legends. */
    public String displayLabel() {
        if (label != null && !label.isBlank()) return label;
        return settings != null ? settings.model() + " @ " + settings.baseUrl() : "result";
    }

    public BenchResult withLabel(String newLabel) {
        return new BenchResult(newLabel, startedAt, settings, tokensPerWord, calibrationNote, levels);
    }
}
