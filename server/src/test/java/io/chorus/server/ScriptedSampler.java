package io.chorus.server;

import io.chorus.engine.runner.Sampler;
import io.chorus.engine.runner.SamplingState;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.tokenizer.Tokenizer;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A sampler that makes a request seeded with a registered seed generate exactly a given text (its
 * tokens, then EOS), so tests can see how the server reads a known output; other requests sample as usual.
 */
final class ScriptedSampler implements Sampler {
    private final Map<Long, int[]> scripts = new ConcurrentHashMap<>();
    private final Map<SamplingState, int[]> positions = Collections.synchronizedMap(new IdentityHashMap<>());
    private final Sampler real = new TemperatureSampler();

    /** Requests seeded {@code seed} will generate {@code text} and stop. */
    void script(long seed, String text, Tokenizer tok) {
        int[] ids = tok.encode(text, false, false);
        // SentencePiece encodes a prefix space the detokenizer hides; a grammar would see it, so drop it.
        if (ids.length > 0 && !text.startsWith(" ") && java.util.Arrays.equals(tok.tokenBytes(ids[0]), new byte[] {' '})) {
            ids = java.util.Arrays.copyOfRange(ids, 1, ids.length);
        }
        int[] withEos = java.util.Arrays.copyOf(ids, ids.length + 1);
        withEos[ids.length] = tok.eosId();
        scripts.put(seed, withEos);
    }

    @Override
    public int sample(float[] logits, int offset, int vocab, SamplingState state) {
        Long seed = state.params().seed();
        int[] script = seed == null ? null : scripts.get(seed);
        if (script == null) return real.sample(logits, offset, vocab, state);
        int[] at = positions.computeIfAbsent(state, s -> new int[1]);
        return script[Math.min(at[0]++, script.length - 1)];
    }

    LoadedModel.Seams seams() {
        return new LoadedModel.Seams(m -> m, this, d -> d);
    }
}
