package io.chorus.bench.jmh;

import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufWriter;
import io.chorus.tokenizer.ByteUnicode;
import io.chorus.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encoding a ~100 KB prompt. {@code vocab} names a fixture vocabulary in shared/fixtures/tokenizer
 * (found beside the repository or via -Dchorus.fixtures); when it is absent the benchmark says so
 * and uses a synthetic byte-level BPE vocabulary instead. {@code encodeCold} clears the per-word BPE
 * cache before each call; {@code encodeWarm} keeps it, as a server does between requests.
 *
 * <p>Run: {@code scripts/jmh TokenizerBench} (or {@code -p vocab=llama-spm}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TokenizerBench {
    @Param({"qwen2-rebuilt", "gpt-2", "llama-spm"})
    public String vocab;

    private Tokenizer tokenizer;
    private String text;

    @Setup
    public void setup() throws IOException {
        Path file = fixture("tokenizer/ggml-vocab-" + vocab + ".gguf");
        if (file == null) {
            System.out.println("TokenizerBench: fixture vocabulary '" + vocab + "' not found (shared/fixtures or -Dchorus.fixtures); using a synthetic BPE vocabulary");
            tokenizer = syntheticBpe();
        } else {
            try (GgufFile f = GgufFile.open(file)) {
                tokenizer = Tokenizer.fromGguf(f);
            }
        }
        text = prompt();
        int[] ids = tokenizer.encode(text, false, false);
        System.out.printf("TokenizerBench: %s, %d chars -> %d tokens%n", vocab, text.length(), ids.length);
    }

    @Benchmark
    public int[] encodeCold() {
        tokenizer.clearCache();
        return tokenizer.encode(text, false, false);
    }

    @Benchmark
    public int[] encodeWarm() {
        return tokenizer.encode(text, false, false);
    }

    /** ~100 KB of mixed prose, code, numbers and non-Latin text, with many distinct words. */
    static String prompt() {
        String[] words = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "naïve", "café", "résumé",
                "Straße", "你好", "世界", "测试", "안녕하세요", "Привет", "мир", "🦙", "👍🏽", "return", "x**2", "don't",
                "they're", "\n", "\n\n", "    ", "\t", "1234567", "3.14159", "(a, b)", "{}", "<div>", "https://example.com/a?b=1"};
        Random rnd = new Random(1);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 100_000) {
            if (rnd.nextInt(4) == 0) {
                // A made-up word, so the text is not just a few cached words repeated.
                int n = 3 + rnd.nextInt(8);
                for (int i = 0; i < n; i++) sb.append((char) ('a' + rnd.nextInt(26)));
            } else {
                sb.append(words[rnd.nextInt(words.length)]);
            }
            sb.append(rnd.nextInt(6) == 0 ? ". " : " ");
        }
        return sb.toString();
    }

    static Path fixture(String relative) {
        List<Path> roots = new ArrayList<>();
        String configured = System.getProperty("chorus.fixtures", System.getenv("CHORUS_FIXTURES"));
        if (configured != null) roots.add(Path.of(configured));
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            roots.add(dir.resolve("shared/fixtures"));
            roots.add(dir.resolveSibling("shared").resolve("fixtures"));
        }
        for (Path r : roots) {
            Path p = r.resolve(relative);
            if (Files.exists(p)) return p;
        }
        return null;
    }

    /** 256 byte tokens plus merges of frequent letter pairs: enough to exercise the BPE merge loop. */
    static Tokenizer syntheticBpe() throws IOException {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(String.valueOf(ByteUnicode.charOf(b)));
        List<String> merges = new ArrayList<>();
        String letters = "etaoinshrdlucmfwyp";
        for (char a : letters.toCharArray()) {
            for (char b : letters.toCharArray()) {
                merges.add(a + " " + b);
                tokens.add("" + a + b);
            }
            merges.add("Ġ " + a);
            tokens.add("Ġ" + a);
        }
        Path tmp = Files.createTempFile("bench-vocab", ".gguf");
        try {
            new GgufWriter()
                    .putString("tokenizer.ggml.model", "gpt2")
                    .putString("tokenizer.ggml.pre", "qwen2")
                    .putStrings("tokenizer.ggml.tokens", tokens.toArray(String[]::new))
                    .putStrings("tokenizer.ggml.merges", merges.toArray(String[]::new))
                    .write(tmp);
            try (GgufFile f = GgufFile.open(tmp)) {
                return Tokenizer.fromGguf(f);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
