package io.chorus.engine.sched;

import io.chorus.engine.request.Sequence;

/**
 * One sequence's work in a step: compute positions {@code [startPos, startPos + numTokens)} of its
 * known tokens, reading and writing through {@code blockTable}, and sample the next token if
 * {@code sample} (the step reaches the end of its known tokens).
 */
public record ScheduledSeq(Sequence seq, int startPos, int numTokens, int[] blockTable, boolean sample) {
    public int endPos() { return startPos + numTokens; }
}
