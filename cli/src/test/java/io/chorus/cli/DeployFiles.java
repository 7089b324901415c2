package io.chorus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** The repository's deploy/ files as the tests read them, and the serve flags they must agree with. */
final class DeployFiles {
    private DeployFiles() {}

    /** The repository root: the nearest folder above the working directory that holds deploy/. */
    static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("deploy")) && Files.isRegularFile(p.resolve("pom.xml"))) return p;
        }
        throw new IllegalStateException("no deploy/ folder above " + Path.of("").toAbsolutePath());
    }

    /** One Dockerfile instruction: its keyword (upper case) and the rest, continuation lines joined. */
    record Instruction(String keyword, String args) {
        /** The arguments of an exec-form (JSON array) instruction. */
        List<String> execForm() {
            try {
                JsonNode a = new ObjectMapper().readTree(args);
                if (!a.isArray()) throw new IllegalStateException(keyword + " is not in exec form: " + args);
                List<String> out = new ArrayList<>();
                a.forEach(n -> out.add(n.asText()));
                return out;
            } catch (IOException e) {
                throw new IllegalStateException(keyword + " is not in exec form: " + args, e);
            }
        }
    }

    static List<Instruction> dockerfile() {
        try {
            List<Instruction> out = new ArrayList<>();
            StringBuilder cur = new StringBuilder();
            for (String line : Files.readAllLines(root().resolve("deploy/Dockerfile"))) {
                String t = line.strip();
                if (cur.isEmpty() && (t.isEmpty() || t.startsWith("#"))) continue;
                if (!cur.isEmpty() && t.startsWith("#")) continue; // comment inside a continued instruction
                if (t.endsWith("\\")) {
                    cur.append(t, 0, t.length() - 1).append(' ');
                    continue;
                }
                cur.append(t);
                String s = cur.toString().strip();
                int sp = s.indexOf(' ');
                out.add(new Instruction(s.substring(0, sp).toUpperCase(java.util.Locale.ROOT), s.substring(sp + 1).strip()));
                cur.setLength(0);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code chorus serve}'s option model, for flag names and defaults. */
    static CommandLine.Model.CommandSpec serveSpec() {
        return new CommandLine(new ServeCommand()).getCommandSpec();
    }

    /** Checks that {@code args} parse as {@code chorus serve} flags (unknown flags or bad values throw). */
    static ServeCommand parseServe(List<String> args) {
        ServeCommand c = new ServeCommand();
        new CommandLine(c).parseArgs(args.toArray(String[]::new));
        return c;
    }

    static int defaultInt(String flag) {
        return Integer.parseInt(serveSpec().findOption(flag).defaultValue());
    }
}
