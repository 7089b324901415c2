package io.chorus.engine.runner;

import io.chorus.engine.api.SamplingParams;

/**
 * Applies a sequence's token-level constraints and penalties to its raw logits, in vLLM's order:
 * allowed_token_ids (everything else to -inf), min_tokens (EOS unless ignored, and stop tokens, to
 * -inf), logit_bias (added), then the penalties: repetition_penalty over prompt and generated tokens
 * (HF/vLLM: positive logits divided, negative multiplied), frequency_penalty (times the generated
 * count) and presence_penalty (once if generated) subtracted. Temperature and the top-k/top-p/min-p
 * filters come after, in the sampler.
 *
 * <p>Stateless apart from the EOS ids; the per-sequence state (counts) is in {@link SamplingState}.
 */
public final class LogitsProcessor {
    private final int[] eosTokenIds;

    public LogitsProcessor(int[] eosTokenIds) {
        this.eosTokenIds = eosTokenIds.clone();
    }

    /** Processes {@code logits[offset, offset + vocab)} in place for a sequence that generated {@code numGenerated} tokens. */
    public void apply(float[] logits, int offset, int vocab, SamplingState state, int numGenerated) {
        SamplingParams p = state.params();
        int[] allowed = state.allowedIds();
        if (allowed.length > 0) maskAllBut(logits, offset, vocab, allowed);
        if (numGenerated < p.minTokens()) maskStops(logits, offset, vocab, p);
        int[] biasIds = state.biasIds();
        float[] bias = state.biasValues();
        for (int i = 0; i < biasIds.length; i++) {
            int id = biasIds[i];
            if (id >= 0 && id < vocab) logits[offset + id] += bias[i];
        }
        TokenCounts counts = state.counts();
        if (counts != null) applyPenalties(logits, offset, vocab, p, counts);
    }

    /** Sets every logit outside the ascending {@code allowed} ids to -inf, walking both in one pass. */
    private static void maskAllBut(float[] logits, int offset, int vocab, int[] allowed) {
        int next = 0;
        for (int v = 0; v < vocab; v++) {
            while (next < allowed.length && allowed[next] < v) next++;
            if (next < allowed.length && allowed[next] == v) continue;
            logits[offset + v] = Float.NEGATIVE_INFINITY;
        }
    }

    private void maskStops(float[] logits, int offset, int vocab, SamplingParams p) {
        if (!p.ignoreEos()) {
            for (int id : eosTokenIds) if (id >= 0 && id < vocab) logits[offset + id] = Float.NEGATIVE_INFINITY;
        }
        for (int id : p.stopTokenIds()) if (id >= 0 && id < vocab) logits[offset + id] = Float.NEGATIVE_INFINITY;
    }

    private static void applyPenalties(float[] logits, int offset, int vocab, SamplingParams p, TokenCounts counts) {
        float rep = (float) p.repetitionPenalty();
        float freq = (float) p.frequencyPenalty();
        float pres = (float) p.presencePenalty();
        for (int i = 0; i < counts.size(); i++) {
            int id = counts.id(i);
            if (id < 0 || id >= vocab) continue;
            int n = counts.outputCount(i);
            float x = logits[offset + id];
            if (rep != 1f && (n > 0 || counts.inPrompt(i))) x = x > 0 ? x / rep : x * rep;
            if (n > 0) {
                x -= freq * n;
                x -= pres;
            }
            logits[offset + id] = x;
        }
    }
}
