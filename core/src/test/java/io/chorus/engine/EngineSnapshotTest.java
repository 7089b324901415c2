package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.EngineSnapshot;
import io.chorus.engine.api.EngineSnapshot.Phase;
import io.chorus.engine.api.EngineSnapshot.SequenceStatus;
import io.chorus.engine.api.SamplingParams;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class EngineSnapshotTest {
    private static final int VOCAB = 256;
    private static final int BS = 16;

    private static int[] prompt(int len, int offset) {
        return IntStream.range(0, len).map(i -> (i * 7 + offset) % VOCAB).toArray();
    }

    private static List<String> rows(EngineSnapshot s) {
        return s.sequences().stream().map(q -> q.requestId() + "#" + q.index() + " " + q.phase() + " prompt " + q.promptTokens()
                + " computed " + q.computedTokens() + " generated " + q.generatedTokens()).toList();
    }

    @Test
    void anUnwatchedLoopBuildsNoSnapshotWhileBusyAndAWatchedOneShowsEveryPhaseAndTheBlocks() {
        Harness h = new Harness(VOCAB, BS, 16, Harness.config(2, 24, 256, true));
        EngineSnapshot initial = h.loop.snapshot();
        assertThat(initial.kvBlocksTotal()).isEqualTo(16);
        assertThat(initial.sequences()).isEmpty();
        // Nobody has asked since long ago as far as the loop knows: pretend the last reader left.
        h.loop.forgetSnapshotReaders();
        h.submit(new EngineRequest("a", prompt(40, 0), SamplingParams.greedy(5)));
        h.submit(new EngineRequest("b", prompt(10, 3), SamplingParams.greedy(3)));
        h.submit(new EngineRequest("c", prompt(8, 5), SamplingParams.greedy(2)));
        assertThat(h.loop.step()).isTrue();
        EngineSnapshot unwatched = h.loop.snapshot();
        assertThat(unwatched).isSameAs(initial); // built nothing while busy and unwatched

        assertThat(h.loop.step()).isTrue(); // watched from the call above on
        EngineSnapshot s = h.loop.snapshot();
        assertThat(s.stats()).isSameAs(h.loop.stats());
        assertThat(s.stats().steps()).isEqualTo(2);
        assertThat(rows(s)).containsExactly(
                "a#0 DECODE prompt 40 computed 40 generated 1",
                "b#0 PREFILL prompt 10 computed 8 generated 0",
                "c#0 WAITING prompt 8 computed 0 generated 0");
        assertThat(s.kvBlocksTotal()).isEqualTo(16);
        assertThat(s.kvBlocksUsed()).isEqualTo(4);   // a: 40 tokens in 3 blocks, b: 8 tokens in 1
        assertThat(s.kvBlocksCached()).isEqualTo(2); // a's two full blocks
        assertThat(s.sequences()).extracting(SequenceStatus::arrivalNanos).doesNotContain(0L);

        h.runToCompletion();
        EngineSnapshot idle = h.loop.snapshot();
        assertThat(idle.sequences()).isEmpty();
        assertThat(idle.kvBlocksUsed()).isZero();
        assertThat(idle.stats().running()).isZero();
        assertThat(idle.stats().generationTokens()).isEqualTo(5 + 3 + 2);
    }

    @Test
    void goingIdlePublishesASnapshotEvenWhenNobodyWatches() {
        Harness h = new Harness(VOCAB, BS, 16, Harness.config(4, 64, 256, true));
        h.loop.forgetSnapshotReaders();
        h.submit(new EngineRequest("a", prompt(20, 1), SamplingParams.greedy(4)));
        h.runToCompletion();
        long steps = h.loop.stats().steps();
        EngineSnapshot idle = h.loop.snapshot();
        assertThat(idle.stats().steps()).isEqualTo(steps).isEqualTo(4);
        assertThat(idle.stats().generationTokens()).isEqualTo(4);
        assertThat(idle.sequences()).isEmpty();
        assertThat(idle.kvBlocksUsed()).isZero();
        assertThat(idle.kvBlocksCached()).isEqualTo(1); // the prompt's one full block stays reusable
    }
}
