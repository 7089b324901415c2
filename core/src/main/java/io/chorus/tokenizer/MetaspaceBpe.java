package io.chorus.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE as Hugging Face's tokenizer.json runs it for Llama 2, Mistral and
 * TinyLlama (model BPE over Metaspace text: spaces are U+2581 and the text is one word): the
 * symbols are the text's characters, a character missing from the vocabulary becomes its UTF-8
 * bytes' {@code <0xNN>} tokens (byte fallback), and the adjacent pair with the lowest merge rank is
 * merged until none applies (ties: leftmost). llama.cpp's SentencePiece tokenizer ranks by piece
 * score instead, which a vocabulary converted from tokenizer.json does not carry.
 */
final class MetaspaceBpe {
    private final Vocabulary vocab;
    private final BpeTokenizer.LongLongMap ranks; // (leftId, rightId) -> (rank, mergedId)
    private final int[] byteToken = new int[256];

    MetaspaceBpe(Vocabulary vocab) {
        this.vocab = vocab;
        String[] merges = vocab.merges;
        ranks = new BpeTokenizer.LongLongMap(merges.length);
        for (int rank = 0; rank < merges.length; rank++) {
            String m = merges[rank];
            int sp = m.indexOf(' ', 1);
            if (sp < 0) continue;
            String a = m.substring(0, sp), b = m.substring(sp + 1);
            int ia = vocab.id(a), ib = vocab.id(b), merged = vocab.id(a + b);
            if (ia < 0 || ib < 0 || merged < 0) continue;
            long key = ((long) ia << 32) | (ib & 0xFFFFFFFFL);
            if (ranks.get(key) != BpeTokenizer.LongLongMap.ABSENT) continue;
            ranks.put(key, ((long) rank << 32) | (merged & 0xFFFFFFFFL));
        }
        for (int b = 0; b < 256; b++) byteToken[b] = vocab.id(String.format("<0x%02X>", b));
    }

    private record Bigram(int left, int right, int rank, int leftId, int rightId, int mergedId) {}

    /** Encodes one fragment already in Metaspace form (spaces replaced, prefix added). */
    void encode(String text, IntList out) {
        IntList symbols = new IntList();
        text.codePoints().forEach(cp -> {
            int id = vocab.id(new String(Character.toChars(cp)));
            if (id >= 0) {
                symbols.add(id);
                return;
            }
            for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                int t = byteToken[b & 0xFF];
                symbols.add(t >= 0 ? t : vocab.unk);
            }
        });
        int[] id = symbols.toArray();
        int n = id.length;
        if (n == 0) return;
        int[] prev = new int[n], next = new int[n];
        boolean[] gone = new boolean[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) ->
                a.rank != b.rank ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) tryAdd(id, i - 1, i, queue);
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            int l = bg.left, r = bg.right;
            if (gone[l] || gone[r] || next[l] != r || id[l] != bg.leftId || id[r] != bg.rightId) continue;
            id[l] = bg.mergedId;
            gone[r] = true;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            tryAdd(id, prev[l], l, queue);
            tryAdd(id, l, next[l], queue);
        }
        for (int i = 0; i != -1; i = next[i]) if (id[i] >= 0) out.add(id[i]);
    }

    private void tryAdd(int[] id, int l, int r, PriorityQueue<Bigram> queue) {
        if (l < 0 || r < 0 || id[l] < 0 || id[r] < 0) return;
        long v = ranks.get(((long) id[l] << 32) | (id[r] & 0xFFFFFFFFL));
        if (v == BpeTokenizer.LongLongMap.ABSENT) return;
        queue.add(new Bigram(l, r, (int) (v >>> 32), id[l], id[r], (int) v));
    }
}
