package io.chorus.server;

import io.chorus.model.gguf.GgufWriter;
import io.chorus.tensor.GgmlType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The demo model: a word-level bigram language model over a few pages of English that the project
 * wrote itself ({@code demo-corpus.txt}), written as a valid one-layer llama GGUF whose weights are
 * counted from that text, not random. The construction makes the transformer compute exactly the
 * bigram model:
 *
 * <ul>
 *   <li>the vocabulary is SentencePiece-style: special tokens, 256 byte tokens, the corpus's
 *       characters, then every word as {@code ▁word} together with its prefixes ({@code ▁w},
 *       {@code ▁wo}, ...), which SentencePiece merging needs to build the word one character at a
 *       time;
 *   <li>the embedding one-hot encodes each corpus token in its own dimension; every other token
 *       (BOS, bytes, chat markers) shares dimension 0, which stands for "start of a paragraph";
 *   <li>q, k, v, the attention output and the feed-forward weights are zero, so the residual stream
 *       leaves the layer as it entered it;
 *   <li>the output norm's weight undoes RMSNorm's scaling of a one-hot vector, and the output matrix
 *       holds the smoothed bigram log-probabilities log P(next | previous) in the previous token's
 *       column: the logits are that column.
 * </ul>
 *
 * A paragraph's end is EOS, so answers stop by themselves after a paragraph or so.
 */
final class BigramModel {
    static final String CORPUS = "demo-corpus.txt";
    static final int UNK = 0, BOS = 1, EOS = 2, IM_START = 3, IM_END = 4, FIRST_BYTE = 5;
    /** Add-k smoothing: small, so that sampled text mostly follows word pairs that occur in the corpus. */
    static final double SMOOTHING = 1e-3;
    /** The logit of tokens the corpus never produces (bytes, prefixes, chat markers): never sampled. */
    static final float NEVER = -50f;
    static final float RMS_EPS = 1e-6f;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int HEAD_DIM = 32, FFN = 32, CONTEXT = 4096;
    private static final String CHATML = "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    private final List<String> pieces = new ArrayList<>();   // [vocab] token text, ▁ for a space
    private final List<Integer> types = new ArrayList<>();   // [vocab] GGUF token type
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<int[]> paragraphs = new ArrayList<>(); // the corpus as token ids, one array per paragraph
    private final int[] column;                               // [vocab] the dimension each token one-hot encodes
    private final int corpusTokens;                           // tokens with a dimension of their own
    private final int dim;                                    // 1 + corpusTokens, padded to a multiple of 64
    private final int[][] counts;                             // [dim][vocab] how often token v follows column c
    private final long[] totals;                              // [dim] how many tokens follow column c

    private BigramModel(String text) {
        List<List<String>> paraPieces = split(text);
        add("<unk>", 2); add("<s>", 3); add("</s>", 3); add("<|im_start|>", 3); add("<|im_end|>", 3);
        for (int b = 0; b < 256; b++) add(String.format("<0x%02X>", b), 6);
        TreeSet<String> chars = new TreeSet<>();
        chars.add("▁");
        for (List<String> p : paraPieces) for (String piece : p) piece.codePoints().forEach(cp -> chars.add(Character.toString(cp)));
        for (String ch : chars) add(ch, 1);
        for (List<String> p : paraPieces) {
            for (String piece : p) {
                if (!piece.startsWith("▁")) continue;
                for (int end = 2; end <= piece.length(); end++) if (!ids.containsKey(piece.substring(0, end))) add(piece.substring(0, end), 1);
            }
        }
        column = new int[pieces.size()];
        int next = 1;
        for (List<String> p : paraPieces) {
            int[] tokens = new int[p.size()];
            for (int i = 0; i < tokens.length; i++) {
                int id = ids.get(p.get(i));
                tokens[i] = id;
                if (column[id] == 0) column[id] = next++;
            }
            paragraphs.add(tokens);
        }
        corpusTokens = next - 1;
        dim = (corpusTokens + 1 + 63) / 64 * 64;
        counts = new int[dim][pieces.size()];
        for (int[] p : paragraphs) {
            int prev = 0;
            for (int id : p) {
                counts[prev][id]++;
                prev = column[id];
            }
            counts[prev][EOS]++;
        }
        totals = new long[dim];
        for (int c = 0; c < dim; c++) for (int n : counts[c]) totals[c] += n;
    }

