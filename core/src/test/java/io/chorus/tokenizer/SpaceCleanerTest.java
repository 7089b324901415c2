package io.chorus.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SpaceCleanerTest {
    @Test
    void rewritesLikeLlamaCpp() {
        assertThat(SpaceCleaner.clean("Hello , world . ok ? no !")).isEqualTo("Hello, world. ok? no!");
        assertThat(SpaceCleaner.clean("a ' b")).isEqualTo("a'b");
        assertThat(SpaceCleaner.clean("a ' ' b")).isEqualTo("a'' b");
        assertThat(SpaceCleaner.clean("it 's I 'm we 're you 've he 'll I 'd don 't")).isEqualTo("it's I'm we're you've he 'll I 'd don 't");
        assertThat(SpaceCleaner.clean("  ' re")).isEqualTo("'re");
        assertThat(SpaceCleaner.clean(" '")).isEqualTo(" '");
        assertThat(SpaceCleaner.clean("")).isEmpty();
    }

    /** Cleaning piecewise at safe cuts, as the streaming detokenizer does, equals cleaning the whole text. */
    @Test
    void piecewiseCleaningAtSafeCutsEqualsWholeCleaning() {
        char[] alphabet = {' ', ' ', ' ', '\'', '\'', 's', 'm', 'r', 'v', 'e', 'l', '.', ',', '?', 'a', 'x'};
        Random rnd = new Random(17);
        for (int iter = 0; iter < 20_000; iter++) {
            int n = rnd.nextInt(16);
            StringBuilder t = new StringBuilder();
            for (int i = 0; i < n; i++) t.append(alphabet[rnd.nextInt(alphabet.length)]);
            String text = t.toString();
            StringBuilder held = new StringBuilder(), out = new StringBuilder();
            for (int from = 0; from < n; ) {
                int to = Math.min(n, from + 1 + rnd.nextInt(3));
                held.append(text, from, to);
                from = to;
                int cut = SpaceCleaner.safeCut(held);
                out.append(SpaceCleaner.clean(held.substring(0, cut)));
                held.delete(0, cut);
            }
            out.append(SpaceCleaner.clean(held.toString()));
            assertThat(out.toString()).as("text \"%s\"", text).isEqualTo(SpaceCleaner.clean(text));
        }
    }

    @Test
    void streamingDoesNotHoldTextWithoutPendingPatterns() {
        Tokenizer t = TestVocabs.bpe("gpt-2"); // a vocabulary that cleans spaces
        StreamingDetokenizer d = t.streamingDetokenizer(false);
        StringBuilder out = new StringBuilder();
        for (int id : t.encode("1 2 3 4", false, false)) out.append(d.push(id));
        assertThat(out.toString()).isEqualTo("1 2 3 4");
        assertThat(d.push(t.encode(" ", false, false)[0])).isEmpty(); // a space might still precede "."
        assertThat(d.push(t.encode(".", false, false)[0])).isEqualTo(".");
    }
}
