package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.EngineClient;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.FinishReason;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.kv.BlockPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The engine on its own thread, used from virtual threads as the server does. */
class EngineClientTest {
    private static final int VOCAB = 256;

    @Test
    @Timeout(20)
    void manyVirtualThreadsStreamTheirOwnOutputs() throws Exception {
        FakeForwardPass model = new FakeForwardPass(VOCAB, 16, 24);
        model.delayEachStep(1_000_000);
        EngineClient engine = Engine.start(Harness.config(8, 48, 256, true), model);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                int k = i;
                done.add(pool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(k);
                    int[] prompt = r.ints(1 + r.nextInt(60), 0, VOCAB).toArray();
                    SamplingParams sp = k % 3 == 0 ? SamplingParams.random(0.9, (long) k, 30).withN(2) : SamplingParams.greedy(30);
                    RequestHandle h = engine.submit(new EngineRequest("t" + k, prompt, sp));
                    List<List<Integer>> tokens = List.of(new ArrayList<>(), new ArrayList<>());
                    int finished = 0;
                    for (RequestOutput out; (out = h.next(Duration.ofSeconds(10))) != null; ) {
                        for (int t : out.newTokenIds()) tokens.get(out.index()).add(t);
                        if (out.finished()) {
                            finished++;
                            assertThat(out.finishReason()).isEqualTo(FinishReason.LENGTH);
                            assertThat(out.timings().firstTokenNanos()).isBetween(out.timings().arrivalNanos(), out.timings().finishNanos());
                        }
                    }
                    assertThat(finished).isEqualTo(sp.n());
                    for (int i2 = 0; i2 < sp.n(); i2++) {
                        int[] expected = Harness.reference(prompt, sp, k, i2, VOCAB, List.of());
                        assertThat(tokens.get(i2)).containsExactly(java.util.Arrays.stream(expected).boxed().toArray(Integer[]::new));
                    }
                    return null;
                }));
            }
            // One more that the client abandons mid-stream.
            RequestHandle gone = engine.submit(new EngineRequest("gone", new int[] {1, 2, 3}, SamplingParams.greedy(250)));
            assertThat(gone.next(Duration.ofSeconds(10)).finished()).isFalse();
            gone.abort();
            RequestOutput last;
            do last = gone.next(Duration.ofSeconds(10)); while (!last.finished());
            assertThat(last.finishReason()).isEqualTo(FinishReason.ABORT);
            assertThat(gone.next(Duration.ofSeconds(1))).isNull();
            for (Future<?> f : done) f.get();
        }
        while (engine.stats().running() + engine.stats().waiting() > 0) Thread.sleep(5);
        engine.close();
        assertThat(engine.stats().kvUsage()).isZero();
        assertThat(engine.stats().finishedLength()).isEqualTo(16 + 8 * 2);
        assertThat(engine.stats().finishedAbort()).isEqualTo(1);
        BlockPool pool = ((EngineLoop) engine).scheduler().kv().pool();
        assertThat(pool.numFreeBlocks()).isEqualTo(pool.numBlocks());
    }

    @Test
    @Timeout(10)
    void closeAbortsWhatIsLeft() throws Exception {
        FakeForwardPass model = new FakeForwardPass(VOCAB, 16, 64);
        EngineClient engine = Engine.start(Harness.config(8, 48, 4096, true), model);
        RequestHandle h = engine.submit(new EngineRequest("long", new int[] {1}, SamplingParams.greedy(1000).withIgnoreEos(true)));
        h.next(Duration.ofSeconds(5));
        engine.close();
        RequestOutput last;
        do last = h.next(Duration.ofSeconds(5)); while (!last.finished());
        assertThat(last.finishReason()).isIn(FinishReason.ABORT, FinishReason.LENGTH);
        BlockPool pool = ((EngineLoop) engine).scheduler().kv().pool();
        assertThat(pool.numFreeBlocks()).isEqualTo(pool.numBlocks());
    }
}
