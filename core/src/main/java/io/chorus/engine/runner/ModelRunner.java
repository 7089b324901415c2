package io.chorus.engine.runner;

import io.chorus.engine.kv.BlockCopy;
import io.chorus.engine.request.Sequence;
import io.chorus.engine.sched.ScheduledSeq;
import io.chorus.engine.sched.SchedulerOutput;
import io.chorus.model.Batch;
import io.chorus.model.ForwardPass;
import java.util.Arrays;
import java.util.List;

/**
 * Runs one step's plan: block copies, one flat {@link Batch}, one forward pass, and a sample for every
 * sequence that reached the end of its known tokens. Logits are requested only for those rows.
 *
 * <p>Implementation notes: the batch, logits buffer and copy arrays are reused step after step and
 * grow only when a step is larger than any before, so nothing is allocated per token. The runner
 * reads sequences but changes nothing but their random generators; the engine loop applies the
 * result. Engine loop thread only.
 */
public final class ModelRunner {
    private final ForwardPass model;
    private final Sampler sampler;
    private final int[] eosTokenIds;
    private final int vocab;
    private final Batch batch = new Batch();
    private float[] logits = new float[0]; // [numLogits][vocab]
    private int[] copySrc = new int[8];
    private int[] copyDst = new int[8];

    public ModelRunner(ForwardPass model, Sampler sampler, List<Integer> eosTokenIds) {
        this.model = model;
        this.sampler = sampler;
        this.eosTokenIds = eosTokenIds.stream().mapToInt(Integer::intValue).toArray();
        this.vocab = model.vocabSize();
    }

    public ForwardPass model() { return model; }

    /**
     * Runs {@code plan} and returns, for each of its sequences in order, the sampled token or -1 when
     * it does not sample this step. Throws whatever the model throws.
     */
    public int[] execute(SchedulerOutput plan) {
        List<BlockCopy> copies = plan.copies();
        if (!copies.isEmpty()) {
            int n = copies.size();
            if (n > copySrc.length) {
                copySrc = new int[Math.max(n, copySrc.length * 2)];
                copyDst = new int[copySrc.length];
            }
            for (int i = 0; i < n; i++) {
                copySrc[i] = copies.get(i).src();
                copyDst[i] = copies.get(i).dst();
            }
            model.copyBlocks(copySrc, copyDst, n);
        }

        List<ScheduledSeq> seqs = plan.seqs();
        int[] sampled = new int[seqs.size()];
        Arrays.fill(sampled, -1);
        if (seqs.isEmpty()) return sampled;
        batch.clear();
        int blockSize = model.blockSize();
        for (ScheduledSeq w : seqs) {
            batch.addSequence(w.blockTable(), blockSize, w.seq().tokenArray(), w.startPos(), w.numTokens(), w.startPos());
            if (w.sample()) batch.addLogitsForLastToken();
        }
        int need = batch.numLogits() * vocab;
        if (logits.length < need) logits = new float[need];
        model.forward(batch, logits);

        int row = 0;
        for (int i = 0; i < seqs.size(); i++) {
            ScheduledSeq w = seqs.get(i);
            if (!w.sample()) continue;
            int offset = row++ * vocab;
            Sequence s = w.seq();
            SamplingState state = s.sampling();
            if (s.numGenerated() < state.params().minTokens()) maskStops(offset, state);
            sampled[i] = sampler.sample(logits, offset, vocab, state);
        }
        return sampled;
    }

    /** Before min_tokens: EOS (unless ignored) and stop tokens cannot be sampled. */
    private void maskStops(int offset, SamplingState state) {
        if (!state.params().ignoreEos()) {
            for (int id : eosTokenIds) if (id >= 0 && id < vocab) logits[offset + id] = Float.NEGATIVE_INFINITY;
        }
        for (int id : state.params().stopTokenIds()) {
            if (id >= 0 && id < vocab) logits[offset + id] = Float.NEGATIVE_INFINITY;
        }
    }
}
