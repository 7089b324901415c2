package io.chorus.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style encoding of one text fragment, as llama.cpp's llm_tokenizer_spm: start from
 * single characters and repeatedly merge the adjacent pair whose concatenation is the vocabulary piece
 * with the highest score (ties: leftmost). A heap of candidate pairs and a linked list of symbols keep
 * this O(n log n). Characters left that are not pieces are spelled as byte tokens {@code <0xNN>}.
 */
final class SpmTokenizer {
    private final Vocabulary vocab;
    private final int[] byteTokens = new int[256];

    SpmTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) id = vocab.id(String.valueOf((char) b));
            byteTokens[b] = id >= 0 ? id : vocab.unk;
        }
    }

    private record Bigram(int left, int right, float score, int size) {}

    /** Encodes text whose spaces are already written as ▁. */
    void encode(String text, IntList out) {
        int n = text.codePointCount(0, text.length());
        if (n == 0) return;
        int[] start = new int[n], len = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0, off = 0; i < n; i++) {
            int cl = Character.charCount(text.codePointAt(off));
            start[i] = off; len[i] = cl; prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1;
            off += cl;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) ->
                a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) tryAdd(text, start, len, i - 1, i, queue);
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            int l = bg.left, r = bg.right;
            // Skip pairs made stale by an earlier merge of either side.
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != bg.size) continue;
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            tryAdd(text, start, len, prev[l], l, queue);
            tryAdd(text, start, len, l, next[l], queue);
        }
        for (int i = 0; i != -1; i = next[i]) {
            String sym = text.substring(start[i], start[i] + len[i]);
            int id = vocab.id(sym);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : sym.getBytes(StandardCharsets.UTF_8)) out.add(byteTokens[b & 0xFF]);
            }
        }
    }

    private void tryAdd(String text, int[] start, int[] len, int l, int r, PriorityQueue<Bigram> queue) {
        if (l < 0 || r < 0) return;
        int size = len[l] + len[r];
        int id = vocab.id(text.substring(start[l], start[l] + size));
        if (id < 0) return;
        queue.add(new Bigram(l, r, vocab.score(id), size));
    }
}