    /** The demo model of the project's own corpus. */
    static BigramModel fromCorpus() {
        try (InputStream in = BigramModel.class.getResourceAsStream(CORPUS)) {
            if (in == null) throw new IllegalStateException("resource " + CORPUS + " is missing");
            return new BigramModel(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static BigramModel fromText(String text) {
        return new BigramModel(text);
    }

    private void add(String piece, int type) {
        ids.put(piece, pieces.size());
        pieces.add(piece);
        types.add(type);
    }

    /**
     * The text as pieces, one list per paragraph (paragraphs end at blank lines): each word (letters,
     * digits, apostrophes) as ▁word, each punctuation mark after it as itself, as SentencePiece splits it.
     */
    static List<List<String>> split(String text) {
        List<List<String>> out = new ArrayList<>();
        for (String para : text.strip().split("\\n\\s*\\n")) {
            List<String> p = new ArrayList<>();
            for (String chunk : para.strip().split("\\s+")) {
                int i = 0;
                while (i < chunk.length() && isWordChar(chunk.charAt(i))) i++;
                if (i == 0) throw new IllegalArgumentException("corpus chunk '" + chunk + "' does not start with a word");
                p.add("▁" + chunk.substring(0, i));
                for (; i < chunk.length(); i++) {
                    if (isWordChar(chunk.charAt(i)) || Character.isWhitespace(chunk.charAt(i))) {
                        throw new IllegalArgumentException("corpus chunk '" + chunk + "': punctuation only ends a word");
                    }
                    p.add(String.valueOf(chunk.charAt(i)));
                }
            }
            out.add(p);
        }
        return out;
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '\'';
    }

    int vocabSize() { return pieces.size(); }
    int dim() { return dim; }
    String piece(int id) { return pieces.get(id); }
    /** The corpus as token ids, one array per paragraph (a copy). */
    List<int[]> paragraphs() { return paragraphs.stream().map(int[]::clone).toList(); }
    /** The dimension token id one-hot encodes; 0 for tokens outside the corpus (start of a paragraph). */
    int column(int id) { return column[id]; }
    /** True for the tokens the model can produce: the corpus's tokens and EOS. */
    boolean produces(int id) { return id == EOS || column[id] != 0; }

    /** log P(next | previous token's column c), add-k smoothed over the tokens the model produces. */
    double logProb(int c, int next) {
        if (!produces(next)) return NEVER;
        int outputs = corpusTokens + 1;
        return Math.log((counts[c][next] + SMOOTHING) / (totals[c] + SMOOTHING * outputs));
    }

    void write(Path out) throws IOException {
        int vocab = pieces.size();
        GgufWriter w = new GgufWriter();
        String a = "llama";
        w.putString("general.architecture", a);
        w.putString("general.name", "chorus-demo-bigram");
        w.putUInt32("general.file_type", 1); // mostly F16
        w.putUInt32(a + ".context_length", CONTEXT);
        w.putUInt32(a + ".embedding_length", dim);
        w.putUInt32(a + ".block_count", 1);
        w.putUInt32(a + ".feed_forward_length", FFN);
        w.putUInt32(a + ".attention.head_count", 1);
        w.putUInt32(a + ".attention.head_count_kv", 1);
        w.putUInt32(a + ".attention.key_length", HEAD_DIM);
        w.putUInt32(a + ".attention.value_length", HEAD_DIM);
        w.putFloat32(a + ".attention.layer_norm_rms_epsilon", RMS_EPS);
        w.putFloat32(a + ".rope.freq_base", 10000f);
        w.putUInt32(a + ".rope.dimension_count", HEAD_DIM);
        writeVocabulary(w);

        w.addTensor("token_embd.weight", GgmlType.F16, new long[] {dim, vocab}, rows(vocab, dim, (r, row) -> {
            row[column[r]] = 1f;
        }));
        // Weights [vocab][dim]: row v, column c = log P(v | a previous token of column c).
        float[][] logProbs = new float[dim][];
        for (int c = 0; c <= corpusTokens; c++) {
            logProbs[c] = new float[vocab];
            for (int v = 0; v < vocab; v++) logProbs[c][v] = (float) logProb(c, v);
        }
        w.addTensor("output.weight", GgmlType.F16, new long[] {dim, vocab}, rows(vocab, dim, (v, row) -> {
            for (int c = 0; c <= corpusTokens; c++) row[c] = logProbs[c][v];
        }));
        // RMSNorm maps a one-hot vector to 1 / sqrt(1/dim + eps) in its dimension; this weight brings it back to 1.
        w.addTensor("output_norm.weight", GgmlType.F32, new long[] {dim}, constant(dim, (float) Math.sqrt(1.0 / dim + RMS_EPS)));
        String p = "blk.0.";
        w.addTensor(p + "attn_norm.weight", GgmlType.F32, new long[] {dim}, constant(dim, 1f));
        w.addTensor(p + "ffn_norm.weight", GgmlType.F32, new long[] {dim}, constant(dim, 1f));
        zeros(w, p + "attn_q.weight", HEAD_DIM, dim);
        zeros(w, p + "attn_k.weight", HEAD_DIM, dim);
        zeros(w, p + "attn_v.weight", HEAD_DIM, dim);
        zeros(w, p + "attn_output.weight", dim, HEAD_DIM);
        zeros(w, p + "ffn_gate.weight", FFN, dim);
        zeros(w, p + "ffn_up.weight", FFN, dim);
        zeros(w, p + "ffn_down.weight", dim, FFN);
        w.write(out);
    }

    private void writeVocabulary(GgufWriter w) {
        int n = pieces.size();
        float[] scores = new float[n];
        int[] typeArr = new int[n];
        for (int i = 0; i < n; i++) {
            typeArr[i] = types.get(i);
            scores[i] = typeArr[i] == 1 ? -i : 0f;
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putStrings("tokenizer.ggml.tokens", pieces.toArray(String[]::new));
        w.putFloats("tokenizer.ggml.scores", scores);
        w.putInts("tokenizer.ggml.token_type", typeArr);
        w.putUInt32("tokenizer.ggml.unknown_token_id", UNK);
        w.putUInt32("tokenizer.ggml.bos_token_id", BOS);
        w.putUInt32("tokenizer.ggml.eos_token_id", EOS);
        w.putUInt32("tokenizer.ggml.eot_token_id", IM_END);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        w.putBool("tokenizer.ggml.add_space_prefix", true);
        w.putString("tokenizer.chat_template", CHATML);
    }

    private interface RowFill {
        void fill(int row, float[] values);
    }

    /** F16 rows of cols values, each filled from zero by f. */
    private static GgufWriter.TensorData rows(int rows, int cols, RowFill f) {
        return dst -> {
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                java.util.Arrays.fill(row, 0f);
                f.fill(r, row);
                for (int c = 0; c < cols; c++) dst.set(F16, 2L * ((long) r * cols + c), Float.floatToFloat16(row[c]));
            }
        };
    }

    private static void zeros(GgufWriter w, String name, int rows, int cols) {
        w.addTensor(name, GgmlType.F16, new long[] {cols, rows}, dst -> dst.fill((byte) 0));
    }

    private static GgufWriter.TensorData constant(int n, float value) {
        return dst -> {
            for (int i = 0; i < n; i++) dst.setAtIndex(F32, i, value);
        };
    }
}
