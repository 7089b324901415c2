package io.chorus.tokenizer;

/**
 * Turns one stream of generated token ids into text incrementally. The concatenation of every
 * {@link #push} result and the final {@link #flush} equals {@link Tokenizer#decode(int[], boolean)} of
 * all the ids, however the stream is cut:
 * <ul>
 *   <li>bytes of a character split across tokens are held until the character is complete; invalid
 *       sequences become U+FFFD by the same rules as one-shot decoding ({@link Utf8Decoder});</li>
 *   <li>SentencePiece's space prefix is stripped from the first token only, as one-shot decoding does;</li>
 *   <li>for vocabularies that clean up spaces, the tail that a later character could still change
 *       (a trailing space, apostrophe, or "'r"/"'v" awaiting its "e") is held back until it is settled
 *       ({@link SpaceCleaner#safeCut}).</li>
 * </ul>
 * With skipSpecial, a trailing EOS is rendered as nothing (it is a control token), which matches
 * one-shot decoding of vocabularies whose EOS is a control token. Not thread-safe: one per stream.
 */
public final class StreamingDetokenizer {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private final java.util.function.IntPredicate alwaysRender;
    private final boolean clean;
    private final Utf8Decoder utf8 = new Utf8Decoder();
    private final StringBuilder held = new StringBuilder(); // decoded text not yet returned
    private boolean first = true;
    private boolean removeSpace;

    public StreamingDetokenizer(Tokenizer tokenizer, boolean skipSpecial) {
        this(tokenizer, skipSpecial, id -> false);
    }

    /**
     * As {@link #StreamingDetokenizer(Tokenizer, boolean)}, but the tokens {@code alwaysRender} accepts
     * are rendered as their text even when special tokens are skipped (the markers a tool-call or
     * reasoning parser reads, such as {@code [TOOL_CALLS]}).
     */
    public StreamingDetokenizer(Tokenizer tokenizer, boolean skipSpecial, java.util.function.IntPredicate alwaysRender) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
        this.alwaysRender = alwaysRender;
        this.clean = tokenizer.vocab().cleanSpaces;
        this.removeSpace = tokenizer.vocab().addSpacePrefix;
    }

    /** Adds one token and returns the text that is now final (possibly empty). */
    public String push(int tokenId) {
        Vocabulary v = tokenizer.vocab();
        byte[] p;
        int from = 0;
        if (first) {
            first = false;
            if (skipSpecial && v.addBos && tokenId == v.bos) {
                removeSpace = false;
                tokenizer.piece(tokenId, true); // validates the id
                return "";
            }
            p = tokenizer.piece(tokenId, skipSpecial && !alwaysRender.test(tokenId));
            if (removeSpace && p.length > 0 && p[0] == ' ') from = 1;
        } else {
            p = tokenizer.piece(tokenId, skipSpecial && !alwaysRender.test(tokenId));
        }
        for (int i = from; i < p.length; i++) utf8.accept(p[i], held);
        return take(false);
    }

    /** Adds several tokens at once; the same text as pushing them one by one. */
    public String pushAll(int[] tokenIds) {
        StringBuilder sb = new StringBuilder();
        for (int id : tokenIds) sb.append(push(id));
        return sb.toString();
    }

    /** Ends the stream: returns whatever is still held (an unfinished character as U+FFFD). */
    public String flush() {
        utf8.finish(held);
        return take(true);
    }

    private String take(boolean all) {
        if (held.isEmpty()) return "";
        int cut = all || !clean ? held.length() : SpaceCleaner.safeCut(held);
        if (cut == 0) return "";
        String out = held.substring(0, cut);
        held.delete(0, cut);
        return clean ? SpaceCleaner.clean(out) : out;
    }
}
