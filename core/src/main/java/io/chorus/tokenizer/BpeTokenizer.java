package io.chorus.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE encoding (GPT-2 style), as llama.cpp's llm_tokenizer_bpe: the text is split into
 * words by the {@link PreTokenizer}, each word's UTF-8 bytes are spelled with {@link ByteUnicode}, and
 * within a word the adjacent pair with the lowest merge rank is merged until none applies (ties:
 * leftmost). A heap over a linked list of symbols keeps each word O(n log n); results are cached per
 * word because natural text repeats words a lot.
 */
final class BpeTokenizer {
    private static final int CACHE_LIMIT = 100_000;

    private final Vocabulary vocab;
    private final PreTokenizer preTokenizer;
    private final LongLongMap ranks; // (leftId, rightId) -> (rank, mergedId)
    private final int[] charToken = new int[512]; // token id of each single mapped byte character
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    BpeTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.preTokenizer = new PreTokenizer(vocab.preName);
        String[] merges = vocab.merges == null ? new String[0] : vocab.merges;
        ranks = new LongLongMap(merges.length);
        for (int rank = 0; rank < merges.length; rank++) {
            String m = merges[rank];
            int sp = m.indexOf(' ', 1);
            if (sp < 0) continue;
            String a = m.substring(0, sp), b = m.substring(sp + 1);
            int ia = vocab.id(a), ib = vocab.id(b);
            if (ia < 0 || ib < 0) continue; // a merge of non-pieces can never fire on a vocabulary's symbols
            long key = pair(ia, ib);
            if (ranks.get(key) != LongLongMap.ABSENT) continue; // the first (best) rank of a duplicate wins
            ranks.put(key, ((long) rank << 32) | (vocab.id(a + b) & 0xFFFFFFFFL));
        }
        Arrays.fill(charToken, -1);
        for (int b = 0; b < 256; b++) charToken[ByteUnicode.charOf(b)] = vocab.id(String.valueOf(ByteUnicode.charOf(b)));
    }

    private static long pair(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    void clearCache() {
        cache.clear();
    }

    /** Encodes one text fragment (no special tokens in it). */
    void encode(String text, IntList out) {
        List<String> words = preTokenizer.split(text);
        for (String w : words) {
            int[] ids = cache.get(w);
            if (ids == null) {
                ids = encodeWord(ByteUnicode.encode(w.getBytes(StandardCharsets.UTF_8)));
                if (cache.size() >= CACHE_LIMIT) cache.clear();
                cache.put(w, ids);
            }
            out.addAll(ids);
        }
    }

    private record Bigram(int left, int right, int rank, int leftId, int rightId, int mergedId) {}

    /** Merges one word given in mapped-byte spelling. */
    int[] encodeWord(String word) {
        if (vocab.ignoreMerges) {
            int whole = vocab.id(word);
            if (whole >= 0) return new int[] {whole};
        }
        int n = word.length();
        int[] id = new int[n], len = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) {
            id[i] = charToken[word.charAt(i)];
            len[i] = 1; prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) ->
                a.rank != b.rank ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) tryAdd(id, i - 1, i, queue);
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            int l = bg.left, r = bg.right;
            // Skip pairs made stale by an earlier merge of either side.
            if (len[l] == 0 || len[r] == 0 || next[l] != r || id[l] != bg.leftId || id[r] != bg.rightId) continue;
            id[l] = bg.mergedId;
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            tryAdd(id, prev[l], l, queue);
            tryAdd(id, l, next[l], queue);
        }
        IntList out = new IntList();
        for (int i = 0, pos = 0; i != -1; pos += len[i], i = next[i]) {
            if (id[i] >= 0) {
                out.add(id[i]);
            } else {
                // Not a piece (incomplete vocabulary): fall back to the single-byte pieces that exist.
                for (int k = 0; k < len[i]; k++) {
                    int c = charToken[word.charAt(pos + k)];
                    if (c >= 0) out.add(c); else if (vocab.unk >= 0) out.add(vocab.unk);
                }
            }
        }
        return out.toArray();
    }

    private void tryAdd(int[] id, int l, int r, PriorityQueue<Bigram> queue) {
        if (l < 0 || r < 0 || id[l] < 0 || id[r] < 0) return;
        long v = ranks.get(pair(id[l], id[r]));
        if (v == LongLongMap.ABSENT) return;
        queue.add(new Bigram(l, r, (int) (v >>> 32), id[l], id[r], (int) v));
    }

    /** Open-addressing long-to-long hash map; merge tables have hundreds of thousands of entries. */
    static final class LongLongMap {
        static final long ABSENT = Long.MIN_VALUE;
        private final long[] keys;
        private final long[] values;
        private final boolean[] used;
        private final int mask;

        LongLongMap(int expected) {
            int cap = Integer.highestOneBit(Math.max(4, expected * 2 + 1)) << 1;
            keys = new long[cap];
            values = new long[cap];
            used = new boolean[cap];
            mask = cap - 1;
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 32) & mask;
        }

        long get(long key) {
            for (int i = slot(key); used[i]; i = (i + 1) & mask) if (keys[i] == key) return values[i];
            return ABSENT;
        }

        void put(long key, long value) {
            int i = slot(key);
            while (used[i] && keys[i] != key) i = (i + 1) & mask;
            used[i] = true;
            keys[i] = key;
            values[i] = value;
        }
    }
}
