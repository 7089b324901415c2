package io.chorus.tokenizer;

import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Small vocabularies written with GgufWriter, so tokenizer tests run without the shared fixtures. */
final class TestVocabs {
    private TestVocabs() {}

    static final String[] SPM_PIECES = {"▁", "h", "e", "l", "o", "w", "r", "d", "a", "b", "c", "!", "1", "2",
            "▁h", "▁he", "ll", "llo", "▁hello", "▁w", "or", "▁wor", "▁world", "ld", "ab", "abc", "▁abc"};

    /** An SPM vocabulary: unk, bos, eos, 256 byte tokens, a few pieces and a user-defined token. */
    static Tokenizer spm() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Integer> types = new ArrayList<>(List.of(TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(TokenType.BYTE);
            scores.add(0f);
        }
        for (int i = 0; i < SPM_PIECES.length; i++) {
            tokens.add(SPM_PIECES[i]);
            types.add(TokenType.NORMAL);
            // Longer pieces score higher, so whole words win over their parts.
            scores.add(-100f + SPM_PIECES[i].length() * 10 - i * 0.01f);
        }
        tokens.add("<|user|>");
        types.add(TokenType.USER_DEFINED);
        scores.add(0f);
        return build(w -> {
            w.putString("tokenizer.ggml.model", "llama");
            w.putStrings("tokenizer.ggml.tokens", tokens.toArray(String[]::new));
            w.putFloats("tokenizer.ggml.scores", toFloats(scores));
            w.putInts("tokenizer.ggml.token_type", types.stream().mapToInt(Integer::intValue).toArray());
            w.putUInt32("tokenizer.ggml.bos_token_id", 1);
            w.putUInt32("tokenizer.ggml.eos_token_id", 2);
            w.putUInt32("tokenizer.ggml.unknown_token_id", 0);
        });
    }

    static final String[][] BPE_MERGES = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"},
            {"o", "r"}, {"Ġw", "or"}, {"Ġwor", "l"}, {"Ġworl", "d"}, {"Ġ", "h"}, {"Ġh", "e"}, {"Ġhe", "ll"},
            {"Ġhell", "o"}, {"Ġ", "Ġ"}, {"1", "2"}, {"Ċ", "Ċ"}};

    /** A byte-level BPE vocabulary: the 256 byte characters, a few merges, control and user-defined tokens. */
    static Tokenizer bpe(String pre) {
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteUnicode.charOf(b)));
            types.add(TokenType.NORMAL);
        }
        String[] merges = new String[BPE_MERGES.length];
        for (int i = 0; i < BPE_MERGES.length; i++) {
            merges[i] = BPE_MERGES[i][0] + " " + BPE_MERGES[i][1];
            tokens.add(BPE_MERGES[i][0] + BPE_MERGES[i][1]);
            types.add(TokenType.NORMAL);
        }
        for (String s : List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>")) {
            tokens.add(s);
            types.add(TokenType.CONTROL);
        }
        tokens.add("<tool>");
        types.add(TokenType.USER_DEFINED);
        int eot = tokens.indexOf("<|endoftext|>");
        return build(w -> {
            w.putString("tokenizer.ggml.model", "gpt2");
            w.putString("tokenizer.ggml.pre", pre);
            w.putStrings("tokenizer.ggml.tokens", tokens.toArray(String[]::new));
            w.putInts("tokenizer.ggml.token_type", types.stream().mapToInt(Integer::intValue).toArray());
            w.putStrings("tokenizer.ggml.merges", merges);
            w.putUInt32("tokenizer.ggml.bos_token_id", eot);
            w.putUInt32("tokenizer.ggml.eos_token_id", eot);
            w.putBool("tokenizer.ggml.add_bos_token", false);
        });
    }

    static Tokenizer build(Consumer<GgufWriter> metadata) {
        try {
            Path tmp = Files.createTempFile("vocab", ".gguf");
            try {
                GgufWriter w = new GgufWriter();
                metadata.accept(w);
                w.write(tmp);
                try (GgufFile f = GgufFile.open(tmp)) {
                    return Tokenizer.fromGguf(f);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static float[] toFloats(List<Float> l) {
        float[] a = new float[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = l.get(i);
        return a;
    }
}
