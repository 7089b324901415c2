package io.chorus.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringMatcherTest {
    @Test
    void holdsOnlyAPossibleStopPrefix() {
        StopStringMatcher m = new StopStringMatcher(List.of("</s>", "STOP"), false);
        assertThat(m.push("Hello <")).isEqualTo(new StopStringMatcher.Result("Hello ", null));
        assertThat(m.push("b")).isEqualTo(new StopStringMatcher.Result("<b", null));
        assertThat(m.push("ST")).isEqualTo(new StopStringMatcher.Result("", null));
        assertThat(m.push("OR")).isEqualTo(new StopStringMatcher.Result("STOR", null));
        assertThat(m.push("x ST")).isEqualTo(new StopStringMatcher.Result("x ", null));
        assertThat(m.flush()).isEqualTo("ST");
    }

    @Test
    void stopSpanningChunksEndsExactlyBeforeIt() {
        StopStringMatcher m = new StopStringMatcher(List.of("</s>"), false);
        assertThat(m.push("Hello <").text()).isEqualTo("Hello ");
        assertThat(m.push("/").text()).isEmpty();
        StopStringMatcher.Result r = m.push("s> more");
        assertThat(r.stopped()).isTrue();
        assertThat(r.stop()).isEqualTo("</s>");
        assertThat(r.text()).isEmpty();
        assertThat(m.stopped()).isTrue();
        assertThat(m.push("anything").text()).isEmpty();
    }

    @Test
    void includeStopStringInOutput() {
        StopStringMatcher m = new StopStringMatcher(List.of("END"), true);
        assertThat(m.push("abcE").text()).isEqualTo("abc");
        StopStringMatcher.Result r = m.push("NDxyz");
        assertThat(r.text()).isEqualTo("END");
        assertThat(r.stop()).isEqualTo("END");
    }

    @Test
    void earliestStopWins() {
        StopStringMatcher m = new StopStringMatcher(List.of("world", "lo w"), false);
        StopStringMatcher.Result r = m.push("hello world");
        assertThat(r.stop()).isEqualTo("lo w");
        assertThat(r.text()).isEqualTo("hel");
        StopStringMatcher m2 = new StopStringMatcher(List.of("ab", "abc"), false);
        assertThat(m2.push("xabcd").stop()).isEqualTo("abc");
        assertThat(new StopStringMatcher(List.of("", "q"), false).push("abc").text()).isEqualTo("abc"); // empty stops are ignored
    }

    @Test
    void stopAcrossTokenBoundariesOfADetokenizedStream() {
        Tokenizer t = TestVocabs.bpe("qwen2");
        int[] ids = t.encode("hello world<|im_end|>", false, true);
        StreamingDetokenizer d = t.streamingDetokenizer(false);
        StopStringMatcher m = new StopStringMatcher(List.of("lo wor"), false);
        StringBuilder out = new StringBuilder();
        StopStringMatcher.Result last = null;
        for (int id : ids) {
            last = m.push(d.push(id));
            out.append(last.text());
            if (last.stopped()) break;
        }
        assertThat(last.stopped()).isTrue();
        assertThat(out.toString()).isEqualTo("hel");
        // The stop string spanned two tokens: "hello" and " world".
        assertThat(ids.length).isGreaterThanOrEqualTo(2);
    }
}
