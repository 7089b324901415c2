package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.FinishReason;
import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.structured.GrammarSpec;
import io.chorus.structured.TokenVocabulary;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Constrained requests through the real engine loop over the fake model: EOS rule, n > 1, preemption, batch neighbours. */
class ConstrainedEngineTest {
    private static final int VOCAB = 64;
    private static final int EOS = 0;
    private static final String SCHEMA = """
            {"type":"object","properties":{"a":{"type":"integer","minimum":0,"maximum":99},"b":{"enum":["x","yz"]}},"required":["a","b"]}""";
    private static final List<String> PIECES = List.of("{", "}", "\"", ":", ",", " ", "\n", "a", "b", "x", "y", "z",
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "{\"", "\":", "\",\"", "\"}", "12", "yz", "ab", "q", "\"a\":", "\"b\": \"");

    /** Ids: 0 EOS, 1 a control token, then the pieces, then filler no grammar here allows ("#"). */
    static TokenVocabulary vocabulary() {
        byte[][] b = new byte[VOCAB][];
        for (int i = 0; i < PIECES.size(); i++) b[2 + i] = PIECES.get(i).getBytes(StandardCharsets.UTF_8);
        for (int i = 2 + PIECES.size(); i < VOCAB; i++) b[i] = "#".getBytes(StandardCharsets.UTF_8);
        return new TokenVocabulary(b);
    }

