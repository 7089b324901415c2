package io.chorus.tokenizer;

import io.chorus.model.checkpoint.Checkpoint;
import io.chorus.model.checkpoint.GgufCheckpoint;
import io.chorus.model.gguf.GgufFile;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Text to token ids and back for a model's vocabulary, matching llama.cpp (b4748) id for id:
 * SentencePiece-style vocabularies ({@code tokenizer.ggml.model = llama}) and byte-level BPE ones
 * ({@code gpt2}) with the pre-tokenizer named by {@code tokenizer.ggml.pre}. Thread-safe; share one
 * instance per model.
 *
 * <p>Java strings may hold lone surrogates, which have no UTF-8 form: {@link #encode} treats each one
 * as U+FFFD, so such text round-trips with U+FFFD in their place.
 */
public final class Tokenizer {
    private final Vocabulary vocab;
    private final SpecialTokenSplitter splitter;
    private final SpecialTextShield shield;
    private final SpmTokenizer spm;
    private final MetaspaceBpe metaspace; // SentencePiece-style vocabularies with merges (tokenizer.json)
    private final BpeTokenizer bpe;
    /** Per id, the bytes the token renders as when special tokens are shown. */
    private final byte[][] pieceBytes;

    public Tokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.splitter = new SpecialTokenSplitter(vocab);
        this.shield = new SpecialTextShield(vocab);
        this.spm = vocab.model == Vocabulary.Model.SPM && vocab.merges == null ? new SpmTokenizer(vocab) : null;
        this.metaspace = vocab.model == Vocabulary.Model.SPM && vocab.merges != null ? new MetaspaceBpe(vocab) : null;
        this.bpe = vocab.model == Vocabulary.Model.BPE ? new BpeTokenizer(vocab) : null;
        this.pieceBytes = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) pieceBytes[id] = renderPiece(id);
    }

    public static Tokenizer fromGguf(GgufFile file) {
        return new Tokenizer(Vocabulary.fromGguf(file));
    }

    /** The tokenizer a checkpoint was published with: GGUF metadata, or a folder's tokenizer.json. */
    public static Tokenizer of(Checkpoint checkpoint) {
        if (checkpoint instanceof GgufCheckpoint g) return fromGguf(g.file());
        return new Tokenizer(HfTokenizerFiles.read(checkpoint.path()));
    }

    public Vocabulary vocabulary() { return vocab; }
    public int vocabSize() { return vocab.size(); }
    /** The beginning-of-sequence id, or -1. */
    public int bosId() { return vocab.bos; }
    /** The end-of-sequence id, or -1. */
    public int eosId() { return vocab.eos; }
    /** The end-of-turn id (from metadata or guessed from its text), or -1. */
    public int eotId() { return vocab.eot; }
    /** The unknown-token id, or -1. */
    public int unkId() { return vocab.unk; }
    /** The padding id, or -1. */
    public int padId() { return vocab.pad; }
    public boolean addBos() { return vocab.addBos; }
    public boolean addEos() { return vocab.addEos; }

    /** True for tokens that end generation: EOS, EOT, EOM and tokens such as {@code <|im_end|>}. */
    public boolean isEog(int id) {
        return vocab.eog.contains(id);
    }

    /** True for control, unknown and user-defined tokens, the ones written as their own text. */
    public boolean isSpecial(int id) {
        checkId(id);
        return vocab.isPartitioned(id);
    }

    /** The raw vocabulary string of a token (with ▁ or byte-mapped characters as stored). */
    public String tokenPiece(int id) {
        checkId(id);
        return vocab.piece(id);
    }

    /** The bytes a token stands for in text (special tokens as their text). */
    public byte[] tokenBytes(int id) {
        checkId(id);
        return pieceBytes[id].clone();
    }

    /** Drops the per-word BPE cache (for benchmarks that measure uncached encoding). */
    public void clearCache() {
        if (bpe != null) bpe.clearCache();
    }

    /** Encodes text with the vocabulary's default: BOS/EOS as configured, special-token text parsed. */
    public int[] encode(String text) {
        return encode(text, true, true);
    }

    /**
     * Encodes text.
     *
     * @param addSpecial   add BOS/EOS where the vocabulary asks for them
     * @param parseSpecial recognise the text of control tokens (such as {@code <|im_start|>}) as those
     *                     tokens; user-defined tokens are recognised either way, as in llama.cpp
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        return encode(text, addSpecial, parseSpecial, false);
    }

    /**
     * Marks control-token text inside {@code content} (text from a user, placed into a template) so
     * that {@link #encodeRendered} tokenizes it as plain text, as if special parsing were off for it.
     */
    public String shieldSpecialText(String content) {
        return shield.shield(content);
    }

    /**
     * Encodes a rendered chat prompt: control tokens the template wrote are parsed; text marked by
     * {@link #shieldSpecialText} is tokenized as plain text.
     */
    public int[] encodeRendered(String text, boolean addSpecial) {
        return encode(text, addSpecial, true, true);
    }

    private int[] encode(String text, boolean addSpecial, boolean parseSpecial, boolean shielded) {
        text = replaceLoneSurrogates(text);
        IntList out = new IntList();
        if (addSpecial && vocab.addBos && vocab.bos >= 0) out.add(vocab.bos);
        List<SpecialTokenSplitter.Fragment> frags = text.isEmpty() ? List.of() : splitter.split(text, parseSpecial);
        if (shielded) frags = frags.stream().map(f -> f.isText() ? new SpecialTokenSplitter.Fragment(-1, SpecialTextShield.unshield(f.text())) : f).toList();
        if (vocab.model == Vocabulary.Model.SPM) {
            boolean prevSpecial = true; // SentencePiece adds its space prefix at the start and after special tokens
            boolean first = true;
            for (SpecialTokenSplitter.Fragment f : frags) {
                if (f.isText()) {
                    String s = vocab.addSpacePrefix && prevSpecial && (first || !vocab.prefixFirstOnly) ? " " + f.text() : f.text();
                    if (metaspace != null) metaspace.encode(s.replace(' ', '\u2581'), out);
                    else spm.encode(s.replace(' ', '\u2581'), out);
                    prevSpecial = false;
                } else {
                    out.add(f.token());
                    prevSpecial = true;
                }
                first = false;
            }
        } else {
            for (SpecialTokenSplitter.Fragment f : frags) {
                if (f.isText()) bpe.encode(vocab.nfc ? java.text.Normalizer.normalize(f.text(), java.text.Normalizer.Form.NFC) : f.text(), out);
                else out.add(f.token());
            }
        }
        if (addSpecial && vocab.addEos && vocab.eos >= 0) out.add(vocab.eos);
        return out.toArray();
    }

    /** Decodes ids to text, showing special tokens as their text. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes ids to text as llama.cpp's llama_detokenize does with {@code remove_special = skipSpecial}
     * and {@code unparse_special = !skipSpecial}: with skipSpecial false every token is rendered (control
     * tokens as their text); with skipSpecial true control and unknown tokens render as nothing and a leading
     * BOS (trailing EOS) added by the vocabulary is dropped. SentencePiece's added space prefix is
     * removed from the first token; invalid UTF-8 becomes U+FFFD (see {@link Utf8Decoder}).
     */
    public String decode(int[] ids, boolean skipSpecial) {
        int start = 0, end = ids.length;
        boolean removeSpace = vocab.addSpacePrefix;
        if (skipSpecial && vocab.addBos && end > 0 && ids[0] == vocab.bos) { removeSpace = false; start = 1; }
        if (skipSpecial && vocab.addEos && end > start && ids[end - 1] == vocab.eos) end--;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = start; i < end; i++) {
            byte[] p = piece(ids[i], skipSpecial);
            int from = removeSpace && i == start && p.length > 0 && p[0] == ' ' ? 1 : 0;
            bytes.write(p, from, p.length - from);
        }
        String text = Utf8Decoder.decode(bytes.toByteArray());
        return vocab.cleanSpaces ? SpaceCleaner.clean(text) : text;
    }

    /** A new streaming decoder for one output stream. */
    public StreamingDetokenizer streamingDetokenizer(boolean skipSpecial) {
        return new StreamingDetokenizer(this, skipSpecial);
    }

    /** A new streaming decoder that renders the tokens {@code alwaysRender} accepts even when skipping special tokens. */
    public StreamingDetokenizer streamingDetokenizer(boolean skipSpecial, java.util.function.IntPredicate alwaysRender) {
        return new StreamingDetokenizer(this, skipSpecial, alwaysRender);
    }

    /** The bytes of a token in decoded text; empty for control/unknown tokens when they are skipped. */
    byte[] piece(int id, boolean skipSpecial) {
        checkId(id);
        if (skipSpecial) {
            int t = vocab.type(id);
            if (t == TokenType.CONTROL || t == TokenType.UNKNOWN) return new byte[0];
        }
        return pieceBytes[id];
    }

    Vocabulary vocab() { return vocab; }

    private byte[] renderPiece(int id) {
        String text = vocab.piece(id);
        switch (vocab.type(id)) {
            case TokenType.CONTROL, TokenType.UNKNOWN, TokenType.USER_DEFINED -> {
                return text.getBytes(StandardCharsets.UTF_8);
            }
            case TokenType.BYTE -> {
                int b = parseByteToken(text);
                if (b >= 0) return new byte[] {(byte) b};
                return text.getBytes(StandardCharsets.UTF_8);
            }
            case TokenType.UNUSED -> {
                return new byte[0];
            }
            default -> {
                if (vocab.model == Vocabulary.Model.SPM) return text.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
                return unmapBytes(text);
            }
        }
    }

    /** Turns a byte-level BPE piece back into its bytes; characters outside the mapping keep their UTF-8 form. */
    private static byte[] unmapBytes(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int b = ByteUnicode.byteOf(cp);
            if (b >= 0) out.write(b);
            else out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    /** The byte of a {@code <0xNN>} piece, or -1. */
    static int parseByteToken(String s) {
        if (s.length() != 6 || !s.startsWith("<0x") || s.charAt(5) != '>') return -1;
        try {
            return Integer.parseInt(s.substring(3, 5), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocab.size()) throw new IllegalArgumentException("token id " + id + " out of range [0, " + vocab.size() + ")");
    }

    /** Lone surrogates have no UTF-8 encoding; they are encoded as U+FFFD. */
    static String replaceLoneSurrogates(String s) {
        StringBuilder sb = null;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            boolean lone;
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    if (sb != null) sb.append(c).append(s.charAt(i + 1));
                    i++;
                    continue;
                }
                lone = true;
            } else {
                lone = Character.isLowSurrogate(c);
            }
            if (lone && sb == null) sb = new StringBuilder(n).append(s, 0, i);
            if (sb != null) sb.append(lone ? '\uFFFD' : c);
        }
        return sb == null ? s : sb.toString();
    }
}
