package io.chorus.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Behaviour on the small in-test vocabularies (no fixtures needed). */
class TokenizerTest {
    private static final Tokenizer SPM = TestVocabs.spm();
    private static final Tokenizer BPE = TestVocabs.bpe("gpt-2");
    private static final Tokenizer BPE_QWEN = TestVocabs.bpe("qwen2");

    private static String[] pieces(Tokenizer t, int[] ids) {
        return Arrays.stream(ids).mapToObj(t::tokenPiece).toArray(String[]::new);
    }

    @Test
    void spmMergesByScoreWithSpacePrefix() {
        int[] ids = SPM.encode("hello world", false, false);
        assertThat(pieces(SPM, ids)).containsExactly("▁hello", "▁world");
        assertThat(SPM.decode(ids)).isEqualTo("hello world");
        assertThat(SPM.encode("hello world", true, false)[0]).isEqualTo(SPM.bosId());
        assertThat(SPM.addBos()).isTrue(); // SentencePiece vocabularies add BOS unless told otherwise
        assertThat(SPM.encode("", true, true)).containsExactly(SPM.bosId());
        assertThat(SPM.encode("", false, false)).isEmpty();
    }

    @Test
    void spmFallsBackToByteTokens() {
        int[] ids = SPM.encode("hé", false, false);
        assertThat(pieces(SPM, ids)).containsExactly("▁h", "<0xC3>", "<0xA9>");
        assertThat(SPM.decode(ids)).isEqualTo("hé");
        assertThat(SPM.tokenBytes(ids[1])).containsExactly((byte) 0xC3);
    }

    @Test
    void spmSpecialTokensOnlyWhenParsingIsAllowed() {
        int bos = SPM.bosId();
        int[] parsed = SPM.encode("<s>hello", false, true);
        assertThat(parsed[0]).isEqualTo(bos);
        assertThat(pieces(SPM, Arrays.copyOfRange(parsed, 1, parsed.length))).containsExactly("▁hello");
        assertThat(SPM.decode(parsed)).isEqualTo("<s> hello"); // the space prefix after a special token stays, as in llama.cpp
        assertThat(SPM.decode(parsed, true)).isEqualTo(" hello");
        int[] plain = SPM.encode("<s>hello", false, false);
        assertThat(plain).doesNotContain(bos);
        assertThat(SPM.decode(plain)).isEqualTo("<s>hello");
        // User-defined tokens are matched either way.
        int user = SPM.vocabulary().id("<|user|>");
        assertThat(SPM.encode("a<|user|>b", false, false)).contains(user);
        assertThat(SPM.isSpecial(user)).isTrue();
        assertThat(SPM.isSpecial(SPM.vocabulary().id("▁hello"))).isFalse();
    }

    @Test
    void spmDecodeSkipsBosAndKeepsSpaces() {
        int[] ids = SPM.encode("  hello", true, false);
        assertThat(SPM.decode(ids, false)).isEqualTo("<s>   hello");
        assertThat(SPM.decode(ids, true)).isEqualTo("   hello");
        assertThat(SPM.decode(Arrays.copyOfRange(ids, 1, ids.length), false)).isEqualTo("  hello");
    }

    @Test
    void bpeMergesByRank() {
        int[] ids = BPE.encode("hello world", false, false);
        assertThat(pieces(BPE, ids)).containsExactly("hello", "Ġworld");
        assertThat(BPE.decode(ids)).isEqualTo("hello world");
        assertThat(BPE.addBos()).isFalse();
        assertThat(BPE.encode("hello", true, true)).hasSize(1);
        // Bytes of characters the vocabulary has no merges for come out one byte token each.
        int[] cjk = BPE.encode("猫", false, false);
        assertThat(cjk).hasSize(3);
        assertThat(BPE.decode(cjk)).isEqualTo("猫");
    }

    @Test
    void bpeSpecialTokens() {
        Tokenizer t = BPE_QWEN;
        int start = t.vocabulary().id("<|im_start|>"), end = t.vocabulary().id("<|im_end|>");
        int[] ids = t.encode("<|im_start|>hello<|im_end|>", false, true);
        assertThat(ids[0]).isEqualTo(start);
        assertThat(ids[ids.length - 1]).isEqualTo(end);
        assertThat(t.decode(ids)).isEqualTo("<|im_start|>hello<|im_end|>");
        assertThat(t.decode(ids, true)).isEqualTo("hello");
        assertThat(t.encode("<|im_start|>hello", false, false)).doesNotContain(start);
        int tool = t.vocabulary().id("<tool>");
        assertThat(t.encode("x<tool>y", false, false)).contains(tool);
        assertThat(t.decode(t.encode("x<tool>y", false, false), true)).isEqualTo("x<tool>y");
        assertThat(t.isEog(end)).isTrue();
        assertThat(t.isEog(t.eosId())).isTrue();
        assertThat(t.isEog(start)).isFalse();
        assertThat(t.eotId()).isEqualTo(t.vocabulary().id("<|im_end|>"));
    }

    @Test
    void bpeCleanSpacesFollowsThePreTokenizer() {
        // gpt-2 asks for llama.cpp's clean-up of " ," " ." " 's" on decode; qwen2 does not.
        assertThat(BPE.decode(BPE.encode("a , b . it 's", false, false))).isEqualTo("a, b. it's");
        assertThat(BPE_QWEN.decode(BPE_QWEN.encode("a , b . it 's", false, false))).isEqualTo("a , b . it 's");
    }

    @Test
    void loneSurrogatesBecomeReplacementCharacters() {
        String s = "a\uD800b\uDC00c\uD83D\uDE00";
        for (Tokenizer t : new Tokenizer[] {SPM, BPE_QWEN}) {
            assertThat(t.decode(t.encode(s, false, false))).isEqualTo("a\uFFFDb\uFFFDc\uD83D\uDE00");
        }
    }

    @Test
    void unknownModelIsRejectedWithTheSupportedList() {
        assertThatThrownBy(() -> TestVocabs.build(w -> {
            w.putString("tokenizer.ggml.model", "bert");
            w.putStrings("tokenizer.ggml.tokens", new String[] {"a"});
        })).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'bert'").hasMessageContaining("llama").hasMessageContaining("gpt2");
    }

    @Test
    void unknownPreTokenizerIsRejectedWithTheSupportedList() {
        assertThatThrownBy(() -> TestVocabs.bpe("my-new-model"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'my-new-model'")
                .hasMessageContaining("qwen2")
                .hasMessageContaining("llama-bpe");
        assertThat(PreTokenizer.supported()).contains("gpt-2", "llama-bpe", "llama3", "qwen2", "deepseek-llm", "falcon", "smollm", "default");
    }

    @Test
    void outOfRangeIdsAreRejected() {
        assertThatThrownBy(() -> SPM.decode(new int[] {SPM.vocabSize()})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SPM.tokenPiece(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void preTokenizerSplitsLikeTheReferenceRegexes() {
        assertThat(new PreTokenizer("gpt-2").split("Hello world's  test\n\n 123!!"))
                .containsExactly("Hello", " world", "'s", " ", " test", "\n\n", " 123", "!!");
        assertThat(new PreTokenizer("llama-bpe").split("I'M 12345 x  \n\n y"))
                .containsExactly("I", "'M", " ", "123", "45", " x", "  \n\n", " y");
        assertThat(new PreTokenizer("qwen2").split("ab 123"))
                .containsExactly("ab", " ", "1", "2", "3");
        assertThat(new PreTokenizer("falcon").split("1234567"))
                .containsExactly("123", "456", "7");
    }
}
