package io.chorus.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the {@link Vocabulary} of a Hugging Face folder from tokenizer.json (byte-level BPE: vocab,
 * merges in either the {@code "a b"} or the {@code ["a", "b"]} form, added tokens, normalizer,
 * pre-tokenizer, post-processor), tokenizer_config.json (bos/eos/pad, add_bos_token,
 * clean_up_tokenization_spaces) and generation_config.json / config.json (the ids that end
 * generation). Encoding then runs on the same BPE machinery as a GGUF vocabulary.
 *
 * <p>The split regex is recognised, not interpreted: the expressions of GPT-2, Llama 3 and Qwen2 (and
 * SmolLM's digit split) map to the {@link PreTokenizer} specs that implement them. SentencePiece-style
 * BPE (Llama 2, Mistral, TinyLlama: a Metaspace pre-tokenizer, or the legacy Prepend + Replace
 * normalizer, with byte fallback) runs on {@link MetaspaceBpe}. Any other pre-tokenizer, normalizer or
 * model type is an error naming it and the file.
 */
final class HfTokenizerFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    /** Split regex of tokenizer.json -> the PreTokenizer spec that implements it. */
    private static final Map<String, String> SPLITS = Map.of(LLAMA3, "llama-bpe", QWEN2, "qwen2", GPT2, "gpt-2");

    private HfTokenizerFiles() {}

    static Vocabulary read(Path dir) {
        Path file = dir.resolve("tokenizer.json");
        JsonNode tok = json(file, true);
        JsonNode config = json(dir.resolve("tokenizer_config.json"), false);
        JsonNode gen = json(dir.resolve("generation_config.json"), false);
        JsonNode model = json(dir.resolve("config.json"), false);

        JsonNode m = tok.path("model");
        String type = m.path("type").asText("BPE");
        if (!type.equals("BPE")) throw unsupported(file, "model type '" + type + "' (supported: BPE)");
        if (!m.path("vocab").isObject()) throw unsupported(file, "a model without a vocab object");

        Vocabulary.Builder b = new Vocabulary.Builder();
        String scheme = metaspaceScheme(tok.get("pre_tokenizer"), tok.get("normalizer"), file);
        if (scheme != null) { // SentencePiece-style BPE (Llama 2, Mistral, TinyLlama)
            b.model = Vocabulary.Model.SPM;
            b.addSpacePrefix = !scheme.equals("never");
            b.prefixFirstOnly = scheme.equals("first");
        } else {
            b.model = Vocabulary.Model.BPE;
            b.pre = preTokenizer(tok.get("pre_tokenizer"), file);
            b.nfc = normalizer(tok.get("normalizer"), file);
        }
        b.ignoreMerges = m.path("ignore_merges").asBoolean(false);
        b.modelName = dir.toAbsolutePath().normalize().getFileName() == null ? "" : dir.toAbsolutePath().normalize().getFileName().toString();

        // ids: the vocab, then added tokens (which may reuse vocab ids or add new ones)
        int size = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = m.get("vocab").fields(); it.hasNext(); ) size = Math.max(size, it.next().getValue().asInt() + 1);
        for (JsonNode a : tok.path("added_tokens")) size = Math.max(size, a.path("id").asInt() + 1);
        String[] pieces = new String[size];
        int[] types = new int[size];
        boolean[] rstrip = new boolean[size];
        for (Iterator<Map.Entry<String, JsonNode>> it = m.get("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt();
            if (id < 0) throw unsupported(file, "negative token id " + id);
            pieces[id] = e.getKey();
            types[id] = TokenType.NORMAL;
        }
        for (JsonNode a : tok.path("added_tokens")) {
            int id = a.path("id").asInt(-1);
            if (id < 0) throw unsupported(file, "an added token without an id: " + a);
            pieces[id] = a.path("content").asText();
            types[id] = a.path("special").asBoolean(false) ? TokenType.CONTROL : TokenType.USER_DEFINED;
            rstrip[id] = a.path("rstrip").asBoolean(false);
        }
        for (int i = 0; i < size; i++) {
            if (pieces[i] == null) { pieces[i] = "[PAD" + i + "]"; types[i] = TokenType.UNUSED; } // holes, as llama.cpp fills them
            else if (scheme != null && types[i] == TokenType.NORMAL && Tokenizer.parseByteToken(pieces[i]) >= 0) types[i] = TokenType.BYTE;
        }
        if (scheme != null && m.hasNonNull("unk_token")) {
            Integer unk = null;
            for (int i = 0; i < size && unk == null; i++) if (pieces[i].equals(m.get("unk_token").asText())) unk = i;
            if (unk != null) types[unk] = TokenType.UNKNOWN;
        }
        b.tokens = pieces;
        b.types = types;
        b.rstrip = rstrip;

        List<String> merges = new ArrayList<>();
        for (JsonNode merge : m.path("merges")) {
            if (merge.isTextual()) merges.add(merge.asText());
            else if (merge.isArray() && merge.size() == 2) merges.add(merge.get(0).asText() + " " + merge.get(1).asText());
            else throw unsupported(file, "merge " + merge + " (expected \"a b\" or [\"a\", \"b\"])");
        }
        b.merges = merges.toArray(String[]::new);

        Vocabulary probe = Vocabulary.build(b); // the piece lookup, to resolve token texts below
        b.bos = id(probe, config, "bos_token");
        b.eos = id(probe, config, "eos_token");
        b.pad = id(probe, config, "pad_token");
        b.unk = m.hasNonNull("unk_token") ? probe.id(m.get("unk_token").asText()) : id(probe, config, "unk_token");
        if (b.eos < 0 && model != null) b.eos = firstId(model.get("eos_token_id"));
        b.addBos = config != null && config.has("add_bos_token") ? config.get("add_bos_token").asBoolean() : prependsSpecial(tok.get("post_processor"));
        b.addEos = config != null && config.path("add_eos_token").asBoolean(false);
        b.cleanSpaces = config != null && config.path("clean_up_tokenization_spaces").asBoolean(false);
        Set<Integer> stop = new LinkedHashSet<>();
        if (gen != null) addIds(gen.get("eos_token_id"), stop);
        if (model != null) addIds(model.get("eos_token_id"), stop);
        b.extraEog = stop.stream().mapToInt(Integer::intValue).toArray();
        return Vocabulary.build(b);
    }

    /**
     * The space-prefix scheme (first, always, never) of a SentencePiece-style tokenizer.json: a Metaspace
     * pre-tokenizer without splitting, or the legacy normalizer Prepend("\u2581") + Replace(" ", "\u2581");
     * null for anything else.
     */
    private static String metaspaceScheme(JsonNode pre, JsonNode norm, Path file) {
        boolean noNorm = norm == null || norm.isNull();
        if (pre != null && pre.path("type").asText().equals("Metaspace")) {
            if (!pre.path("replacement").asText("\u2581").equals("\u2581") || pre.path("split").asBoolean(true)) { // splitting at each space is not implemented
                throw unsupported(file, "pre_tokenizer " + pre);
            }
            if (!noNorm) throw unsupported(file, "normalizer " + norm.path("type").asText() + " with a Metaspace pre_tokenizer");
            if (pre.has("prepend_scheme")) return pre.get("prepend_scheme").asText();
            return pre.path("add_prefix_space").asBoolean(true) ? "always" : "never";
        }
        if ((pre == null || pre.isNull()) && !noNorm && norm.path("type").asText().equals("Sequence")) {
            JsonNode n = norm.path("normalizers");
            if (n.size() == 2 && n.get(0).path("type").asText().equals("Prepend") && n.get(0).path("prepend").asText().equals("\u2581")
                    && n.get(1).path("type").asText().equals("Replace") && n.get(1).path("pattern").path("String").asText().equals(" ")
                    && n.get(1).path("content").asText().equals("\u2581")) {
                return "always";
            }
        }
        return null;
    }

    /** The PreTokenizer spec name for tokenizer.json's pre_tokenizer. */
    private static String preTokenizer(JsonNode p, Path file) {
        if (p == null || p.isNull()) throw unsupported(file, "a byte-level BPE without a pre_tokenizer (supported: ByteLevel, or Metaspace without splitting)");
        List<JsonNode> steps = new ArrayList<>();
        if (p.path("type").asText().equals("Sequence")) p.path("pretokenizers").forEach(steps::add);
        else steps.add(p);
        String split = null;
        boolean digits = false, byteLevel = false, byteLevelRegex = false;
        for (JsonNode s : steps) {
            switch (s.path("type").asText()) {
                case "Split" -> {
                    String regex = s.path("pattern").path("Regex").asText(null);
                    if (regex == null || !s.path("behavior").asText().equals("Isolated") || s.path("invert").asBoolean(false)) {
                        throw unsupported(file, "pre_tokenizer Split " + s);
                    }
                    split = SPLITS.get(regex);
                    if (split == null) throw unsupported(file, "pre_tokenizer split regex " + regex + " (supported: the GPT-2, Llama 3 and Qwen2 expressions)");
                }
                case "Digits" -> {
                    if (!s.path("individual_digits").asBoolean(false)) throw unsupported(file, "pre_tokenizer Digits without individual_digits");
                    digits = true;
                }
                case "ByteLevel" -> {
                    if (s.path("add_prefix_space").asBoolean(false)) throw unsupported(file, "pre_tokenizer ByteLevel with add_prefix_space true");
                    byteLevel = true;
                    byteLevelRegex = s.path("use_regex").asBoolean(true);
                }
                default -> throw unsupported(file, "pre_tokenizer " + s.path("type").asText() + " (supported: Split, Digits, ByteLevel)");
            }
        }
        if (!byteLevel) throw unsupported(file, "a pre_tokenizer without ByteLevel (supported: ByteLevel, or Metaspace without splitting)");
        if (split != null && !byteLevelRegex && !digits) return split;
        if (split == null && byteLevelRegex) return digits ? "smollm" : "gpt-2";
        throw unsupported(file, "pre_tokenizer " + p);
    }

    /** True for NFC, false for none; anything else is unsupported. */
    private static boolean normalizer(JsonNode n, Path file) {
        if (n == null || n.isNull()) return false;
        String type = n.path("type").asText();
        if (type.equals("NFC")) return true;
        throw unsupported(file, "normalizer " + type + " (supported: none, NFC)");
    }

    /** True when the post-processor puts a special token before the text (BOS). */
    private static boolean prependsSpecial(JsonNode p) {
        if (p == null || p.isNull()) return false;
        if (p.path("type").asText().equals("Sequence")) {
            for (JsonNode s : p.path("processors")) if (prependsSpecial(s)) return true;
            return false;
        }
        if (!p.path("type").asText().equals("TemplateProcessing")) return false;
        JsonNode single = p.path("single");
        return single.isArray() && !single.isEmpty() && single.get(0).has("SpecialToken");
    }

    /** The id of tokenizer_config.json's token text (a string or {"content": ...}), or -1. */
    private static int id(Vocabulary v, JsonNode config, String key) {
        if (config == null) return -1;
        JsonNode t = config.get(key);
        if (t == null || t.isNull()) return -1;
        String text = t.isTextual() ? t.asText() : t.path("content").asText(null);
        return text == null ? -1 : v.id(text);
    }

    private static int firstId(JsonNode n) {
        if (n == null) return -1;
        if (n.isInt()) return n.asInt();
        return n.isArray() && !n.isEmpty() ? n.get(0).asInt(-1) : -1;
    }

    private static void addIds(JsonNode n, Set<Integer> out) {
        if (n == null) return;
        if (n.isInt()) out.add(n.asInt());
        else if (n.isArray()) for (JsonNode x : n) if (x.isInt()) out.add(x.asInt());
    }

    private static JsonNode json(Path file, boolean required) {
        if (!Files.isRegularFile(file)) {
            if (required) throw new IllegalArgumentException(file + ": no such file (a Hugging Face model folder needs tokenizer.json)");
            return null;
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read JSON: " + e.getMessage(), e);
        }
    }

    private static IllegalArgumentException unsupported(Path file, String what) {
        return new IllegalArgumentException(file + ": " + what + " is not supported");
    }
}
