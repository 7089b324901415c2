package io.chorus.tokenizer;

import io.chorus.model.gguf.GgufFile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The token table of a model: piece text, score and type per id, the reverse lookup, special ids
 * and the flags that steer encoding and decoding. Built from GGUF metadata with the same defaults
 * and guesses llama.cpp applies, so ids and rendered text match llama.cpp's.
 */
public final class Vocabulary {
    /** Texts that mark an end-of-turn token when the file names none (llama.cpp guesses the same way). */
    private static final List<String> EOT_GUESSES = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>");
    /** Texts whose tokens end generation, whatever the metadata says. */
    private static final List<String> EOG_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>");

    public enum Model { SPM, BPE }

    final Model model;
    final String preName;
    final String[] pieces;
    final float[] scores;
    final int[] types;
    /** Per-token flags: strip whitespace to the right of the token when it is matched in text. */
    final boolean[] rstrip;
    final Map<String, Integer> idOf;
    final int bos, eos, eot, eom, unk, pad, sep;
    final boolean addBos, addEos, addSpacePrefix, cleanSpaces, ignoreMerges;
    /** Unicode NFC-normalize text before splitting it (tokenizer.json's NFC normalizer, Qwen2). */
    final boolean nfc;
    /** Add the SentencePiece space prefix only at the very start of the text, not after special tokens (Metaspace prepend_scheme first). */
    final boolean prefixFirstOnly;
    final Set<Integer> eog;
    final String[] merges;

    private Vocabulary(Builder b) {
        this.model = b.model;
        this.preName = b.pre;
        this.pieces = b.tokens;
        int n = pieces.length;
        this.scores = b.scores != null ? b.scores : new float[n];
        this.types = new int[n];
        for (int i = 0; i < n; i++) {
            int t = b.types != null && i < b.types.length ? b.types[i] : TokenType.NORMAL;
            types[i] = t == TokenType.UNDEFINED ? TokenType.NORMAL : t;
        }
        this.merges = b.merges;
        idOf = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) idOf.put(pieces[i], i); // the last duplicate wins, as in llama.cpp

        int eotId = valid(b.eot);
        boolean eotGuessed = false;
        if (eotId < 0) {
            for (String t : EOT_GUESSES) {
                Integer id = idOf.get(t);
                if (id != null) { eotId = id; eotGuessed = true; break; }
            }
        }
        this.bos = valid(b.bos);
        this.eos = valid(b.eos);
        this.eot = eotId;
        this.eom = valid(b.eom != -1 ? b.eom : idOf.getOrDefault("<|eom_id|>", -1));
        this.unk = valid(b.unk);
        this.pad = valid(b.pad);
        this.sep = valid(b.sep);
        this.addBos = b.addBos;
        this.addEos = b.addEos;
        this.addSpacePrefix = b.addSpacePrefix;
        this.cleanSpaces = b.cleanSpaces;
        this.ignoreMerges = b.ignoreMerges;
        this.nfc = b.nfc;
        this.prefixFirstOnly = b.prefixFirstOnly;

        // Guessed end-of-turn tokens behave as control tokens even if the file calls them normal.
        if (eotGuessed) types[eot] = TokenType.CONTROL;
        Set<Integer> eogIds = new LinkedHashSet<>();
        for (String t : EOG_TEXTS) {
            Integer id = idOf.get(t);
            if (id != null) { eogIds.add(id); types[id] = TokenType.CONTROL; }
        }
        if (eos >= 0) eogIds.add(eos);
        if (eot >= 0) eogIds.add(eot);
        if (eom >= 0) eogIds.add(eom);
        if (b.extraEog != null) for (int id : b.extraEog) if (valid(id) >= 0) eogIds.add(id);
        this.eog = Set.copyOf(eogIds);

