package io.chorus.engine.runner;

import io.chorus.engine.api.TokenLogprobs;
import io.chorus.engine.kv.BlockCopy;
import io.chorus.engine.request.Sequence;
import io.chorus.engine.sched.ScheduledSeq;
import io.chorus.engine.sched.SchedulerOutput;
import io.chorus.model.Batch;
import io.chorus.model.ForwardPass;
import io.chorus.structured.GrammarMatcher;
import io.chorus.structured.StructuredOutput;
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
 * bias and penalties, and the sampler picks the token. A constrained sequence first has every token
 * its grammar does not allow next masked ({@link StructuredOutput}), EOS and stop tokens kept only
 * when its output is a complete match, and its matcher advances past the token picked.
 *
 * <p>Implementation notes: the batch, logits buffer, raw-row copy and copy arrays are reused step
 * after step and grow only when a step is larger than any before; a step allocates its
 * {@link StepResult} (and the logprobs asked for). The runner reads sequences and changes only their
 * sampling state (random generator, token counts); everything it found goes back in the result,
 * which the engine loop applies. Engine loop thread only.
 */
public final class ModelRunner {
    private static final Logger LOG = Logger.getLogger(ModelRunner.class.getName());
    private final ForwardPass model;
    private final Sampler sampler;
    private final LogitsProcessor processor;
    private final LogprobsComputer logprobs = new LogprobsComputer();
    private final StructuredOutput structured; // null: constrained requests are refused
    private final int[] eosIds;
    private final int vocab;
    private final Batch batch = new Batch();
    private float[] logits = new float[0]; // [numLogits][vocab]
    private float[] rawRow = new float[0]; // [vocab] the row before processing, when logprobs are asked
    private float[] hidden = new float[0]; // [numHidden][hiddenSize] final hidden states pooled into embeddings
    private int[] copySrc = new int[8];
    private int[] copyDst = new int[8];

    public ModelRunner(ForwardPass model, Sampler sampler, List<Integer> eosTokenIds) {
        this(model, sampler, eosTokenIds, null);
    }

    public ModelRunner(ForwardPass model, Sampler sampler, List<Integer> eosTokenIds, StructuredOutput structured) {
        this.structured = structured;
        this.eosIds = eosTokenIds.stream().mapToInt(Integer::intValue).toArray();
        this.model = model;
        this.sampler = sampler;
        this.processor = new LogitsProcessor(eosTokenIds.stream().mapToInt(Integer::intValue).toArray());
        this.vocab = model.vocabSize();
    }

    public ForwardPass model() { return model; }

    /** Constrained decoding for this runner's vocabulary, or null when it has none. */
    public StructuredOutput structured() { return structured; }

    /** In a {@link StepResult}: sampling (or prompt logprobs) failed for this sequence. */
    public static final int FAILED = -2;
    /** In a {@link StepResult}: the sequence's output is a complete grammar match that allows nothing more, and no end token may come. */
    public static final int GRAMMAR_COMPLETE = -3;
    /** In a {@link StepResult}: the sequence's grammar allows no token at all here. */
    public static final int GRAMMAR_DEAD_END = -4;

