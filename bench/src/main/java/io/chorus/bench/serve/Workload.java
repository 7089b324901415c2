package io.chorus.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.json.BoundedJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The requests of one run: random prompts (optionally behind a shared prefix) or prompts read from
 * a JSONL file.
 *
 * <p>Random prompt text is a sequence of very common English words separated by spaces. Each such
 * word (with its leading space) is a single token in the byte-level BPE vocabularies of Llama 3,
 * Qwen2/3, Mistral and GPT-style models and almost always in SentencePiece ones, so N words is
 * roughly N tokens; the server's {@code usage.prompt_tokens} reports the exact count. Where the
 * server offers {@code POST /tokenize}, {@link TokenCalibrator} measures tokens per word and the
 * word count is scaled to hit the requested length more closely.
 */
public final class Workload {
    /** Common words that are single tokens (with a leading space) in the usual LLM vocabularies. */
    static final String[] WORDS = ("the of and to in is was for that on with as by at from his her he she it they we you "
            + "this which are be or an had not but have one all were their there been has when who will more no if out so "
            + "what up said about into than them can only other new some could time these two may then do first any my now "
            + "such like our over man me even most made after also did many before must through back years where much your "
            + "way well down should because each just those people how too little state good very make world still own see "
            + "men work long get here between both life being under never day same another know while last might us great old "
            + "year off come since against go came right used take three small place house water city name hand part room "
            + "light night school home country money week story point family young car book game music food river tree street "
            + "table door window paper letter friend child mother father garden market summer winter morning evening green "
            + "blue red white black open short high large early late best better every found give told").split(" ");

    private static final ObjectMapper JSON = BoundedJson.mapper();

    private Workload() {}

    /**
     * The requests for sweep level {@code levelIndex}. Lengths depend only on the seed, so every level
     * sends the same lengths; the random words also depend on the level, so a later level does not
     * find an earlier level's prompts in the server's prefix cache (the shared prefix is shared by all).
     */
    public static List<BenchRequest> build(BenchConfig c, double tokensPerWord, int levelIndex) {
        if (c.dataset() != null) return fromDataset(Path.of(c.dataset()), c.numPrompts(), c.outputLen());
        return random(c.numPrompts(), c.inputLen(), c.outputLen(), c.rangeRatio(), c.prefixLen(), tokensPerWord,
                c.seed(), levelIndex);
    }

    /** Random prompts of about {@code inputLen} tokens (uniform in [len*(1-r), len*(1+r)]) after {@code prefixLen} shared tokens. */
    public static List<BenchRequest> random(int n, int inputLen, int outputLen, double rangeRatio, int prefixLen,
                                            double tokensPerWord, long seed, int levelIndex) {
        SplittableRandom lengths = new SplittableRandom(seed);
        SplittableRandom words = new SplittableRandom(seed * 1_000_003L + 7919L * (levelIndex + 1));
        String prefix = prefixLen > 0 ? randomText(new SplittableRandom(seed ^ 0x5DEECE66DL), wordsFor(prefixLen, tokensPerWord)) : "";
        List<BenchRequest> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int in = uniform(lengths, inputLen, rangeRatio);
            int max = uniform(lengths, outputLen, rangeRatio);
            String body = randomText(words, wordsFor(in, tokensPerWord));
            String prompt = prefix.isEmpty() ? body : prefix + " " + body;
            out.add(BenchRequest.ofPrompt(prompt, prefixLen + in, max));
        }
        return out;
    }

    /** A length drawn uniformly from [len*(1-r), len*(1+r)], at least 1. */
    static int uniform(SplittableRandom rnd, int len, double r) {
        int lo = Math.max(1, (int) Math.floor(len * (1 - r)));
        int hi = Math.max(lo, (int) Math.ceil(len * (1 + r)));
        return lo == hi ? lo : lo + rnd.nextInt(hi - lo + 1);
    }

    static int wordsFor(int tokens, double tokensPerWord) {
        return Math.max(1, (int) Math.round(tokens / tokensPerWord));
    }

    static String randomText(SplittableRandom rnd, int words) {
        StringBuilder sb = new StringBuilder(words * 6);
        for (int i = 0; i < words; i++) {
            if (i > 0) sb.append(' ');
            sb.append(WORDS[rnd.nextInt(WORDS.length)]);
        }
        return sb.toString();
    }

    /**
     * Requests from a JSONL file, one object a line: {@code {"prompt": "..."}} or {@code {"messages": [...]}},
     * optionally with {@code "max_tokens"} (else {@code outputLen}). Lines are used in order and
     * repeated from the start when the file has fewer than {@code n}.
     */
    public static List<BenchRequest> fromDataset(Path file, int n, int outputLen) {
        List<BenchRequest> lines = new ArrayList<>();
        try {
            int lineNo = 0;
            for (String line : Files.readAllLines(file)) {
                lineNo++;
                if (line.isBlank()) continue;
                lines.add(parseLine(JSON.readTree(line), outputLen, file + ":" + lineNo));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dataset " + file + ": " + e.getMessage(), e);
        }
        if (lines.isEmpty()) throw new IllegalArgumentException("dataset " + file + " has no prompts");
        List<BenchRequest> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(lines.get(i % lines.size()));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static BenchRequest parseLine(JsonNode node, int outputLen, String where) {
        int max = node.path("max_tokens").asInt(node.path("output_len").asInt(outputLen));
        if (node.hasNonNull("prompt")) {
            String p = node.get("prompt").asText();
            return BenchRequest.ofPrompt(p, estimateTokens(p), max);
        }
        if (node.path("messages").isArray()) {
            List<Map<String, Object>> msgs = JSON.convertValue(node.get("messages"), List.class);
            int chars = 0;
            for (Map<String, Object> m : msgs) chars += String.valueOf(m.getOrDefault("content", "")).length();
            return BenchRequest.ofMessages(msgs, Math.max(1, chars / 4), max);
        }
        throw new IllegalArgumentException(where + ": expected a \"prompt\" or \"messages\" field");
    }

    /** Rough token count of arbitrary text (4 characters a token, the usual English average); usage replaces it. */
    static int estimateTokens(String text) {
        return Math.max(1, text.length() / 4);
    }
}
