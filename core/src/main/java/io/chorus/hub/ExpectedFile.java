package io.chorus.hub;

import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the hub says a file is: its size and its checksum, read from the headers of the hub's own
 * answer. Files stored in LFS (every GGUF) carry their sha256 in {@code X-Linked-Etag} (the answer is
 * a redirect to a CDN, whose own ETag may be anything) and their size in {@code X-Linked-Size}; small
 * files kept in git carry the git blob id (sha1 over {@code "blob <size>\0"} and the bytes) in
 * {@code ETag}.
 *
 * @param size   -1 when unknown
 * @param sha256 lower-case hex, or null
 * @param gitSha1 lower-case hex of the git blob id, or null
 */
record ExpectedFile(long size, String sha256, String gitSha1) {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");

    static ExpectedFile from(HttpHeaders hub) {
        long size = hub.firstValue("x-linked-size").map(Long::parseLong).orElse(-1L);
        String linked = tag(hub.firstValue("x-linked-etag"));
        String etag = tag(hub.firstValue("etag"));
        if (linked != null && SHA256.matcher(linked).matches()) return new ExpectedFile(size, linked, null);
        if (etag != null && SHA256.matcher(etag).matches()) return new ExpectedFile(size, etag, null);
        if (etag != null && SHA1.matcher(etag).matches()) return new ExpectedFile(size, null, etag);
        return new ExpectedFile(size, null, null);
    }

    /** An ETag's value without W/ and quotes, lower-case; null when absent. */
    private static String tag(Optional<String> h) {
        if (h.isEmpty()) return null;
        String v = h.get().trim();
        if (v.startsWith("W/")) v = v.substring(2);
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) v = v.substring(1, v.length() - 1);
        return v.toLowerCase(Locale.ROOT);
    }

    ExpectedFile withSize(long s) {
        return new ExpectedFile(s, sha256, gitSha1);
    }

    boolean checkable() {
        return sha256 != null || gitSha1 != null && size >= 0;
    }

    /** A digest primed for this file's checksum (git's blob header first), or null when there is none to check. */
    MessageDigest newDigest() {
        try {
            if (sha256 != null) return MessageDigest.getInstance("SHA-256");
            if (gitSha1 != null && size >= 0) {
                MessageDigest d = MessageDigest.getInstance("SHA-1");
                d.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
                return d;
            }
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The expected hex digest, and the kind, for messages. */
    String expected() {
        return sha256 != null ? sha256 : gitSha1;
    }

    String kind() {
        return sha256 != null ? "sha256" : "git blob sha1";
    }

    static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }
}
