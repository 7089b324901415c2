package io.chorus.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** TTFT, TPOT, ITL and E2E on synthetic event timelines, and how streams are judged. */
class TimelineTest {
    private static final long MS = 1_000_000;

    @Test
    void latenciesFromChunkTimes() {
        RequestOutcome o = RequestOutcome.success(1000 * MS, new long[] {1100 * MS, 1120 * MS, 1150 * MS, 1190 * MS}, 1200 * MS, 10, 4, true);
        assertThat(o.ttftMs()).isCloseTo(100, within(1e-9));
        assertThat(o.e2eMs()).isCloseTo(200, within(1e-9));
        assertThat(o.tpotMs()).isCloseTo(100.0 / 3, within(1e-9)); // (200 - 100) / (4 - 1)
        assertThat(o.itlsMs()).containsExactly(20.0, 30.0, 40.0);
        assertThat(o.decodeTokensPerSecond()).isCloseTo(30.0, within(1e-9));
    }

    @Test
    void tpotUsesTokenCountNotChunkCount() {
        // 2 chunks carrying 9 tokens (usage says so): TPOT spreads the decode time over 8 tokens.
        RequestOutcome o = RequestOutcome.success(0, new long[] {50 * MS, 130 * MS}, 130 * MS, 5, 9, true);
        assertThat(o.tpotMs()).isCloseTo(10.0, within(1e-9));
        assertThat(o.itlsMs()).containsExactly(80.0);
    }

    @Test
    void singleTokenHasNoTpot() {
        RequestOutcome o = RequestOutcome.success(0, new long[] {50 * MS}, 60 * MS, 5, 1, true);
        assertThat(o.tpotMs()).isNaN();
        assertThat(o.itlsMs()).isEmpty();
        assertThat(o.ttftMs()).isCloseTo(50, within(1e-9));
    }

    private static RequestOutcome feed(Endpoint ep, List<String> lines) {
        SseStreamParser p = new SseStreamParser(ep, 0, 7);
        long t = 0;
        for (String l : lines) p.accept(l, t += 10 * MS);
        return p.finish(t + 5 * MS);
    }

    @Test
    void completionsStreamWithUsage() {
        RequestOutcome o = feed(Endpoint.COMPLETIONS, List.of(
                "data: {\"choices\":[{\"index\":0,\"text\":\" a\",\"finish_reason\":null}]}", "",
                "data: {\"choices\":[{\"index\":0,\"text\":\" b\",\"finish_reason\":null}]}", "",
                "data: {\"choices\":[{\"index\":0,\"text\":\" c\",\"finish_reason\":\"length\"}]}", "",
                "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}", "",
                "data: [DONE]", ""));
        assertThat(o.success()).isTrue();
        assertThat(o.promptTokens()).isEqualTo(12);
        assertThat(o.outputTokens()).isEqualTo(3);
        assertThat(o.usageReported()).isTrue();
        assertThat(o.ttftMs()).isCloseTo(10, within(1e-9));
        assertThat(o.itlsMs()).containsExactly(20.0, 20.0); // blank lines advance the clock too
        assertThat(o.e2eMs()).isCloseTo(90, within(1e-9)); // ends at [DONE], not at the end of the body
    }

    @Test
    void tokenChunksWithEmptyTextStillCountButTheFinishOnlyChunkDoesNot() {
        // A special token (skip_special_tokens) or half a UTF-8 character streams as empty text.
        RequestOutcome o = feed(Endpoint.COMPLETIONS, List.of(
                "data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":null}]}",
                "data: {\"choices\":[{\"index\":0,\"text\":\" a\",\"finish_reason\":null}]}",
                "data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":null}]}",
                "data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}]}",
                "data: [DONE]"));
        assertThat(o.success()).isTrue();
        assertThat(o.outputTokens()).isEqualTo(3);
        assertThat(o.ttftMs()).isCloseTo(10, within(1e-9));
        assertThat(o.itlsMs()).containsExactly(10.0, 10.0);
    }

    @Test
    void chatStreamWithoutUsageCountsContentChunks() {
        RequestOutcome o = feed(Endpoint.CHAT, List.of(
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}",
                ": keep-alive comment",
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}",
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"}}]}",
                "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
                "data: [DONE]"));
        assertThat(o.success()).isTrue();
        assertThat(o.outputTokens()).isEqualTo(2);
        assertThat(o.promptTokens()).isEqualTo(7); // the estimate, since the server sent no usage
        assertThat(o.usageReported()).isFalse();
        assertThat(o.ttftMs()).isCloseTo(30, within(1e-9)); // the empty role chunk is not a token
    }

    @Test
    void truncatedOrErroredStreamsAreFailures() {
        RequestOutcome noDone = feed(Endpoint.COMPLETIONS, List.of(
                "data: {\"choices\":[{\"text\":\" a\",\"finish_reason\":null}]}",
                "data: {\"choices\":[{\"text\":\" b\",\"finish_reason\":\"length\"}]}"));
        assertThat(noDone.success()).isFalse();
        assertThat(noDone.error()).contains("[DONE]");

        RequestOutcome noFinish = feed(Endpoint.COMPLETIONS, List.of(
                "data: {\"choices\":[{\"text\":\" a\",\"finish_reason\":null}]}", "data: [DONE]"));
        assertThat(noFinish.success()).isFalse();
        assertThat(noFinish.error()).contains("finish_reason");

        RequestOutcome error = feed(Endpoint.COMPLETIONS, List.of(
                "data: {\"choices\":[{\"text\":\" a\",\"finish_reason\":null}]}",
                "data: {\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\"}}",
                "data: {\"choices\":[{\"text\":\"\",\"finish_reason\":\"stop\"}]}", "data: [DONE]"));
        assertThat(error.success()).isFalse();
        assertThat(error.error()).contains("out of memory");
        assertThat(error.outputTokens()).isZero();
    }
}
