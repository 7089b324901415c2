package io.chorus.engine.runner;

import io.chorus.engine.api.TokenLogprobs;
import io.chorus.engine.kv.BlockCopy;
import io.chorus.engine.request.Sequence;
import io.chorus.engine.sched.ScheduledSeq;
import io.chorus.engine.sched.SchedulerOutput;
import io.chorus.model.Batch;
import io.chorus.model.ForwardPass;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs one step's plan: block copies, one flat {@link Batch}, one forward pass, and a sample for every
 * sequence that reached the end of its known tokens. Logits are requested only for those rows, plus
 * the prompt rows of a request that asked for prompt logprobs.
 *
 * <p>Per sampled row: the sequence's token counts are brought up to date, the raw row is copied if
 * logprobs were asked (they describe the raw distribution), the {@link LogitsProcessor} applies masks,
 * bias and penalties, and the sampler picks the token.
 *
 * <p>Implementation notes: the batch, logits buffer, raw-row copy, copy arrays and the logprobs of
 * the last step are reused step after step and grow only when a step is larger than any before, so
 * nothing is allocated per token beyond the logprobs results asked for. The runner reads sequences
 * and changes only their sampling state (random generator, token counts) and their request's prompt
 * logprobs; the engine loop applies the rest. Engine loop thread only.
 */
public final class ModelRunner {
    private static final Logger LOG = Logger.getLogger(ModelRunner.class.getName());
    private final ForwardPass model;
    private final Sampler sampler;
    private final LogitsProcessor processor;
    private final LogprobsComputer logprobs = new LogprobsComputer();
    private final int vocab;
    private final Batch batch = new Batch();
    private float[] logits = new float[0]; // [numLogits][vocab]
    private float[] rawRow = new float[0]; // [vocab] the row before processing, when logprobs are asked
    private TokenLogprobs[] sampledLogprobs = new TokenLogprobs[16]; // [seqs of the last step]
    private int[] copySrc = new int[8];
    private int[] copyDst = new int[8];

    public ModelRunner(ForwardPass model, Sampler sampler, List<Integer> eosTokenIds) {
        this.model = model;
        this.sampler = sampler;
        this.processor = new LogitsProcessor(eosTokenIds.stream().mapToInt(Integer::intValue).toArray());
        this.vocab = model.vocabSize();
    }

    public ForwardPass model() { return model; }

    private long lastModelNanos;

    /** Time the last {@link #execute} spent inside the model's forward pass alone. */
    public long lastModelNanos() { return lastModelNanos; }

    /** In {@link #execute}'s result: sampling (or prompt logprobs) failed for this sequence. */
    public static final int FAILED = -2;

    /**
     * Runs {@code plan} and returns, for each of its sequences in order, the sampled token, -1 when
     * it does not sample this step, or {@link #FAILED} when its sampling threw (logged here). Throws
     * whatever the model throws.
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
        if (sampledLogprobs.length < seqs.size()) sampledLogprobs = new TokenLogprobs[Math.max(seqs.size(), sampledLogprobs.length * 2)];
        Arrays.fill(sampledLogprobs, null);
        if (seqs.isEmpty()) return sampled;
        batch.clear();
        int blockSize = model.blockSize();
        for (ScheduledSeq w : seqs) {
            int s = batch.addSequence(w.blockTable(), blockSize, w.seq().tokenArray(), w.startPos(), w.numTokens(), w.startPos());
            int promptRows = promptRows(w);
            for (int k = 0; k < promptRows; k++) batch.addLogitsRow(batch.seqStart(s) + k);
            if (w.sample()) batch.addLogitsForLastToken();
        }
        int need = batch.numLogits() * vocab;
        if (logits.length < need) logits = new float[need];
        long t0 = System.nanoTime();
        model.forward(batch, logits);
        lastModelNanos = System.nanoTime() - t0;

        int next = 0;
        for (int i = 0; i < seqs.size(); i++) {
            ScheduledSeq w = seqs.get(i);
            Sequence s = w.seq();
            int promptRows = promptRows(w);
            int row = next;
            next += promptRows + (w.sample() ? 1 : 0);
            // A failure here belongs to this sequence's request alone: the others in the batch go on.
            try {
                for (int k = 0; k < promptRows; k++) {
                    int predicted = w.startPos() + k + 1; // the row at position p predicts prompt token p + 1
                    s.request().setPromptLogprobs(predicted, logprobs.compute(logits, row++ * vocab, vocab,
                            s.token(predicted), s.request().request().sampling().promptLogprobs()));
                }
                if (w.sample()) sampled[i] = sample(s, row * vocab, i);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "sampling failed for request " + s.requestId() + "; failing that request", e);
                sampled[i] = FAILED;
                sampledLogprobs[i] = null;
            }
        }
        return sampled;
    }

    /**
     * The logprobs of the token sampled for sequence {@code i} of the last {@link #execute} plan, or
     * null when it did not sample or did not ask for logprobs.
     */
    public TokenLogprobs logprobs(int i) { return sampledLogprobs[i]; }

    /** Rows of this work whose logits give prompt logprobs: positions up to promptLen - 2, if asked. */
    private static int promptRows(ScheduledSeq w) {
        Sequence s = w.seq();
        if (!s.needsPromptLogprobs()) return 0;
        return Math.max(0, Math.min(w.endPos(), s.promptLen() - 1) - w.startPos());
    }

    private int sample(Sequence s, int offset, int i) {
        SamplingState state = s.sampling();
        state.observe(s.tokenArray(), s.promptLen(), s.numTokens());
        Integer topN = state.params().logprobs();
        if (topN != null) {
            if (rawRow.length < vocab) rawRow = new float[vocab];
            System.arraycopy(logits, offset, rawRow, 0, vocab);
        }
        processor.apply(logits, offset, vocab, state, s.numGenerated());
        int token = sampler.sample(logits, offset, vocab, state);
        if (token < 0 || token >= vocab) { // a bad id would fail the next forward pass for the whole batch
            throw new IllegalStateException("the sampler returned token id " + token + " outside the vocabulary [0, " + vocab + ")");
        }
        if (topN != null) sampledLogprobs[i] = logprobs.compute(rawRow, 0, vocab, token, topN);
        return token;
    }
}
