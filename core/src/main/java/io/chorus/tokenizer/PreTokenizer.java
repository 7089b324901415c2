package io.chorus.tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the words that byte-level BPE merges within, by the regex sequence named by
 * {@code tokenizer.ggml.pre}. Each regex splits every piece produced by the previous one; matched and
 * unmatched stretches are both kept, as Hugging Face's {@code Split(behavior=isolated)} and llama.cpp do.
 *
 * <p>The expressions are those of the models' tokenizer.json files, written for Java: {@code \s} is
 * spelled as the explicit Unicode White_Space set (Java's own {@code \s} is ASCII only, Oniguruma's is
 * Unicode), {@code $} as {@code \z}, and each regex runs within the piece's bounds so that look-ahead
 * such as {@code \s+(?!\S)} sees the end of the piece, not the text after it. Java's backtracking
 * engine gives the same leftmost-first alternation semantics as Oniguruma/fancy-regex.
 */
public final class PreTokenizer {
    /** Unicode White_Space, the set Oniguruma's {@code \s} and llama.cpp's is_whitespace use. */
    private static final String WS = "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
    private static final String S = "[" + WS + "]";
    private static final String NS = "[^" + WS + "]";

    private static final String GPT2 =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" + WS + "\\p{L}\\p{N}]+|" + S + "+(?!" + NS + ")";
    private static final String CONTRACTIONS_CI = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private static final String LLAMA3 = CONTRACTIONS_CI + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^" + WS
            + "\\p{L}\\p{N}]+[\\r\\n]*|" + S + "*[\\r\\n]+|" + S + "+(?!" + NS + ")|" + S + "+";
    private static final String QWEN2 = CONTRACTIONS_CI + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^" + WS
            + "\\p{L}\\p{N}]+[\\r\\n]*|" + S + "*[\\r\\n]+|" + S + "+(?!" + NS + ")|" + S + "+";
    private static final String DEEPSEEK_LETTERS =
            "[\\x{41}-\\x{5A}\\x{61}-\\x{7A}\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}-\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}-\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}-\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]";

    /** What a {@code tokenizer.ggml.pre} name selects, with the per-name flags llama.cpp sets alongside. */
    public record Spec(String name, List<String> regexes, boolean cleanSpaces, boolean ignoreMerges, boolean addBos) {}

    private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

    private static void add(Spec s, String... aliases) {
        SPECS.put(s.name(), s);
        for (String a : aliases) SPECS.put(a, new Spec(a, s.regexes(), s.cleanSpaces(), s.ignoreMerges(), s.addBos()));
    }

    static {
        add(new Spec("default", List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"), true, false, false));
        add(new Spec("gpt-2", List.of(GPT2), true, false, false), "phi-2");
        add(new Spec("llama-bpe", List.of(LLAMA3), true, true, true), "llama3", "llama-v3", "falcon3");
        add(new Spec("qwen2", List.of(QWEN2), false, false, false), "deepseek-r1-qwen");
        add(new Spec("falcon", List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"), true, false, false));
        add(new Spec("deepseek-llm", List.of(
                "[\\r\\n]",
                S + "?" + DEEPSEEK_LETTERS + "+",
                S + "?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
                S + "+\\z",
                "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
                "\\p{N}+"), false, false, false));
        add(new Spec("deepseek-v3", List.of(
                "\\p{N}{1,3}",
                "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
                "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|"
                        + S + "*[\\r\\n]+|" + S + "+(?!" + NS + ")|" + S + "+"), false, false, false));
        add(new Spec("smollm", List.of("\\p{N}", GPT2), false, false, false));
    }

    /** The pre-tokenizer settings for a name; an unknown name is an error that lists the supported ones. */
    public static Spec spec(String name) {
        Spec s = SPECS.get(name);
        if (s == null) throw new IllegalArgumentException("unsupported pre-tokenizer '" + name
                + "' (tokenizer.ggml.pre); supported: " + SPECS.keySet());
        return s;
    }

    public static List<String> supported() {
        return List.copyOf(SPECS.keySet());
    }

    private final Pattern[] patterns;

    public PreTokenizer(String name) {
        Spec s = spec(name);
        patterns = s.regexes().stream().map(Pattern::compile).toArray(Pattern[]::new);
    }

    /** Splits {@code text} into words (substrings, in order, covering the whole text). */
    public List<String> split(String text) {
        // Work on boundary offsets so that every regex pass only cuts existing pieces further.
        List<int[]> pieces = new ArrayList<>();
        if (!text.isEmpty()) pieces.add(new int[] {0, text.length()});
        for (Pattern p : patterns) {
            List<int[]> next = new ArrayList<>(pieces.size() * 2);
            Matcher m = p.matcher(text);
            for (int[] piece : pieces) {
                int start = piece[0], end = piece[1];
                m.region(start, end);
                int pos = start;
                while (m.find()) {
                    if (m.end() == m.start()) continue; // empty matches cut nothing
                    if (m.start() > pos) next.add(new int[] {pos, m.start()});
                    next.add(new int[] {m.start(), m.end()});
                    pos = m.end();
                }
                if (pos < end) next.add(new int[] {pos, end});
            }
            pieces = next;
        }
        List<String> words = new ArrayList<>(pieces.size());
        for (int[] p : pieces) words.add(text.substring(p[0], p[1]));
        return words;
    }
}
