package io.chorus.engine.sched;

import io.chorus.engine.kv.BlockCopy;
import io.chorus.engine.request.Sequence;
import java.util.List;

/**
 * The immutable plan of one step.
 *
 * @param seqs       work per sequence: running decodes first, then running prefills, then new admissions
 * @param copies     block copies (copy-on-write) to run before the forward pass, in order
 * @param preempted  sequences preempted this step (back in the waiting queue, computed tokens reset)
 * @param numTokens  total tokens of the step's batch
 */
public record SchedulerOutput(List<ScheduledSeq> seqs, List<BlockCopy> copies, List<Sequence> preempted, int numTokens) {
    public SchedulerOutput {
        seqs = List.copyOf(seqs);
        copies = List.copyOf(copies);
        preempted = List.copyOf(preempted);
    }

    public boolean isEmpty() { return seqs.isEmpty(); }
}
