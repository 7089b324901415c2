package io.chorus.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random checks: decode(encode(s)) gives s back (with lone surrogates as U+FFFD, and after
 * llama.cpp's space clean-up where the vocabulary asks for it), and streaming decode of any id sequence
 * equals one-shot decode.
 */
class RoundTripPropertyTest {
    /** Pools of characters to draw from: ASCII, whitespace, Latin, CJK, Hangul, emoji, combining marks. */
    private static final int[][] POOLS = {
            {'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {' ', ' '}, {' ', '/'}, {':', '@'}, {'\n', '\n'}, {'\t', '\r'},
            {0xA0, 0x17F}, {0x300, 0x36F}, {0x391, 0x3C9}, {0x410, 0x44F}, {0x4E00, 0x4FFF}, {0xAC00, 0xAD00},
            {0x2000, 0x206F}, {0x3000, 0x3003}, {0x1F300, 0x1F64F}, {0x1F3FB, 0x1F3FF}, {0x200D, 0x200D},
            {0xFE0F, 0xFE0F}, {0xE0000, 0xE007F}, {0x10000, 0x100FF}, {0x0590, 0x06FF}, {0x0900, 0x097F}};

    static String randomText(Random rnd, int maxLen, boolean allowLoneSurrogates, boolean allowSpmSpace) {
        StringBuilder sb = new StringBuilder();
        int len = rnd.nextInt(maxLen + 1);
        while (sb.length() < len) {
            int r = rnd.nextInt(100);
            if (allowLoneSurrogates && r < 3) {
                sb.append((char) (rnd.nextBoolean() ? 0xD800 + rnd.nextInt(0x400) : 0xDC00 + rnd.nextInt(0x400)));
                continue;
            }
            int[] pool = POOLS[rnd.nextInt(POOLS.length)];
            int cp = pool[0] + rnd.nextInt(pool[1] - pool[0] + 1);
            if (!allowSpmSpace && cp == 0x2581) continue;
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    /** What decoding the encoding of s should give: lone surrogates replaced, spaces cleaned if the vocabulary does. */
    static String expectedRoundTrip(Tokenizer t, String s) {
        String clean = Tokenizer.replaceLoneSurrogates(s);
        return t.vocabulary().cleanSpaces ? SpaceCleaner.clean(clean) : clean;
    }

    private static void checkRoundTrips(Tokenizer t, long seed, int count) {
        Random rnd = new Random(seed);
        for (int i = 0; i < count; i++) {
            // SentencePiece writes spaces as ▁, so a literal ▁ in the input comes back as a space (as in llama.cpp).
            String s = randomText(rnd, 40, true, t.vocabulary().model() == Vocabulary.Model.BPE);
            // Falcon's vocabulary lacks a few byte tokens (0x03, 0x0B, 0xC0, ...); like llama.cpp, such bytes are dropped.
            s = withoutUnencodableBytes(t, s);
            int[] ids = t.encode(s, false, false);
            assertThat(t.decode(ids)).as("text %s", FixtureVocabTest.quote(s)).isEqualTo(expectedRoundTrip(t, s));
        }
    }

    private static String withoutUnencodableBytes(Tokenizer t, String s) {
        if (t.vocabulary().model() != Vocabulary.Model.BPE) return s;
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> {
            String c = Character.isSurrogate((char) cp) && cp < 0x10000 ? "\uFFFD" : new String(Character.toChars(cp));
            for (byte b : c.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
                if (t.vocabulary().id(String.valueOf(ByteUnicode.charOf(b))) < 0) return;
            }
            sb.appendCodePoint(cp);
        });
        return sb.toString();
    }

    @Test
    void inTestVocabulariesRoundTrip() {
        checkRoundTrips(TestVocabs.spm(), 1, 2000);
        checkRoundTrips(TestVocabs.bpe("qwen2"), 2, 2000);
        checkRoundTrips(TestVocabs.bpe("gpt-2"), 3, 2000);
        checkRoundTrips(TestVocabs.bpe("llama-bpe"), 4, 2000);
        checkRoundTrips(TestVocabs.bpe("deepseek-llm"), 5, 2000);
        checkRoundTrips(TestVocabs.bpe("falcon"), 6, 2000);
        checkRoundTrips(TestVocabs.bpe("smollm"), 7, 2000);
        checkRoundTrips(TestVocabs.bpe("default"), 8, 2000);
        checkRoundTrips(TestVocabs.bpe("deepseek-v3"), 9, 2000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "deepseek-llm", "falcon", "qwen2-rebuilt", "llama3-rebuilt"})
    void fixtureVocabulariesRoundTrip(String vocab) {
        checkRoundTrips(FixtureVocabTest.tokenizer(vocab), vocab.hashCode(), 1000);
    }

    /** Random ids, biased toward byte tokens and tokens that hold part of a multi-byte character. */
    static List<Integer> partialTokens(Tokenizer t) {
        List<Integer> partial = new ArrayList<>();
        for (int id = 0; id < t.vocabSize() && partial.size() < 4000; id++) {
            String p = t.tokenPiece(id);
            byte[] b = t.tokenBytes(id);
            if (b.length > 0 && (b[b.length - 1] & 0x80) != 0 || p.startsWith("<0x")) partial.add(id);
        }
        return partial;
    }

    static int[] randomIds(Random rnd, Tokenizer t, List<Integer> partial, int maxLen) {
        int n = rnd.nextInt(maxLen + 1);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            int r = rnd.nextInt(10);
            if (r < 4 && !partial.isEmpty()) ids[i] = partial.get(rnd.nextInt(partial.size()));
            else if (r < 5) ids[i] = rnd.nextInt(Math.min(t.vocabSize(), 300)); // control and byte tokens live low
            else ids[i] = rnd.nextInt(t.vocabSize());
        }
        if (n > 0 && rnd.nextInt(4) == 0 && t.bosId() >= 0) ids[0] = t.bosId();
        return ids;
    }

    static void checkStreaming(Tokenizer t, long seed, int count) {
        Random rnd = new Random(seed);
        List<Integer> partial = partialTokens(t);
        for (int i = 0; i < count; i++) {
            int[] ids = rnd.nextInt(3) == 0 ? t.encode(randomText(rnd, 30, false, true), rnd.nextBoolean(), true) : randomIds(rnd, t, partial, 24);
            for (boolean skip : new boolean[] {false, true}) {
                StreamingDetokenizer d = t.streamingDetokenizer(skip);
                StringBuilder sb = new StringBuilder();
                for (int id : ids) {
                    String piece = d.push(id);
                    assertThat(piece.isEmpty() || !Character.isHighSurrogate(piece.charAt(piece.length() - 1))).isTrue();
                    sb.append(piece);
                }
                sb.append(d.flush());
                String oneShot = t.decode(ids, skip);
                assertThat(sb.toString()).as("ids %s skip %s", FixtureVocabTest.ids(ids), skip).isEqualTo(oneShot);
                // Random chunks of several ids at a time give the same text.
                StreamingDetokenizer c = t.streamingDetokenizer(skip);
                StringBuilder chunked = new StringBuilder();
                for (int from = 0; from < ids.length; ) {
                    int to = Math.min(ids.length, from + 1 + rnd.nextInt(5));
                    chunked.append(c.pushAll(java.util.Arrays.copyOfRange(ids, from, to)));
                    from = to;
                }
                assertThat(chunked.append(c.flush()).toString()).isEqualTo(oneShot);
            }
        }
    }

    @Test
    void streamingEqualsOneShotOnInTestVocabularies() {
        checkStreaming(TestVocabs.spm(), 11, 3000);
        checkStreaming(TestVocabs.bpe("gpt-2"), 12, 3000);   // with space clean-up
        checkStreaming(TestVocabs.bpe("qwen2"), 13, 3000);   // without
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "deepseek-llm", "falcon", "qwen2-rebuilt", "llama3-rebuilt"})
    void streamingEqualsOneShotOnFixtureVocabularies(String vocab) {
        checkStreaming(FixtureVocabTest.tokenizer(vocab), vocab.hashCode() + 1, 500);
    }

    @Test
    void streamingHoldsSplitCharactersUntilComplete() {
        Tokenizer t = TestVocabs.spm();
        int c3 = t.vocabulary().id("<0xC3>"), a9 = t.vocabulary().id("<0xA9>"), h = t.vocabulary().id("▁h");
        StreamingDetokenizer d = t.streamingDetokenizer(false);
        assertThat(d.push(h)).isEqualTo("h"); // the space prefix of the first token is dropped
        assertThat(d.push(c3)).isEmpty();
        assertThat(d.push(a9)).isEqualTo("é");
        assertThat(d.push(c3)).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD");
    }

    @Test
    void utf8DecoderReplacesInvalidSequencesByMaximalSubparts() {
        assertThat(Utf8Decoder.decode(new byte[] {(byte) 0xE2, (byte) 0x82, 'a'})).isEqualTo("\uFFFDa");
        assertThat(Utf8Decoder.decode(new byte[] {(byte) 0x80, (byte) 0xBF})).isEqualTo("\uFFFD\uFFFD");
        assertThat(Utf8Decoder.decode(new byte[] {(byte) 0xC0, (byte) 0xAF})).isEqualTo("\uFFFD\uFFFD");
        assertThat(Utf8Decoder.decode(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})).isEqualTo("\uFFFD\uFFFD\uFFFD");
        assertThat(Utf8Decoder.decode(new byte[] {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80})).isEqualTo("😀");
        assertThat(Utf8Decoder.decode(new byte[] {(byte) 0xF0, (byte) 0x9F, (byte) 0x98})).isEqualTo("\uFFFD");
        // Agrees with the JDK's decoder on valid UTF-8.
        Random rnd = new Random(5);
        for (int i = 0; i < 2000; i++) {
            String text = randomText(rnd, 20, false, true);
            assertThat(Utf8Decoder.decode(text.getBytes(java.nio.charset.StandardCharsets.UTF_8))).isEqualTo(text);
        }
    }
}