    /**
     * Runs {@code plan} and returns what it produced for each of its sequences, in order; a sequence
     * whose sampling threw gets {@link #FAILED} (logged here). Throws whatever the model throws.
     */
    @SuppressWarnings("unchecked")
    public StepResult execute(SchedulerOutput plan) {
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
        if (seqs.isEmpty()) return new StepResult(sampled, null, null, null, 0);
        batch.clear();
        int blockSize = model.blockSize();
        boolean anyLogprobs = false, anyPromptLogprobs = false, anyEmbedding = false;
        for (ScheduledSeq w : seqs) {
            int s = batch.addSequence(w.blockTable(), blockSize, w.seq().tokenArray(), w.startPos(), w.numTokens(), w.startPos());
            EmbeddingPool pool = w.seq().pool();
            if (pool != null) { // prefill only: the rows its pooling wants, no logits
                for (int k = 0; k < w.numTokens(); k++) {
                    if (pool.wants(w.startPos() + k, w.seq().promptLen())) batch.addHiddenRow(batch.seqStart(s) + k);
                }
                anyEmbedding |= w.sample();
                continue;
            }
            int promptRows = promptRows(w);
            anyPromptLogprobs |= promptRows > 0;
            for (int k = 0; k < promptRows; k++) batch.addLogitsRow(batch.seqStart(s) + k);
            if (w.sample()) {
                batch.addLogitsForLastToken();
                anyLogprobs |= w.seq().sampling().params().logprobs() != null;
            }
        }
        int need = batch.numLogits() * vocab;
        if (logits.length < need) logits = new float[need];
        int width = batch.numHidden() > 0 ? model.hiddenSize() : 0;
        if (hidden.length < batch.numHidden() * width) hidden = new float[batch.numHidden() * width];
        long t0 = System.nanoTime();
        if (batch.numHidden() > 0) model.forward(batch, logits, hidden);
        else model.forward(batch, logits);
        long modelNanos = System.nanoTime() - t0;
        float[][] embeddings = anyEmbedding ? new float[seqs.size()][] : null;
        int hiddenRow = 0;

        TokenLogprobs[] sampledLogprobs = anyLogprobs ? new TokenLogprobs[seqs.size()] : null;
        List<TokenLogprobs>[] prompt = anyPromptLogprobs ? new List[seqs.size()] : null;
        int[] promptFrom = anyPromptLogprobs ? new int[seqs.size()] : null;
        int row = 0;
        for (int i = 0; i < seqs.size(); i++) {
            ScheduledSeq w = seqs.get(i);
            Sequence s = w.seq();
            EmbeddingPool pool = s.pool();
            if (pool != null) {
                if (w.startPos() == 0) pool.reset(width == 0 ? model.hiddenSize() : width);
                for (int k = 0; k < w.numTokens(); k++) {
                    if (pool.wants(w.startPos() + k, s.promptLen())) pool.add(hidden, hiddenRow++ * width, width);
                }
                if (w.sample()) embeddings[i] = pool.finish();
                continue;
            }
            int promptRows = promptRows(w);
            int first = row;
            row += promptRows + (w.sample() ? 1 : 0);
            // A failure here belongs to this sequence's request alone: the others in the batch go on.
            try {
                int r = first;
                if (promptRows > 0) {
                    TokenLogprobs[] lps = new TokenLogprobs[promptRows];
                    int topN = s.request().request().sampling().promptLogprobs();
                    for (int k = 0; k < promptRows; k++) {
                        int predicted = w.startPos() + k + 1; // the row at position p predicts prompt token p + 1
                        lps[k] = logprobs.compute(logits, r++ * vocab, vocab, s.token(predicted), topN);
                    }
                    prompt[i] = List.of(lps);
                    promptFrom[i] = w.startPos() + 1;
                }
                if (!w.sample()) continue;
                sampled[i] = sample(s, r * vocab);
                if (sampledLogprobs != null && sampled[i] >= 0 && s.sampling().params().logprobs() != null) {
                    sampledLogprobs[i] = logprobs.compute(rawRow, 0, vocab, sampled[i], s.sampling().params().logprobs());
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "sampling failed for request " + s.requestId() + "; failing that request", e);
                sampled[i] = FAILED;
                if (sampledLogprobs != null) sampledLogprobs[i] = null;
                if (prompt != null) prompt[i] = null;
            }
        }
        return new StepResult(sampled, sampledLogprobs, prompt, promptFrom, modelNanos, embeddings);
    }

    /** Rows of this work whose logits give prompt logprobs: positions up to promptLen - 2, if asked. */
    private static int promptRows(ScheduledSeq w) {
        Sequence s = w.seq();
        if (!s.needsPromptLogprobs()) return 0;
        return Math.max(0, Math.min(w.endPos(), s.promptLen() - 1) - w.startPos());
    }

    /** Samples one row; when the sequence asked for logprobs, the raw row is left in {@code rawRow}. */
    private int sample(Sequence s, int offset) {
        SamplingState state = s.sampling();
        state.observe(s.tokenArray(), s.promptLen(), s.numTokens());
        if (state.params().logprobs() != null) {
            if (rawRow.length < vocab) rawRow = new float[vocab];
            System.arraycopy(logits, offset, rawRow, 0, vocab);
        }
        GrammarMatcher grammar = state.matcher();
        int[] endIds = null;
        if (grammar != null) {
            endIds = state.endIds(eosIds);
            // EOS as the engine would honour it: not ignored and min_tokens reached (stop tokens alike).
            boolean endAllowed = !state.params().ignoreEos() && s.numGenerated() >= state.params().minTokens();
            switch (structured.constrain(grammar, logits, offset, endIds, endAllowed)) {
                case COMPLETE -> { return GRAMMAR_COMPLETE; }
                case DEAD_END -> { return GRAMMAR_DEAD_END; }
                case OK -> { }
            }
        }
        processor.apply(logits, offset, vocab, state, s.numGenerated());
        int token = sampler.sample(logits, offset, vocab, state);
        if (token < 0 || token >= vocab) { // a bad id would fail the next forward pass for the whole batch
            throw new IllegalStateException("the sampler returned token id " + token + " outside the vocabulary [0, " + vocab + ")");
        }
        if (grammar != null && !contains(endIds, token)) grammar.advance(structured.tokenBytes(token), token);
        return token;
    }

    private static boolean contains(int[] ids, int id) {
        for (int x : ids) if (x == id) return true;
        return false;
    }
}
