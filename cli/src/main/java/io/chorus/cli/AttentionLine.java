package io.chorus.cli;

import io.chorus.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The {@code chorus info} line for attention beyond plain causal softmax: windowed layers, soft-caps, query scale. */
final class AttentionLine {
    private AttentionLine() {}

    static String of(ModelConfig c) {
        List<String> parts = new ArrayList<>();
        if (c.slidingWindow() > 0) {
            int windowed = 0;
            for (int l = 0; l < c.layers(); l++) if (c.windowed(l)) windowed++;
            parts.add(String.format(Locale.ROOT, "sliding window %d on %d of %d layers", c.slidingWindow(), windowed, c.layers()));
        }
        if (c.attnSoftcap() > 0) parts.add(String.format(Locale.ROOT, "scores soft-capped at %s", number(c.attnSoftcap())));
        if (c.finalSoftcap() > 0) parts.add(String.format(Locale.ROOT, "logits soft-capped at %s", number(c.finalSoftcap())));
        parts.add(String.format(Locale.ROOT, "query scale 1/%s", number(1 / c.queryScale())));
        return String.join(", ", parts);
    }

    /** 50 rather than 50.0; 1/sqrt(144) prints as 12. */
    private static String number(float f) {
        float r = Math.round(f);
        return Math.abs(f - r) < 1e-4f * Math.max(1f, Math.abs(f)) ? Integer.toString((int) r) : Float.toString(f);
    }
}
