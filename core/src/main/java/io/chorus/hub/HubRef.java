package io.chorus.hub;

/**
 * A model on a Hugging Face-compatible hub: {@code owner/name} and, optionally, a file path inside
 * it ({@code owner/name/sub/model.gguf}). Written on the command line as {@code REPO[/FILE]}, or as
 * {@code hf:REPO/FILE} where a model file is expected.
 *
 * @param file     null: not named (the repo's .gguf files are listed to pick one)
 * @param revision a branch, tag or commit; "main" unless given as {@code owner/name@revision}
 */
public record HubRef(String repo, String file, String revision) {
    /** The prefix that marks a hub model where a file path is expected. */
    public static final String PREFIX = "hf:";

    public HubRef {
        if (repo.contains("..") || file != null && (file.contains("..") || file.startsWith("/"))) {
            throw new HubException("'" + repo + (file != null ? "/" + file : "") + "' is not a hub path");
        }
    }

    /** Whether {@code s} names a hub model ({@code hf:...}). */
    public static boolean isHub(String s) {
        return s != null && s.startsWith(PREFIX);
    }

    /** Parses {@code owner/name[@revision][/path/to/file]} (a leading {@code hf:} is dropped). */
    public static HubRef parse(String s) {
        String t = isHub(s) ? s.substring(PREFIX.length()) : s;
        String[] parts = t.split("/", 3);
        if (parts.length < 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new HubException("'" + s + "' is not a hub model: expected OWNER/NAME or OWNER/NAME/FILE.gguf (e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF)");
        }
        String name = parts[1];
        String revision = "main";
        int at = name.indexOf('@');
        if (at >= 0) {
            revision = name.substring(at + 1);
            name = name.substring(0, at);
            if (revision.isEmpty() || name.isEmpty()) throw new HubException("'" + s + "': an empty name or revision around '@'");
        }
        String file = parts.length == 3 && !parts[2].isEmpty() ? parts[2] : null;
        return new HubRef(parts[0] + "/" + name, file, revision);
    }

    public HubRef withFile(String f) {
        return new HubRef(repo, f, revision);
    }

    @Override
    public String toString() {
        return repo + ("main".equals(revision) ? "" : "@" + revision) + (file != null ? "/" + file : "");
    }
}
