package io.chorus.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code chorus} command: wiring only, every command lives in its own class. */
@Command(name = "chorus", mixinStandardHelpOptions = true, version = "chorus 0.1.0",
        description = "OpenAI-compatible LLM inference server with continuous batching over a paged KV cache.",
        subcommands = {CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main());
    }

    @Override
    public void run() {
        commandLine().usage(System.out);
    }
}
