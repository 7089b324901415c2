package io.chorus.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code chorus} command: wiring only, every command lives in its own class. */
@Command(name = "chorus", mixinStandardHelpOptions = true, version = "chorus 0.1.0",
        description = "OpenAI-compatible LLM inference server with continuous batching over a paged KV cache.",
        subcommands = {ServeCommand.class, GenerateCommand.class, BenchCommand.class, TokenizeCommand.class, InfoCommand.class,
                SynthCommand.class, LogitsCommand.class, PullCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // A clear one-line message instead of a stack trace for the errors users cause.
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("chorus: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (System.getenv("CHORUS_DEBUG") != null) e.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl;
    }

    @Override
    public void run() {
        commandLine().usage(System.out);
    }
}
