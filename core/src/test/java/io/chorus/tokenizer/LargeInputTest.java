package io.chorus.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A 100 KB prompt encodes correctly (timing is printed, never asserted; see TokenizerBench). */
class LargeInputTest {
    static String text100k() {
        String[] parts = {
                "The quick brown fox jumps over the lazy dog. ", "Numbers 1234567 and 3.14159, ",
                "naïve café résumé Straße, ", "你好，世界！这是一个测试。", "안녕하세요 세계 ", "emoji 🦙👍🏽 ",
                "def f(x):\n    return x**2  # square\n", "\n\n", "    indented   spaces   ", "don't we'll they're ",
                "Привет мир! ", "<|im_start|> not special here ", "\t tabs\t",
        };
        StringBuilder sb = new StringBuilder();
        java.util.Random rnd = new java.util.Random(42);
        while (sb.length() < 100_000) sb.append(parts[rnd.nextInt(parts.length)]);
        return sb.toString();
    }

    private static void check(Tokenizer t, String name) {
        String text = text100k();
        long t0 = System.nanoTime();
        int[] ids = t.encode(text, false, false);
        long t1 = System.nanoTime();
        assertThat(t.decode(ids)).isEqualTo(RoundTripPropertyTest.expectedRoundTrip(t, text));
        System.out.printf("%s: 100 KB -> %d tokens, first encode %.1f ms%n", name, ids.length, (t1 - t0) / 1e6);
    }

    @Test
    void inTestVocabularies() {
        check(TestVocabs.spm(), "in-test spm");
        check(TestVocabs.bpe("qwen2"), "in-test bpe");
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "gpt-2", "qwen2-rebuilt", "llama3-rebuilt"})
    void fixtureVocabularies(String vocab) {
        check(FixtureVocabTest.tokenizer(vocab), vocab);
    }

    @Test
    void oneLongWordAndLongWhitespace() {
        Tokenizer t = TestVocabs.bpe("llama-bpe");
        String word = "hello".repeat(20_000);
        assertThat(t.decode(t.encode(word, false, false))).isEqualTo(word);
        String spaces = " ".repeat(50_000) + "x" + "\n".repeat(50_000);
        assertThat(t.decode(t.encode(spaces, false, false))).isEqualTo(SpaceCleaner.clean(spaces));
        Tokenizer spm = TestVocabs.spm();
        assertThat(spm.decode(spm.encode(word, false, false))).isEqualTo(word);
    }
}
