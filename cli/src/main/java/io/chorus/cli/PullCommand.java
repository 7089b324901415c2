package io.chorus.cli;

import io.chorus.hub.HubClient;
import io.chorus.hub.HubRef;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code chorus pull REPO[/FILE]}: a GGUF from the hub into the cache; prints its path. */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a GGUF model from a Hugging Face-compatible hub into the local cache and print its path.",
                "Without FILE, the repository's Q4_K_M GGUF is picked (or its only one). A partial download resumes; the file is",
                "checked against the hub's sha256. Serve it with: chorus serve --model hf:REPO/FILE"})
final class PullCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "REPO[/FILE]", description = "e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF or Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf")
    String ref;
    @Mixin HubOptions hub;

    @Override
    public Integer call() {
        Path p = HubClient.fromEnvironment(hub.hubUrl).pull(HubRef.parse(ref), TerminalProgress.onStderr(), note -> System.err.println("chorus: " + note));
        System.out.println(p);
        return 0;
    }
}
