package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.chorus.model.gguf.GgufFile;
import io.chorus.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The built-in demo model: a bigram model over the project's own corpus, served and spoken to like any model. */
class DemoModelTest {
    static BigramModel bigram;
    static Path file;
    static ChorusServer server;
    static OpenAIClient client;

    @BeforeAll
    static void up() throws IOException {
        bigram = BigramModel.fromCorpus();
        Path dir = Files.createTempDirectory("chorus-demo-test");
        file = dir.resolve(DemoModel.FILE_NAME);
        bigram.write(file);
        file.toFile().deleteOnExit();
        dir.toFile().deleteOnExit();
        server = TestServers.start(o -> o.withModel(file));
        client = TestServers.client(server);
    }

    @AfterAll
    static void down() {
        server.close();
    }

    @Test
    void fileIsSmallAndTheTokenizerSplitsTheCorpusIntoWholeWords() throws IOException {
        assertThat(Files.size(file)).isLessThan(8L << 20);
        try (GgufFile f = GgufFile.open(file)) {
            Tokenizer tok = Tokenizer.fromGguf(f);
            List<int[]> paragraphs = bigram.paragraphs();
            String[] texts = corpus().strip().split("\\n\\s*\\n");
            assertThat(texts).hasSize(paragraphs.size());
            for (int i = 0; i < texts.length; i++) {
                int[] ids = tok.encode(texts[i].strip().replaceAll("\\s+", " "), false, false);
                assertThat(ids).as("paragraph %d", i).containsExactly(paragraphs.get(i));
            }
            assertThat(tok.encode("lighthouse", false, false)).containsExactly(id("▁lighthouse"));
        }
    }

    @Test
    void logitsAreTheBigramLogProbabilitiesOfThePreviousWord() throws IOException {
        // "the" is followed in the corpus by many words; the server's top logprobs must be the counted ones
        var response = TestServers.post(server, "/v1/completions",
                "{\"model\":\"tiny\",\"prompt\":\"Ada saw the\",\"max_tokens\":1,\"temperature\":0,\"logprobs\":5}");
        assertThat(response.statusCode()).isEqualTo(200);
        var top = new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body())
                .path("choices").path(0).path("logprobs").path("top_logprobs").path(0);
        int col = bigram.column(id("▁the"));
        Integer[] order = byLogProb(col);
        for (int r = 0; r < 5; r++) {
            String text = bigram.piece(order[r]).replace('▁', ' ');
            assertThat(top.has(text)).as(text + " in " + top).isTrue();
            double served = top.get(text).asDouble();
            // log-softmax of F16 log-probabilities: the counted value within F16 rounding
            assertThat(served).as(text).isCloseTo(bigram.logProb(col, order[r]), org.assertj.core.data.Offset.offset(0.02));
        }
    }

    @Test
    void greedyTextFollowsTheMostFrequentNextWordAndIsNotOneRepeatedToken() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestServers.MODEL)
                .prompt("The").maxTokens(24).temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        StringBuilder expected = new StringBuilder();
        int prev = id("▁The");
        for (int i = 0; i < 24; i++) {
            int col = bigram.column(prev);
            int best = -1;
            for (int v = 0; v < bigram.vocabSize(); v++) {
                if (best < 0 || bigram.logProb(col, v) > bigram.logProb(col, best)) best = v;
            }
            if (best != BigramModel.EOS) expected.append(bigram.piece(best).replace('▁', ' ')); // EOS (ignored) prints nothing
            prev = best;
        }
        String text = c.choices().get(0).text();
        // the detokenizer drops the space prefix of the first generated token, as one-shot decoding does
        assertThat(text).isEqualTo(expected.substring(1));
        assertThat(new HashSet<>(Arrays.asList(text.trim().split(" ")))).hasSizeGreaterThan(4);
    }

    @Test
    void twoSeedsAtTemperatureOneSayDifferentThingsInCorpusWords() {
        String a = sample(1), b = sample(2);
        assertThat(a).isNotEqualTo(b);
        assertThat(sample(1)).isEqualTo(a);
        Set<String> words = corpusWords();
        for (String text : List.of(a, b)) {
            for (String w : text.trim().split("[\\s.,;:!?]+")) if (!w.isEmpty()) assertThat(words).as(text).contains(w);
        }
    }

    @Test
    void chatAnswersWithAParagraphOfCorpusWords() {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                .addUserMessage("Tell me about the sea.").maxCompletionTokens(200).temperature(1.0).seed(7L).build());
        String content = c.choices().get(0).message().content().get();
        assertThat(content.trim()).isNotEmpty();
        Set<String> words = corpusWords();
        for (String w : content.trim().split("[\\s.,;:!?]+")) if (!w.isEmpty()) assertThat(words).as(content).contains(w);
    }

    private static String sample(long seed) {
        return client.completions().create(CompletionCreateParams.builder().model(TestServers.MODEL)
                .prompt("Once upon a time").maxTokens(40).temperature(1.0).seed(seed)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build()).choices().get(0).text();
    }

    private static Integer[] byLogProb(int col) {
        Integer[] ids = new Integer[bigram.vocabSize()];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        Arrays.sort(ids, (x, y) -> Double.compare(bigram.logProb(col, y), bigram.logProb(col, x)));
        return ids;
    }

    private static int id(String piece) {
        for (int i = 0; i < bigram.vocabSize(); i++) if (bigram.piece(i).equals(piece)) return i;
        throw new AssertionError("no piece " + piece);
    }

    private static String corpus() {
        try (var in = BigramModel.class.getResourceAsStream(BigramModel.CORPUS)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Set<String> corpusWords() {
        return new HashSet<>(Arrays.asList(corpus().trim().split("[\\s.,;:!?]+")));
    }
}
