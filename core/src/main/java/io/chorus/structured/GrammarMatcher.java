package io.chorus.structured;

/**
 * One sequence's position in its grammar: the automaton state reached by the tokens generated so
 * far. Advanced by the engine loop with every sampled token; a new sequence (an n > 1 child too)
 * starts a new matcher, and a preempted sequence keeps its own, since recompute keeps its tokens.
 */
public final class GrammarMatcher {
    private final CompiledGrammar grammar;
    private GrammarAutomaton.State state;

    GrammarMatcher(CompiledGrammar grammar, GrammarAutomaton.State state) {
        this.grammar = grammar;
        this.state = state;
    }

    public CompiledGrammar grammar() { return grammar; }

    GrammarAutomaton.State state() { return state; }

    /** Whether the output so far is a complete match (an end-of-sequence token may come now). */
    public boolean accepting() { return state.accepting; }

    /** Whether any more text can follow. */
    public boolean canContinue() { return state.canContinue; }

    /**
     * Moves past a token's bytes; throws {@link IllegalStateException} if the grammar rejects them
     * (the mask should have prevented it) and then stays where it was.
     */
    public void advance(byte[] tokenBytes, int tokenId) {
        if (tokenBytes == null) throw new IllegalStateException("token " + tokenId + " has no text a grammar can match");
        GrammarAutomaton a = grammar.automaton();
        GrammarAutomaton.State s = state;
        for (byte b : tokenBytes) {
            s = a.step(s, b & 0xFF);
            if (s == GrammarAutomaton.DEAD) throw new IllegalStateException("token " + tokenId + " is not allowed by the output grammar here");
        }
        state = s;
    }

    /** Whether these bytes could come next (does not move). */
    public boolean allows(byte[] bytes) {
        GrammarAutomaton a = grammar.automaton();
        GrammarAutomaton.State s = state;
        for (byte b : bytes) {
            s = a.step(s, b & 0xFF);
            if (s == GrammarAutomaton.DEAD) return false;
        }
        return true;
    }
}
