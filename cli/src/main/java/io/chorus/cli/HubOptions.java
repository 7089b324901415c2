package io.chorus.cli;

import io.chorus.hub.HubClient;
import io.chorus.hub.HubRef;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --hub-url} for every command that takes a model, and the resolution of {@code hf:REPO/FILE.gguf} into a cached file. */
final class HubOptions {
    @Option(names = "--hub-url", description = "Hugging Face-compatible hub for hf: models and chorus pull (default " + HubClient.DEFAULT_URL
            + "; HF_TOKEN is sent as a bearer token; files are cached under $CHORUS_CACHE or ~/.cache/chorus)")
    String hubUrl;

    /** {@code model} itself, or for {@code hf:REPO/FILE}, its cached copy (downloaded first when absent); null stays null. */
    Path local(Path model) {
        if (model == null || !HubRef.isHub(model.toString())) return model;
        return HubClient.fromEnvironment(hubUrl).pull(HubRef.parse(model.toString()), TerminalProgress.onStderr(),
                note -> System.err.println("chorus: " + note));
    }
}
