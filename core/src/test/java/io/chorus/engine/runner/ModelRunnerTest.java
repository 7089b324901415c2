package io.chorus.engine.runner;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.TokenLogprobs;
import io.chorus.engine.kv.BlockCopy;
import io.chorus.engine.request.OutputQueue;
import io.chorus.engine.request.RequestState;
import io.chorus.engine.request.Sequence;
import io.chorus.engine.sched.ScheduledSeq;
import io.chorus.engine.sched.SchedulerOutput;
import io.chorus.model.Batch;
import io.chorus.model.ForwardPass;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelRunnerTest {
    /** Records what it was given; logits row j puts its maximum at token 10 + j. */
    static class Recorder implements ForwardPass {
        final List<String> events = new ArrayList<>();
        @Override public int vocabSize() { return 32; }
        @Override public int blockSize() { return 4; }
        @Override public int numBlocks() { return 16; }

        @Override
        public void copyBlocks(int[] src, int[] dst, int count) {
            for (int i = 0; i < count; i++) events.add("copy " + src[i] + "->" + dst[i]);
        }

        @Override
        public void forward(Batch b, float[] logits) {
            StringBuilder sb = new StringBuilder("forward");
            for (int i = 0; i < b.numTokens(); i++) sb.append(' ').append(b.token(i)).append('@').append(b.position(i)).append('/').append(b.slot(i));
            sb.append(" logits");
            for (int j = 0; j < b.numLogits(); j++) {
                sb.append(' ').append(b.logitsRow(j));
                logits[j * 32 + 10 + j] = 1;
            }
            events.add(sb.toString());
        }
    }

    private static Sequence seq(String id, int[] prompt, SamplingParams sp) {
        RequestState r = new RequestState(new EngineRequest(id, prompt, sp), 0, 0, new OutputQueue(id, 1, (x, i) -> {}));
        return new Sequence(r, 0, SamplingState.seeded(sp, 0, 0), 1);
    }

    @Test
    void buildsOneBatchCopiesFirstAndSamplesOnlyFinishedRows() {
        Recorder model = new Recorder();
        ModelRunner runner = new ModelRunner(model, new GreedySampler(), List.of(11));
        Sequence a = seq("a", new int[] {1, 2, 3, 4, 5, 6}, SamplingParams.greedy(5));
        Sequence b = seq("b", new int[] {7, 8, 9}, SamplingParams.greedy(5).withMinTokens(1));
        Sequence c = seq("c", new int[] {20, 21}, SamplingParams.greedy(5));
        SchedulerOutput plan = new SchedulerOutput(List.of(
                new ScheduledSeq(a, 2, 3, new int[] {5, 6}, false),
                new ScheduledSeq(b, 0, 3, new int[] {9}, true),
                new ScheduledSeq(c, 1, 1, new int[] {3}, true)),
                List.of(new BlockCopy(1, 9)), List.of(), 7);
        StepResult result = runner.execute(plan);
        assertThat(model.events).containsExactly(
                "copy 1->9",
                "forward 3@2/22 4@3/23 5@4/24 7@0/36 8@1/37 9@2/38 21@1/13 logits 5 6");
        // b's row has its maximum at 10; c's at 11, the EOS, which b could not have sampled yet but c can.
        assertThat(sampledIds(result)).containsExactly(-1, 10, 11);
        assertThat(result.logprobs(1)).as("no logprobs asked").isNull();
        assertThat(result.promptLogprobs(0)).isEmpty();
    }

    @Test
    void masksEosAndStopTokensBeforeMinTokens() {
        Recorder model = new Recorder() {
            @Override
            public void forward(Batch b, float[] logits) {
                logits[11] = 3;
                logits[12] = 2;
                logits[13] = 1;
            }
        };
        ModelRunner runner = new ModelRunner(model, new GreedySampler(), List.of(11));
        Sequence s = seq("s", new int[] {1}, SamplingParams.greedy(5).withMinTokens(1).withStopTokenIds(List.of(12)));
        SchedulerOutput plan = new SchedulerOutput(List.of(new ScheduledSeq(s, 0, 1, new int[] {0}, true)), List.of(), List.of(), 1);
        assertThat(sampledIds(runner.execute(plan))).containsExactly(13);
        Sequence ignoring = seq("i", new int[] {1}, SamplingParams.greedy(5).withMinTokens(1).withIgnoreEos(true));
        plan = new SchedulerOutput(List.of(new ScheduledSeq(ignoring, 0, 1, new int[] {0}, true)), List.of(), List.of(), 1);
        assertThat(sampledIds(runner.execute(plan))).containsExactly(11);
    }

    @Test
    void asksLogitsForEveryPromptRowWhenPromptLogprobsAreWantedAndFillsTheRequest() {
        Recorder model = new Recorder();
        ModelRunner runner = new ModelRunner(model, new GreedySampler(), List.of());
        SamplingParams sp = SamplingParams.builder().temperature(0).maxTokens(3).promptLogprobs(2).logprobs(1).build();
        Sequence s = seq("p", new int[] {1, 2, 3, 4, 5, 6}, sp);
        StepResult first = runner.execute(new SchedulerOutput(List.of(new ScheduledSeq(s, 0, 4, new int[] {0, 1}, false)), List.of(), List.of(), 4));
        StepResult second = runner.execute(new SchedulerOutput(List.of(new ScheduledSeq(s, 4, 2, new int[] {0, 1}, true)), List.of(), List.of(), 2));
        // Chunk one: positions 0..3 predict prompt tokens 1..4; chunk two: position 4 predicts token 5, position 5 is sampled.
        assertThat(model.events).containsExactly(
                "forward 1@0/0 2@1/1 3@2/2 4@3/3 logits 0 1 2 3",
                "forward 5@4/4 6@5/5 logits 0 1");
        assertThat(sampledIds(second)).containsExactly(11); // the second logits row of that step
        assertThat(first.sampled(0)).isEqualTo(-1);
        assertThat(second.logprobs(0).tokenId()).isEqualTo(11);
        assertThat(second.logprobs(0).rank()).isEqualTo(1);
        assertThat(first.promptLogprobsFrom(0)).isEqualTo(1);
        assertThat(first.promptLogprobs(0)).hasSize(4);
        assertThat(second.promptLogprobsFrom(0)).isEqualTo(5);
        assertThat(second.promptLogprobs(0)).hasSize(1);
        for (int j = 1; j < 6; j++) {
            TokenLogprobs lp = j < 5 ? first.promptLogprobs(0).get(j - 1) : second.promptLogprobs(0).get(0);
            assertThat(lp.tokenId()).isEqualTo(j + 1);
            assertThat(lp.topIds()).hasSize(2);
        }
        assertThat(first.promptLogprobs(0).get(0).topIds()[0]).isEqualTo(10); // first row of the first step
        assertThat(second.promptLogprobs(0).get(0).topIds()[0]).isEqualTo(10); // first row of the second step
        // The runner returns prompt logprobs and leaves the request alone: the engine loop applies them.
        assertThat(s.needsPromptLogprobs()).isTrue();
        assertThat(s.request().takePromptLogprobs()).containsOnlyNulls();
    }

    private static int[] sampledIds(StepResult r) {
        int[] ids = new int[r.numSeqs()];
        for (int i = 0; i < ids.length; i++) ids[i] = r.sampled(i);
        return ids;
    }
}
