package io.chorus.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.model.checkpoint.HfCheckpoint;
import io.chorus.model.gguf.GgufFile;
import io.chorus.testing.Fixtures;
import io.chorus.tokenizer.template.ChatTemplate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tokenizer.json / tokenizer_config.json / generation_config.json read into a vocabulary: the hf
 * fixture folders' prompt and chat ids, and the large GGUF fixture vocabularies written out as
 * tokenizer.json giving the ids Hugging Face wrote for llama.cpp's test strings.
 */
class HfTokenizerFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SEP = "\n__ggml_vocab_test__\n";

    @ParameterizedTest
    @ValueSource(strings = {"llama-bf16", "qwen2-bf16"})
    void fixtureFolderGivesReferenceIds(String name) throws IOException {
        Path dir = Fixtures.require("hf/" + name);
        JsonNode ref = JSON.readTree(dir.resolve("ref.json").toFile()).get("tokenizer");
        Tokenizer tok = new Tokenizer(HfTokenizerFiles.read(dir));
        boolean llama = name.startsWith("llama");
        assertThat(tok.vocabSize()).isEqualTo(512);
        assertThat(tok.addBos()).isEqualTo(llama);
        assertThat(tok.bosId()).isEqualTo(llama ? 508 : -1);
        assertThat(tok.eosId()).isEqualTo(511);
        assertThat(tok.isEog(511)).isTrue();
        assertThat(tok.isEog(509)).isTrue();   // generation_config.json's second eos id
        assertThat(tok.isEog(510)).isFalse();
        assertThat(tok.isSpecial(510)).isTrue();
        assertThat(tok.tokenPiece(32)).isEqualTo("\u0120");

        String text = ref.get("prompt_text").asText();
        int[] full = ints(ref.get("full_prompt_ids"));
        assertThat(tok.encode(text, true, false)).containsExactly(full);
        int[] noBos = llama ? Arrays.copyOfRange(full, 1, full.length) : full;
        assertThat(tok.decode(noBos)).isEqualTo(text);

        JsonNode chat = ref.get("chat_example");
        String template;
        try (HfCheckpoint c = HfCheckpoint.open(dir)) {
            template = c.chatTemplate();
        }
        List<Map<String, Object>> messages = new ArrayList<>();
        for (JsonNode m : chat.get("messages")) messages.add(Map.of("role", m.get("role").asText(), "content", m.get("content").asText()));
        String rendered = ChatTemplate.compile(template).render(Map.of("messages", messages, "add_generation_prompt", true));
        assertThat(rendered).isEqualTo(chat.get("text").asText());
        assertThat(tok.encode(rendered, false, true)).containsExactly(ints(chat.get("ids_add_special_tokens_false")));
    }

    /**
     * A GGUF fixture vocabulary written as the tokenizer.json of its family (vocab, merges as pairs,
     * added tokens, the family's split regex and normalizer) gives, through the tokenizer.json reader,
     * the ids Hugging Face wrote for llama.cpp's test strings: the same ids as the GGUF vocabulary.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama3-rebuilt", "qwen2-rebuilt", "gpt-2"})
    void tokenizerJsonOfFixtureVocabularyMatchesHuggingFaceIds(String vocab, @TempDir Path tmp) throws IOException {
        Path dir = Fixtures.require("tokenizer");
        writeTokenizerJson(dir.resolve("ggml-vocab-" + vocab + ".gguf"), vocab, tmp);
        Tokenizer tok = new Tokenizer(HfTokenizerFiles.read(tmp));
        String inp = Files.readString(dir.resolve("ggml-vocab-" + vocab + ".gguf.inp"), StandardCharsets.UTF_8);
        List<String> expected = Files.readAllLines(dir.resolve("ggml-vocab-" + vocab + ".gguf.out"), StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>(Arrays.asList(inp.split(SEP, -1)));
        texts.removeLast();
        assertThat(texts).hasSameSizeAs(expected);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String got = FixtureVocabTest.ids(tok.encode(texts.get(i), false, false));
            if (!got.equals(expected.get(i))) failures.add("#" + i + " " + FixtureVocabTest.quote(texts.get(i)) + "\n  want" + expected.get(i) + "\n  got " + got);
        }
        assertThat(failures).as(vocab).isEmpty();
    }

    /**
     * The Llama 2 SentencePiece vocabulary written as Hugging Face's converter writes its tokenizer.json
     * (merges extracted from the pieces and ordered by score, byte fallback, the legacy Prepend + Replace
     * normalizer) gives the ids Hugging Face wrote for llama.cpp's test strings.
     */
    @Test
    void sentencePieceStyleTokenizerJsonMatchesHuggingFaceIds(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.require("tokenizer");
        try (GgufFile f = GgufFile.open(dir.resolve("ggml-vocab-llama-spm.gguf"))) {
            String[] tokens = f.getStringArray("tokenizer.ggml.tokens");
            float[] scores = f.getFloatArray("tokenizer.ggml.scores");
            int[] types = f.getIntArray("tokenizer.ggml.token_type");
            Map<String, Integer> ids = new java.util.HashMap<>();
            ObjectNode root = JSON.createObjectNode();
            ArrayNode added = root.putArray("added_tokens");
            ObjectNode model = JSON.createObjectNode();
            model.put("type", "BPE").put("byte_fallback", true).put("fuse_unk", true).put("unk_token", "<unk>");
            ObjectNode v = model.putObject("vocab");
            for (int i = 0; i < tokens.length; i++) {
                v.put(tokens[i], i);
                ids.put(tokens[i], i);
                if (types[i] == TokenType.CONTROL || types[i] == TokenType.UNKNOWN) {
                    added.addObject().put("id", i).put("content", tokens[i]).put("special", true);
                }
            }
            // transformers' SentencePieceExtractor: every split of a piece into two pieces, ordered by the piece's score
            record Merge(String l, String r, float score) {}
            List<Merge> merges = new ArrayList<>();
            for (int i = 0; i < tokens.length; i++) {
                if (types[i] != TokenType.NORMAL) continue;
                int[] cps = tokens[i].codePoints().toArray();
                List<Merge> local = new ArrayList<>();
                for (int k = 1; k < cps.length; k++) {
                    String l = new String(cps, 0, k), r = new String(cps, k, cps.length - k);
                    if (ids.containsKey(l) && ids.containsKey(r)) local.add(new Merge(l, r, scores[i]));
                }
                local.sort(java.util.Comparator.comparingInt((Merge m) -> ids.get(m.l())).thenComparingInt(m -> ids.get(m.r())));
                merges.addAll(local);
            }
            merges.sort(java.util.Comparator.comparingDouble((Merge m) -> -m.score()));
            ArrayNode ma = model.putArray("merges");
            for (Merge m : merges) ma.add(m.l() + " " + m.r());
            root.set("model", model);
            ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
            ArrayNode ns = norm.putArray("normalizers");
            ns.addObject().put("type", "Prepend").put("prepend", "\u2581");
            ObjectNode rep = ns.addObject().put("type", "Replace").put("content", "\u2581");
            rep.putObject("pattern").put("String", " ");
            root.putNull("pre_tokenizer");
            JSON.writeValue(tmp.resolve("tokenizer.json").toFile(), root);
        }
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"add_bos_token\": true}");
        Tokenizer tok = new Tokenizer(HfTokenizerFiles.read(tmp));
        assertThat(tok.bosId()).isEqualTo(1);
        assertThat(tok.eosId()).isEqualTo(2);
        assertThat(tok.encode("Hello world", true, false)).containsExactly(1, 15043, 3186);
        assertThat(tok.decode(new int[] {15043, 3186})).isEqualTo("Hello world");
        String inp = Files.readString(dir.resolve("ggml-vocab-llama-spm.gguf.inp"), StandardCharsets.UTF_8);
        List<String> expected = Files.readAllLines(dir.resolve("ggml-vocab-llama-spm.gguf.out"), StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>(Arrays.asList(inp.split(SEP, -1)));
        texts.removeLast();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String got = FixtureVocabTest.ids(tok.encode(texts.get(i), false, false));
            if (!got.equals(expected.get(i))) failures.add("#" + i + " " + FixtureVocabTest.quote(texts.get(i)) + "\n  want" + expected.get(i) + "\n  got " + got);
        }
        assertThat(failures).isEmpty();

        // The same vocabulary with the newer Metaspace pre-tokenizer: "always" prefixes a space after a special
        // token as the legacy normalizer does; "first" only at the start of the text.
        assertThat(tok.encode("Hello<s>world", false, true)).containsExactly(15043, 1, tok.vocabulary().id("\u2581world"));
        ObjectNode json = (ObjectNode) JSON.readTree(tmp.resolve("tokenizer.json").toFile());
        json.putNull("normalizer");
        json.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", "first").put("split", false);
        JSON.writeValue(tmp.resolve("tokenizer.json").toFile(), json);
        Tokenizer first = new Tokenizer(HfTokenizerFiles.read(tmp));
        assertThat(first.encode("Hello<s>world", false, true)).containsExactly(15043, 1, first.vocabulary().id("world"));
        assertThat(first.encode("Hello world", true, false)).containsExactly(1, 15043, 3186);
        json.with("pre_tokenizer").put("split", true);
        JSON.writeValue(tmp.resolve("tokenizer.json").toFile(), json);
        assertThatThrownBy(() -> HfTokenizerFiles.read(tmp)).hasMessageContaining("pre_tokenizer {\"type\":\"Metaspace\"");
    }

    @Test
    void unsupportedPreTokenizerIsNamed(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("tokenizer.json"), """
                {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                 "pre_tokenizer": {"type": "Whitespace"}}""");
        assertThatThrownBy(() -> HfTokenizerFiles.read(tmp)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(tmp.resolve("tokenizer.json").toString()).hasMessageContaining("pre_tokenizer Whitespace");
        Files.writeString(tmp.resolve("tokenizer.json"), """
                {"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}""");
        assertThatThrownBy(() -> HfTokenizerFiles.read(tmp)).hasMessageContaining("model type 'Unigram'");
        Files.writeString(tmp.resolve("tokenizer.json"), """
                {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                 "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\\\w+"}, "behavior": "Isolated", "invert": false}}""");
        assertThatThrownBy(() -> HfTokenizerFiles.read(tmp)).hasMessageContaining("split regex \\w+");
    }

    private static void writeTokenizerJson(Path gguf, String vocab, Path out) throws IOException {
        try (GgufFile f = GgufFile.open(gguf)) {
            String[] tokens = f.getStringArray("tokenizer.ggml.tokens");
            int[] types = f.getIntArray("tokenizer.ggml.token_type");
            String[] merges = f.getStringArray("tokenizer.ggml.merges");
            ObjectNode root = JSON.createObjectNode();
            ArrayNode added = root.putArray("added_tokens");
            ObjectNode model = JSON.createObjectNode();
            model.put("type", "BPE").put("byte_fallback", false).put("ignore_merges", vocab.startsWith("llama3"));
            ObjectNode v = model.putObject("vocab");
            for (int i = 0; i < tokens.length; i++) {
                if (types[i] == TokenType.CONTROL || types[i] == TokenType.USER_DEFINED) {
                    added.addObject().put("id", i).put("content", tokens[i]).put("special", types[i] == TokenType.CONTROL)
                            .put("normalized", false).put("rstrip", false).put("lstrip", false);
                } else {
                    v.put(tokens[i], i);
                }
            }
            ArrayNode m = model.putArray("merges");
            for (String merge : merges) {
                int sp = merge.indexOf(' ', 1);
                m.addArray().add(merge.substring(0, sp)).add(merge.substring(sp + 1));
            }
            String regex = switch (vocab) {
                case "llama3-rebuilt" -> "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
                case "qwen2-rebuilt" -> "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
                default -> null;
            };
            if (regex == null) {
                root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
            } else {
                ObjectNode seq = root.putObject("pre_tokenizer").put("type", "Sequence");
                ArrayNode steps = seq.putArray("pretokenizers");
                ObjectNode split = steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false);
                split.putObject("pattern").put("Regex", regex);
                steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
            }
            if (vocab.startsWith("qwen2")) root.putObject("normalizer").put("type", "NFC");
            else root.putNull("normalizer");
            root.set("model", model);
            JSON.writeValue(out.resolve("tokenizer.json").toFile(), root);
        }
    }

    private static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }
}
