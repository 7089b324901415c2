package io.chorus.structured;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * A GBNF expression matching exactly the integers of a closed range written as JSON writes them
 * (no leading zeros, no "-0"): the range is split by sign and digit count, and each same-length part
 * digit by digit into prefixes and free digit runs.
 */
final class IntRangeGbnf {
    private IntRangeGbnf() {}

    static String range(BigInteger lo, BigInteger hi) {
        if (lo.compareTo(hi) > 0) throw new IllegalArgumentException("empty range " + lo + ".." + hi);
        List<String> alts = new ArrayList<>();
        if (lo.signum() < 0) {
            BigInteger negHi = hi.signum() < 0 ? hi.negate() : BigInteger.ONE; // magnitudes [negHi, -lo]
            alts.add("\"-\" " + group(unsigned(negHi, lo.negate())));
        }
        if (hi.signum() >= 0) alts.addAll(unsigned(lo.max(BigInteger.ZERO), hi));
        return group(alts);
    }

    private static String group(List<String> alts) {
        return alts.size() == 1 ? alts.get(0) : "(" + String.join(" | ", alts) + ")";
    }

    /** Alternatives for the non-negative integers in [lo, hi]. */
    private static List<String> unsigned(BigInteger lo, BigInteger hi) {
        List<String> alts = new ArrayList<>();
        String a = lo.toString(), b = hi.toString();
        for (int len = a.length(); len <= b.length(); len++) {
            String from = len == a.length() ? a : "1" + "0".repeat(len - 1);
            String to = len == b.length() ? b : "9".repeat(len);
            sameLength(from, to, alts);
        }
        return alts;
    }

    /** Adds alternatives for the digit strings of one length between from and to (inclusive, from <= to). */
    private static void sameLength(String from, String to, List<String> out) {
        int n = from.length();
        if (n == 0) {
            out.add("\"\"");
            return;
        }
        char f = from.charAt(0), t = to.charAt(0);
        String restLo = from.substring(1), restHi = to.substring(1);
        if (f == t) {
            List<String> sub = new ArrayList<>();
            sameLength(restLo, restHi, sub);
            out.add(seq("\"" + f + "\"", group(sub)));
            return;
        }
        boolean loFull = restLo.chars().allMatch(c -> c == '0');
        boolean hiFull = restHi.chars().allMatch(c -> c == '9');
        char midLo = loFull ? f : (char) (f + 1);
        char midHi = hiFull ? t : (char) (t - 1);
        if (!loFull) {
            List<String> sub = new ArrayList<>();
            sameLength(restLo, "9".repeat(n - 1), sub);
            out.add(seq("\"" + f + "\"", group(sub)));
        }
        if (midLo <= midHi) {
            String head = midLo == midHi ? "\"" + midLo + "\"" : "[" + midLo + "-" + midHi + "]";
            out.add(n == 1 ? head : seq(head, n == 2 ? "[0-9]" : "[0-9]{" + (n - 1) + "}"));
        }
        if (!hiFull) {
            List<String> sub = new ArrayList<>();
            sameLength("0".repeat(n - 1), restHi, sub);
            out.add(seq("\"" + t + "\"", group(sub)));
        }
    }

    private static String seq(String a, String b) {
        return b.equals("\"\"") ? a : a + " " + b;
    }
}