    static String text(int[] tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int t : tokens) if (t >= 2 && t < 2 + PIECES.size()) out.writeBytes(PIECES.get(t - 2).getBytes(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    private static EngineConfig config(int maxSeqs) {
        return new EngineConfig(maxSeqs, 64, 512, true, SchedulingPolicy.FCFS, List.of(EOS));
    }

    private static Harness harness(int numBlocks, int maxSeqs) {
        return new Harness(VOCAB, 16, numBlocks, config(maxSeqs), new TemperatureSampler(), vocabulary());
    }

    private static SamplingParams constrained(long seed, int n) {
        return SamplingParams.builder().temperature(1.0).seed(seed).maxTokens(80).n(n)
                .grammar(GrammarSpec.jsonSchema(SCHEMA)).build();
    }

    private static int[] prompt(long seed, int len) {
        return new SplittableRandom(seed).ints(len, 2, VOCAB).toArray();
    }

    private static void assertValid(String json) throws Exception {
        JsonNode v = new ObjectMapper().readTree(json);
        assertThat(v.size()).as(json).isEqualTo(2);
        assertThat(v.get("a").isInt() && v.get("a").asInt() >= 0 && v.get("a").asInt() <= 99).as(json).isTrue();
        assertThat(v.get("b").asText()).as(json).isIn("x", "yz");
    }

    @Test
    void everyCompletionIsValidAndEndsWithEosExactlyWhenComplete() throws Exception {
        Harness h = harness(256, 16);
        for (int i = 0; i < 12; i++) h.submit(new EngineRequest("r" + i, prompt(i, 5 + i), constrained(i, 1)));
        h.runToCompletion();
        for (int i = 0; i < 12; i++) {
            int[] t = h.tokens("r" + i, 0);
            assertThat(h.last("r" + i, 0).finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(t[t.length - 1]).isEqualTo(EOS);
            for (int k = 0; k < t.length - 1; k++) assertThat(t[k]).isNotEqualTo(EOS).isNotEqualTo(1);
            assertValid(text(t));
        }
    }

    @Test
    void parallelSamplesEachFollowTheGrammarFromTheStart() throws Exception {
        Harness h = harness(256, 16);
        h.submit(new EngineRequest("p", prompt(99, 21), constrained(5, 4)));
        h.runToCompletion();
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            assertThat(h.last("p", i).finishReason()).isEqualTo(FinishReason.STOP);
            String s = text(h.tokens("p", i));
            assertValid(s);
            texts.add(s);
        }
        assertThat(texts).doesNotHaveDuplicates(); // four seeds, four different walks through the grammar
    }

    @Test
    void preemptionAndRecomputeKeepTheGrammarState() {
        List<EngineRequest> reqs = new ArrayList<>();
        for (int i = 0; i < 8; i++) reqs.add(new EngineRequest("r" + i, prompt(40 + i, 20 + 3 * i), constrained(7 + i, 1)));
        Harness roomy = harness(256, 16);
        for (EngineRequest r : reqs) roomy.submit(r);
        roomy.runToCompletion();
        Harness tight = harness(9, 16);
        for (EngineRequest r : reqs) tight.submit(r);
        tight.runToCompletion();
        assertThat(tight.loop.stats().preemptions()).isPositive();
        for (EngineRequest r : reqs) {
            assertThat(tight.tokens(r.requestId(), 0)).isEqualTo(roomy.tokens(r.requestId(), 0));
            assertThat(tight.last(r.requestId(), 0).finishReason()).isEqualTo(FinishReason.STOP);
        }
    }

    @Test
    void anUnconstrainedNeighbourIsUnchanged() {
        SamplingParams free = SamplingParams.builder().temperature(1.0).seed(3L).maxTokens(20).build();
        int[] p = prompt(5, 9);
        Harness alone = harness(256, 16);
        alone.submit(new EngineRequest("u", p, free));
        alone.runToCompletion();
        Harness mixed = harness(256, 16);
        mixed.submit(new EngineRequest("c", prompt(6, 9), constrained(1, 1)));
        mixed.submit(new EngineRequest("u", p, free));
        mixed.runToCompletion();
        assertThat(mixed.tokens("u", 0)).isEqualTo(alone.tokens("u", 0));
        assertThat(mixed.tokens("u", 0)).isEqualTo(Harness.reference(p, free, 3L, 0, VOCAB, List.of(EOS)));
    }

    @Test
    void withoutEosACompleteMatchStopsTheSequence() {
        Harness h = harness(256, 4);
        SamplingParams sp = SamplingParams.builder().temperature(1.0).seed(1L).maxTokens(50).ignoreEos(true)
                .grammar(GrammarSpec.choice(List.of("yz", "ab"))).build();
        h.submit(new EngineRequest("c", prompt(1, 4), sp));
        h.runToCompletion();
        RequestOutput last = h.last("c", 0);
        assertThat(last.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(last.newTokenIds()).isEmpty(); // nothing sampled: the grammar ended the sequence
        assertThat(text(h.tokens("c", 0))).isIn("yz", "ab");
    }

    @Test
    void aGrammarNoTokenCanContinueFailsOnlyThatRequest() {
        Harness h = harness(256, 4);
        SamplingParams sp = SamplingParams.builder().temperature(1.0).seed(1L).maxTokens(50)
                .grammar(GrammarSpec.regex("a[#]?w")).build(); // no token spells "w"
        h.submit(new EngineRequest("dead", prompt(1, 4), sp));
        h.submit(new EngineRequest("ok", prompt(2, 4), constrained(2, 1)));
        h.runToCompletion();
        RequestOutput last = h.last("dead", 0);
        assertThat(last.finishReason()).isEqualTo(FinishReason.ERROR);
        assertThat(last.error()).isEqualTo(EngineLoop.GRAMMAR_DEAD_END);
        assertThat(h.last("ok", 0).finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void badGrammarsAndEnginesWithoutAVocabularyRefuseAtSubmit() {
        Harness h = harness(64, 4);
        SamplingParams bad = SamplingParams.builder().grammar(GrammarSpec.gbnf("root ::= undefined\n")).build();
        assertThatThrownBy(() -> h.loop.submit(new EngineRequest("x", prompt(1, 3), bad)))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("'undefined'");
        assertThat(h.loop.hasLiveRequests()).isFalse();
        Harness plain = new Harness(VOCAB, 16, 64, config(4));
        assertThatThrownBy(() -> plain.loop.submit(new EngineRequest("y", prompt(1, 3), constrained(1, 1))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("cannot constrain");
    }
}
