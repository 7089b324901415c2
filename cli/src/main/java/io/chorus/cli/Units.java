package io.chorus.cli;

/** Human-readable figures for the command-line output. */
final class Units {
    private Units() {}

    static String bytes(long b) {
        if (b >= 1L << 30) return String.format("%.2f GiB", b / (double) (1L << 30));
        if (b >= 1L << 20) return String.format("%.1f MiB", b / (double) (1L << 20));
        if (b >= 1L << 10) return String.format("%.1f KiB", b / 1024.0);
        return b + " B";
    }

    /** Bytes from "123", "512M", "2G", "64K" (powers of 1024). */
    static long parseBytes(String s) {
        String t = s.trim().toUpperCase(java.util.Locale.ROOT).replaceAll("I?B$", "");
        long mult = 1;
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        switch (last) {
            case 'K' -> mult = 1L << 10;
            case 'M' -> mult = 1L << 20;
            case 'G' -> mult = 1L << 30;
            case 'T' -> mult = 1L << 40;
            default -> { }
        }
        if (mult > 1) t = t.substring(0, t.length() - 1);
        try {
            return (long) (Double.parseDouble(t) * mult);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size in bytes: '" + s + "' (use e.g. 2G, 512M, 1048576)");
        }
    }
}