        // Phi-3 models strip the whitespace after their special tokens (llama.cpp keys this on the model name).
        this.rstrip = new boolean[n];
        String name = b.modelName == null ? "" : b.modelName.toLowerCase(java.util.Locale.ROOT);
        if (name.contains("phi-3") || name.contains("phi3")) {
            for (int i = 0; i < n; i++) rstrip[i] = isPartitioned(i);
            setRstrip("</s>", true);
            for (String t : List.of("<unk>", "<s>", "<|endoftext|>")) setRstrip(t, false);
        }
        if (b.rstrip != null) for (int i = 0; i < Math.min(n, b.rstrip.length); i++) rstrip[i] |= b.rstrip[i];
    }

    private void setRstrip(String text, boolean v) {
        Integer id = idOf.get(text);
        if (id != null) rstrip[id] = v;
    }

    private int valid(int id) {
        return id >= 0 && id < pieces.length ? id : -1;
    }

    /** Tokens that the special-token splitter looks for in text: control, user-defined and unknown. */
    boolean isPartitioned(int id) {
        int t = types[id];
        return t == TokenType.CONTROL || t == TokenType.USER_DEFINED || t == TokenType.UNKNOWN;
    }

    public int size() { return pieces.length; }
    public String piece(int id) { return pieces[id]; }
    public int type(int id) { return types[id]; }
    public float score(int id) { return scores[id]; }
    /** The id of exactly this piece text, or -1. */
    public int id(String piece) {
        Integer id = idOf.get(piece);
        return id == null ? -1 : id;
    }
    public Model model() { return model; }
    public String preTokenizer() { return preName; }

    static final List<String> SUPPORTED_MODELS = List.of("llama", "gpt2");

    /** Reads the vocabulary from a GGUF file's {@code tokenizer.ggml.*} metadata. */
    public static Vocabulary fromGguf(GgufFile f) {
        String modelName = f.getString("tokenizer.ggml.model", null);
        if (modelName == null) throw new IllegalArgumentException("GGUF file has no tokenizer.ggml.model; supported tokenizer models: " + SUPPORTED_MODELS);
        Builder b = new Builder();
        b.tokens = f.getStringArray("tokenizer.ggml.tokens");
        b.scores = f.has("tokenizer.ggml.scores") ? f.getFloatArray("tokenizer.ggml.scores") : null;
        b.types = f.has("tokenizer.ggml.token_type") ? f.getIntArray("tokenizer.ggml.token_type") : null;
        b.modelName = f.getString("general.name", "");
        switch (modelName) {
            case "llama" -> {
                b.model = Model.SPM;
                b.pre = "default";
                b.bos = 1; b.eos = 2; b.unk = 0;
                b.addBos = true; b.addSpacePrefix = true;
            }
            case "gpt2" -> {
                b.model = Model.BPE;
                b.merges = f.getStringArray("tokenizer.ggml.merges");
                b.bos = 11; b.eos = 11;
                b.addSpacePrefix = false;
                b.pre = f.getString("tokenizer.ggml.pre", "default");
                PreTokenizer.Spec spec = PreTokenizer.spec(b.pre); // rejects unknown names
                b.cleanSpaces = spec.cleanSpaces();
                b.ignoreMerges = spec.ignoreMerges();
                b.addBos = spec.addBos();
            }
            default -> throw new IllegalArgumentException("unsupported tokenizer model '" + modelName
                    + "' (tokenizer.ggml.model); supported: " + SUPPORTED_MODELS);
        }
        b.bos = f.getInt("tokenizer.ggml.bos_token_id", b.bos);
        b.eos = f.getInt("tokenizer.ggml.eos_token_id", b.eos);
        b.eot = f.getInt("tokenizer.ggml.eot_token_id", -1);
        b.eom = f.getInt("tokenizer.ggml.eom_token_id", -1);
        b.unk = f.getInt("tokenizer.ggml.unknown_token_id", b.unk);
        b.pad = f.getInt("tokenizer.ggml.padding_token_id", -1);
        b.sep = f.getInt("tokenizer.ggml.seperator_token_id", -1);
        b.addSpacePrefix = f.getBool("tokenizer.ggml.add_space_prefix", b.addSpacePrefix);
        b.addBos = f.getBool("tokenizer.ggml.add_bos_token", b.addBos);
        b.addEos = f.getBool("tokenizer.ggml.add_eos_token", b.addEos);
        return new Vocabulary(b);
    }

    /** A vocabulary from a builder filled by another reader (tokenizer.json). */
    static Vocabulary build(Builder b) {
        return new Vocabulary(b);
    }

    static final class Builder {
        Model model;
        String pre = "default";
        String modelName;
        String[] tokens;
        float[] scores;
        int[] types;
        String[] merges;
        int bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1, sep = -1;
        boolean addBos, addEos, addSpacePrefix, cleanSpaces, ignoreMerges, nfc, prefixFirstOnly;
        /** Ids that also end generation (generation_config.json's eos_token_id), or null. */
        int[] extraEog;
        /** Per id, strip whitespace after the token when matched in text, or null. */
        boolean[] rstrip;
    }

    @Override
    public String toString() {
        return "Vocabulary[" + model + ", pre=" + preName + ", n=" + pieces.length + ", bos=" + bos + ", eos=" + eos
                + ", eot=" + eot + ", addBos=" + addBos + ", eog=" + new ArrayList<>(eog) + "]";
    }
}
