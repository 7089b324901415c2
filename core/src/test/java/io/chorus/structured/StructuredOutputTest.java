package io.chorus.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.engine.api.InvalidRequestException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StructuredOutputTest {
    private static final String SCHEMA = """
            {"type":"object","properties":{"name":{"type":"string","maxLength":6},"tags":{"type":"array","items":{"enum":["a","é"]},"maxItems":3},
             "n":{"type":"integer","minimum":-5,"maximum":250},"ok":{"type":"boolean"}},"required":["name","n"]}""";

    /** A small vocabulary: every ASCII byte, random pieces, the two halves of 'é', and two special tokens (null). */
    private static TokenVocabulary smallVocab(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        LinkedHashSet<String> pieces = new LinkedHashSet<>();
        List<byte[]> bytes = new ArrayList<>();
        bytes.add(null); // 0: an end-of-sequence token
        bytes.add(null); // 1: a control token
        for (int c = 1; c < 128; c++) bytes.add(new byte[] {(byte) c}); // ids 2..128: byte c has id c + 1
        for (int b = 0x80; b < 0x100; b++) bytes.add(new byte[] {(byte) b}); // every lead and continuation byte
        bytes.add("é".getBytes(StandardCharsets.UTF_8));
        String alphabet = "\"{}[]:, \\nametgsok1239-é";
        while (pieces.size() < 400) {
            int len = 2 + r.nextInt(5);
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < len; i++) b.append(alphabet.charAt(r.nextInt(alphabet.length())));
            pieces.add(b.toString());
        }
        for (String p : List.of("{\"", "name", "\":\"", "\",\"", "\"n\":", "\"ok\":", "true", "}", "\"tags\":[\"")) pieces.add(p);
        for (String p : pieces) bytes.add(p.getBytes(StandardCharsets.UTF_8));
        return new TokenVocabulary(bytes.toArray(new byte[0][]));
    }

    @Test
    void masksEqualBruteForceAlongRandomPaths() {
        TokenVocabulary vocab = smallVocab(7);
        int modelVocab = vocab.size() + 3; // logits wider than the tokenizer, as Qwen's are
        StructuredOutput so = new StructuredOutput(vocab, modelVocab);
        CompiledGrammar g = so.compile(GrammarSpec.jsonSchema(SCHEMA));
        int[] ends = {0};
        int checkedStates = 0, finished = 0;
        for (int path = 0; path < 40; path++) {
            SplittableRandom r = new SplittableRandom(100 + path);
            GrammarMatcher m = g.newMatcher();
            for (int step = 0; step < 200; step++) {
                float[] logits = new float[modelVocab + 5];
                Arrays.fill(logits, 1f);
                StructuredOutput.Outcome o = so.constrain(m, logits, 5, ends, true);
                List<Integer> allowed = new ArrayList<>();
                for (int id = 0; id < modelVocab; id++) {
                    boolean brute = id == 0 ? m.accepting() : vocab.bytes(id) != null && m.allows(vocab.bytes(id));
                    assertThat(logits[5 + id] == 1f).as("path %d step %d token %d", path, step, id).isEqualTo(brute);
                    if (brute) allowed.add(id);
                }
                for (int k = 0; k < 5; k++) assertThat(logits[k]).isEqualTo(1f); // outside the row: untouched
                checkedStates++;
                assertThat(o).isEqualTo(StructuredOutput.Outcome.OK);
                int pick = allowed.get(r.nextInt(allowed.size()));
                if (pick == 0) {
                    finished++;
                    break;
                }
                m.advance(vocab.bytes(pick), pick);
            }
        }
        assertThat(checkedStates).isGreaterThan(400);
        assertThat(finished).isGreaterThan(10);
    }

    @Test
    void endTokensOnlyWhenTheOutputIsComplete() {
        TokenVocabulary vocab = smallVocab(3);
        StructuredOutput so = new StructuredOutput(vocab, vocab.size());
        GrammarMatcher m = so.compile(GrammarSpec.choice(List.of("ok", "okay"))).newMatcher();
        int[] ends = {0};
        float[] logits = new float[vocab.size()];
        Arrays.fill(logits, 2f);
        so.constrain(m, logits, 0, ends, true);
        assertThat(logits[0]).isEqualTo(Float.NEGATIVE_INFINITY);
        int o = 'o' - 1 + 2, k = 'k' - 1 + 2; // ids of the single-byte tokens
        m.advance(vocab.bytes(o), o);
        m.advance(vocab.bytes(k), k);
        assertThat(m.accepting()).isTrue();
        Arrays.fill(logits, 2f);
        assertThat(so.constrain(m, logits, 0, ends, true)).isEqualTo(StructuredOutput.Outcome.OK);
        assertThat(logits[0]).isEqualTo(2f); // "ok" is complete: EOS allowed
        assertThat(logits['a' - 1 + 2]).isEqualTo(2f); // and "okay" may go on
        assertThat(logits['x' - 1 + 2]).isEqualTo(Float.NEGATIVE_INFINITY);
        Arrays.fill(logits, 2f);
        so.constrain(m, logits, 0, ends, false); // min_tokens or ignore_eos: no EOS
        assertThat(logits[0]).isEqualTo(Float.NEGATIVE_INFINITY);
        for (char c : "ay".toCharArray()) m.advance(vocab.bytes(c - 1 + 2), c - 1 + 2);
        Arrays.fill(logits, 2f);
        assertThat(so.constrain(m, logits, 0, ends, true)).isEqualTo(StructuredOutput.Outcome.OK);
        for (int id = 1; id < vocab.size(); id++) assertThat(logits[id]).as("%d", id).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(so.constrain(m, logits, 0, ends, false)).isEqualTo(StructuredOutput.Outcome.COMPLETE);
    }

    @Test
    void aRejectedTokenLeavesTheMatcherWhereItWas() {
        TokenVocabulary vocab = smallVocab(3);
        StructuredOutput so = new StructuredOutput(vocab, vocab.size());
        GrammarMatcher m = so.compile(GrammarSpec.regex("[0-9]+")).newMatcher();
        int x = 'x' - 1 + 2;
        assertThatThrownBy(() -> m.advance(vocab.bytes(x), x)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> m.advance(null, 1)).isInstanceOf(IllegalStateException.class);
        assertThat(m.allows("12".getBytes(StandardCharsets.UTF_8))).isTrue();
    }

    @Test
    void compiledGrammarsAreCachedBySpecAndBadSpecsRefused() {
        StructuredOutput so = new StructuredOutput(smallVocab(3), 500);
        CompiledGrammar a = so.compile(GrammarSpec.jsonSchema(SCHEMA));
        assertThat(so.compile(GrammarSpec.jsonSchema(SCHEMA))).isSameAs(a);
        assertThat(so.compile(GrammarSpec.jsonObject())).isNotSameAs(a);
        assertThatThrownBy(() -> so.compile(GrammarSpec.gbnf("root ::= [^\\x00-\\U0010FFFF]\n")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("matches nothing");
        assertThatThrownBy(() -> so.compile(GrammarSpec.regex("a(?!b)"))).isInstanceOf(InvalidRequestException.class);
    }
}
