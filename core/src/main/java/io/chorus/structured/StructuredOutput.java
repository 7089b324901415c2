package io.chorus.structured;

import io.chorus.engine.api.InvalidRequestException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Constrained decoding for one engine: compiles {@link GrammarSpec}s (cached, bounded LRU) and, on
 * the engine loop thread, masks a sequence's logits to the tokens its grammar allows next.
 *
 * <p>A mask is found by walking the vocabulary's byte trie through the grammar automaton from the
 * sequence's state, skipping every subtree whose prefix the grammar rejects; the result is cached
 * on the state (as the allowed ids or, when most tokens are allowed, the refused ones), so a state
 * seen before costs only applying the list. Cached masks are bounded by {@link #MASK_BUDGET_INTS}
 * ids in all, dropped oldest first.
 *
 * <p>Implementation notes: {@link #compile} is thread-safe (the cache is synchronized; each
 * automaton is built by one thread before it is shared). Everything else is engine-thread only: the
 * scratch arrays here and the automata's lazily built states.
 */
public final class StructuredOutput {
    /** Compiled grammars kept. */
    public static final int CACHE_SIZE = 64;
    /** Most token ids held in cached masks, over all grammars (4 bytes each). */
    static final long MASK_BUDGET_INTS = 8L << 20;

    /** What {@link #constrain} found. */
    public enum Outcome {
        /** Some token may be sampled. */
        OK,
        /** The output is a complete match and nothing may follow, but no end token is allowed now. */
        COMPLETE,
        /** No token can continue the output towards a match. */
        DEAD_END
    }

    private final TokenVocabulary vocab;
    private final int modelVocab;
    private final TokenTrie trie;
    private final Map<GrammarSpec, CompiledGrammar> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<GrammarSpec, CompiledGrammar> e) {
            return size() > CACHE_SIZE;
        }
    };

    // Engine thread only.
    private final ArrayDeque<GrammarAutomaton.State> masked = new ArrayDeque<>();
    private final ArrayDeque<Integer> maskedSizes = new ArrayDeque<>(); // ints counted for each entry of masked
    private long maskedInts;
    private GrammarAutomaton.State[] walk;
    private final int[] found;          // [usable tokens] allowed ids found by a walk
    private final long[] bits;          // [modelVocab / 64] allowed set, for building a refused-id list
    private float[] saved = new float[64];
    private float[] savedEnd = new float[8];

    /** Masks over {@code modelVocab} logits (ids the tokenizer does not know are never allowed). */
    public StructuredOutput(TokenVocabulary vocab, int modelVocab) {
        this.vocab = vocab;
        this.modelVocab = modelVocab;
        this.trie = new TokenTrie(vocab);
        this.walk = new GrammarAutomaton.State[trie.maxDepth + 1];
        this.found = new int[trie.usable];
        this.bits = new long[(modelVocab + 63) / 64];
    }

    public TokenVocabulary vocabulary() { return vocab; }

    /** The compiled grammar for {@code spec}, from the cache or built now; bad specs throw {@link InvalidRequestException}. */
    public CompiledGrammar compile(GrammarSpec spec) {
        synchronized (cache) {
            CompiledGrammar c = cache.get(spec);
            if (c != null) return c;
        }
        long t0 = System.nanoTime();
        Grammar g = GbnfParser.parse(GrammarText.of(spec), GrammarText.param(spec));
        GrammarAutomaton a = new GrammarAutomaton(g);
        if (!a.start().accepting && !leadsAnywhere(a)) {
            throw new InvalidRequestException("the output grammar matches nothing", GrammarText.param(spec));
        }
        CompiledGrammar c = new CompiledGrammar(spec, a, System.nanoTime() - t0);
        synchronized (cache) {
            CompiledGrammar raced = cache.putIfAbsent(spec, c);
            return raced != null ? raced : c;
        }
    }

    /** Whether some first byte is possible (a grammar of only empty classes is not). */
    private static boolean leadsAnywhere(GrammarAutomaton a) {
        for (int b = 0; b < 256; b++) if (a.step(a.start(), b) != GrammarAutomaton.DEAD) return true;
        return false;
    }

    /** The bytes of a token, or null for tokens no grammar allows. */
    public byte[] tokenBytes(int id) {
        return vocab.bytes(id);
    }

    /**
     * Sets every logit in {@code logits[offset, offset + modelVocab)} that the matcher's grammar does
     * not allow next to -inf. The {@code endIds} (EOS and stop tokens) keep their logits only when the
     * output is a complete match and {@code endAllowed}.
     */
    public Outcome constrain(GrammarMatcher m, float[] logits, int offset, int[] endIds, boolean endAllowed) {
        GrammarAutomaton.State s = m.state();
        boolean end = endAllowed && s.accepting;
        if (savedEnd.length < endIds.length) savedEnd = new float[endIds.length];
        for (int i = 0; i < endIds.length; i++) savedEnd[i] = validId(endIds[i]) ? logits[offset + endIds[i]] : 0;
        Mask mask = mask(m.grammar().automaton(), s);
        int[] ids = mask.ids;
        int allowed;
        if (mask.allowedList) {
            if (saved.length < ids.length) saved = new float[Math.max(ids.length, saved.length * 2)];
            for (int i = 0; i < ids.length; i++) saved[i] = logits[offset + ids[i]];
            Arrays.fill(logits, offset, offset + modelVocab, Float.NEGATIVE_INFINITY);
            for (int i = 0; i < ids.length; i++) logits[offset + ids[i]] = saved[i];
            allowed = ids.length;
        } else {
            for (int id : ids) logits[offset + id] = Float.NEGATIVE_INFINITY;
            allowed = modelVocab - ids.length;
        }
        int ends = 0;
        for (int i = 0; i < endIds.length; i++) {
            int id = endIds[i];
            if (!validId(id)) continue;
            if (end) {
                logits[offset + id] = savedEnd[i];
                ends++;
            } else {
                logits[offset + id] = Float.NEGATIVE_INFINITY;
            }
        }
        if (allowed > 0 || ends > 0) return Outcome.OK;
        return s.accepting ? Outcome.COMPLETE : Outcome.DEAD_END;
    }

    private boolean validId(int id) {
        return id >= 0 && id < modelVocab;
    }

    /** The tokens allowed in state {@code s}: ascending-free list form, cached on the state. */
    record Mask(boolean allowedList, int[] ids) {}

    Mask mask(GrammarAutomaton a, GrammarAutomaton.State s) {
        if (s.mask instanceof Mask m) return m;
        Mask m = computeMask(a, s);
        s.mask = m;
        masked.addLast(s);
        maskedSizes.addLast(m.ids.length + 16);
        maskedInts += m.ids.length + 16;
        while (maskedInts > MASK_BUDGET_INTS && masked.size() > 1) {
            masked.removeFirst().mask = null; // (an automaton reset may have dropped it already)
            maskedInts -= maskedSizes.removeFirst();
        }
        return m;
    }

    /** Walks the trie from {@code s}: every token whose whole byte string the grammar can read is allowed. */
    Mask computeMask(GrammarAutomaton a, GrammarAutomaton.State s) {
        GrammarAutomaton.State[] st = walk;
        st[0] = s;
        byte[] label = trie.label;
        int[] depth = trie.depth, subtreeEnd = trie.subtreeEnd, tokenStart = trie.tokenStart, tokenIds = trie.tokenIds;
        int n = label.length, count = 0;
        int i = 0;
        while (i < n) {
            int d = depth[i];
            GrammarAutomaton.State next = a.step(st[d - 1], label[i] & 0xFF);
            if (next == GrammarAutomaton.DEAD) {
                i = subtreeEnd[i];
                continue;
            }
            st[d] = next;
            for (int t = tokenStart[i]; t < tokenStart[i + 1]; t++) if (tokenIds[t] < modelVocab) found[count++] = tokenIds[t];
            i++;
        }
        if (count <= modelVocab / 2) return new Mask(true, Arrays.copyOf(found, count));
        Arrays.fill(bits, 0);
        for (int k = 0; k < count; k++) bits[found[k] >>> 6] |= 1L << found[k];
        int[] refused = new int[modelVocab - count];
        int r = 0;
        for (int id = 0; id < modelVocab; id++) if ((bits[id >>> 6] & (1L << id)) == 0) refused[r++] = id;
        return new Mask(false, refused);
    }
}
