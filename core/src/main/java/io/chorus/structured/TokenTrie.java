package io.chorus.structured;

import java.util.Arrays;

/**
 * The usable tokens of a {@link TokenVocabulary} as a byte trie laid out in depth-first order, so a
 * mask walk shares every common prefix: node i's subtree is {@code [i, subtreeEnd[i])}, and skipping
 * a rejected prefix is one jump. Immutable.
 */
final class TokenTrie {
    final byte[] label;      // [nodes] the byte on the edge into the node
    final int[] depth;       // [nodes] 1 for children of the root
    final int[] subtreeEnd;  // [nodes] first node after the subtree
    final int[] tokenStart;  // [nodes + 1] tokens ending at node i: tokenIds[tokenStart[i], tokenStart[i + 1])
    final int[] tokenIds;
    final int maxDepth;
    final int usable;        // tokens in the trie

    TokenTrie(TokenVocabulary vocab) {
        int n = vocab.size();
        Integer[] order = new Integer[n];
        int m = 0;
        for (int id = 0; id < n; id++) if (vocab.bytes(id) != null) order[m++] = id;
        Integer[] ids = Arrays.copyOf(order, m);
        Arrays.sort(ids, (a, b) -> Arrays.compareUnsigned(vocab.bytes(a), vocab.bytes(b)));
        usable = m;
        int cap = 0;
        for (Integer id : ids) cap += vocab.bytes(id).length;
        byte[] lab = new byte[cap];
        int[] dep = new int[cap];
        int[] end = new int[cap];
        int[] tokStart = new int[cap + 1];
        int[] toks = new int[m];
        int[] path = new int[256 + 1]; // node index at each depth of the current path
        int nodes = 0, pathLen = 0, maxD = 0, tokCount = 0;
        byte[] prev = new byte[0];
        for (Integer id : ids) {
            byte[] b = vocab.bytes(id);
            int common = 0;
            while (common < Math.min(prev.length, b.length) && prev[common] == b[common] && common < pathLen) common++;
            while (pathLen > common) end[path[--pathLen]] = nodes; // close nodes that leave the path
            if (b.length > path.length - 1) path = Arrays.copyOf(path, b.length + 1);
            for (int d = common; d < b.length; d++) {
                lab[nodes] = b[d];
                dep[nodes] = d + 1;
                tokStart[nodes] = tokCount;
                path[pathLen++] = nodes++;
            }
            // The token ends at the node created last: sorted order brings equal byte strings together, and a
            // token's tokens-so-far count at its node's creation marks where that node's tokens begin.
            toks[tokCount++] = id;
            maxD = Math.max(maxD, b.length);
            prev = b;
        }
        while (pathLen > 0) end[path[--pathLen]] = nodes;
        label = Arrays.copyOf(lab, nodes);
        depth = Arrays.copyOf(dep, nodes);
        subtreeEnd = Arrays.copyOf(end, nodes);
        tokenIds = toks;
        maxDepth = maxD;
        // tokStart holds, per node, the token count when it was created; the tokens appended before the
        // next node was created are the ones ending at it.
        tokenStart = new int[nodes + 1];
        System.arraycopy(tokStart, 0, tokenStart, 0, nodes);
        tokenStart[nodes] = tokCount;
    }

    int nodeCount() { return label.length; }
}
