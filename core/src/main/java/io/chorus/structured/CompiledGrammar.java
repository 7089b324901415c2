package io.chorus.structured;

/**
 * A grammar compiled for one engine's vocabulary: its automaton and the token masks of the states
 * seen so far (cached on the states). Shared by every request with the same {@link GrammarSpec};
 * created on a request thread, then used only by the engine loop thread.
 */
public final class CompiledGrammar {
    private final GrammarSpec spec;
    private final GrammarAutomaton automaton;
    private final long compileNanos;

    CompiledGrammar(GrammarSpec spec, GrammarAutomaton automaton, long compileNanos) {
        this.spec = spec;
        this.automaton = automaton;
        this.compileNanos = compileNanos;
    }

    public GrammarSpec spec() { return spec; }

    /** How long parsing and building the start state took. */
    public long compileNanos() { return compileNanos; }

    GrammarAutomaton automaton() { return automaton; }

    /** A matcher at the start of the grammar, for one new sequence. */
    public GrammarMatcher newMatcher() {
        return new GrammarMatcher(this, automaton.start());
    }
}
