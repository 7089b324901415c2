package io.chorus.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.model.gguf.GgufFile;
import io.chorus.testing.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reference ids and texts from llama.cpp for the seven fixture vocabularies (shared/fixtures/tokenizer). */
class FixtureVocabTest {
    static final String[] VOCABS = {"llama-spm", "phi-3", "gpt-2", "deepseek-llm", "falcon", "qwen2-rebuilt", "llama3-rebuilt"};
    private static final Map<String, Tokenizer> CACHE = new ConcurrentHashMap<>();
    private static final String SEP = "\n__ggml_vocab_test__\n";

    /** The tokenizer of a fixture vocabulary; skips the test when fixtures are absent. */
    static Tokenizer tokenizer(String vocab) {
        Path p = Fixtures.require("tokenizer/ggml-vocab-" + vocab + ".gguf");
        return CACHE.computeIfAbsent(vocab, v -> {
            try (GgufFile f = GgufFile.open(p)) {
                return Tokenizer.fromGguf(f);
            }
        });
    }

    static String ids(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(' ').append(id);
        return sb.toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "deepseek-llm", "falcon", "qwen2-rebuilt", "llama3-rebuilt"})
    void inpOutPairs(String vocab) throws IOException {
        Tokenizer tok = tokenizer(vocab);
        Path dir = Fixtures.require("tokenizer");
        String inp = Files.readString(dir.resolve("ggml-vocab-" + vocab + ".gguf.inp"), StandardCharsets.UTF_8);
        List<String> expected = Files.readAllLines(dir.resolve("ggml-vocab-" + vocab + ".gguf.out"), StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>(Arrays.asList(inp.split(SEP, -1)));
        assertThat(texts.removeLast()).isEmpty();
        assertThat(texts).hasSameSizeAs(expected);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String got = ids(tok.encode(texts.get(i), false, false));
            if (!got.equals(expected.get(i))) failures.add("#" + i + " " + quote(texts.get(i)) + "\n  want" + expected.get(i) + "\n  got " + got);
        }
        System.out.printf("%s: %d/%d .inp/.out cases passed%n", vocab, texts.size() - failures.size(), texts.size());
        assertThat(failures).as(vocab).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "deepseek-llm", "falcon", "qwen2-rebuilt", "llama3-rebuilt"})
    void roundtripJson(String vocab) throws IOException {
        Tokenizer tok = tokenizer(vocab);
        Path file = Fixtures.require("tokenizer/ggml-vocab-" + vocab + ".roundtrip.json");
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        List<String> failures = new ArrayList<>();
        int n = 0;
        for (JsonNode c : root.get("cases")) {
            n++;
            String text = c.get("text").asText();
            int[] wantDefault = toInts(c.get("ids_default"));
            int[] wantPlain = toInts(c.get("ids_plain"));
            int[] gotDefault = tok.encode(text, tok.addBos() || tok.addEos(), true);
            int[] gotPlain = tok.encode(text, false, false);
            check(failures, text, "ids_default", ids(wantDefault), ids(gotDefault));
            check(failures, text, "ids_plain", ids(wantPlain), ids(gotPlain));
            check(failures, text, "detok_default", c.get("detok_default").asText(), tok.decode(wantDefault, false));
            check(failures, text, "detok_plain", c.get("detok_plain").asText(), tok.decode(wantPlain, false));
            check(failures, text, "streaming", tok.decode(wantDefault, false), streamed(tok, wantDefault));
        }
        System.out.printf("%s: %d/%d roundtrip.json cases passed%n", vocab, n - failures.stream().map(f -> f.split("\n")[0]).distinct().count(), n);
        assertThat(failures).as(vocab).isEmpty();
    }

    static String streamed(Tokenizer tok, int[] ids) {
        StreamingDetokenizer d = tok.streamingDetokenizer(false);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        return sb.append(d.flush()).toString();
    }

    private static void check(List<String> failures, String text, String what, String want, String got) {
        if (!want.equals(got)) failures.add(quote(text) + "\n  " + what + " want " + quote(want) + "\n  " + what + " got  " + quote(got));
    }

    static int[] toInts(JsonNode arr) {
        int[] a = new int[arr.size()];
        for (int i = 0; i < a.length; i++) a[i] = arr.get(i).asInt();
        return a;
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || Character.isSurrogate((char) cp) || (cp >= 0x2000 && cp <= 0x206F)) sb.append(String.format("\\u%04X", cp));
            else sb.appendCodePoint(cp);
        });
        return sb.append('"').toString();
    }
}
