package io.chorus.cli;

import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.server.LoadedModel;
import io.chorus.server.ServeOptions;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tokenizer.StreamingDetokenizer;
import io.chorus.tokenizer.template.ChatTemplates;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chorus generate}: one prompt through the engine, text streamed to stdout, speed to stderr. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate text for one prompt through the engine.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", description = "GGUF model file, Hugging Face model folder, or hf:REPO/FILE.gguf from the hub (default: the built-in demo model)")
    Path model;
    @picocli.CommandLine.Mixin HubOptions hub;
    @Option(names = "--prompt", required = true, description = "Prompt text")
    String prompt;
    @Option(names = "--chat", description = "Wrap the prompt as one user message in the model's chat template")
    boolean chat;
    @Option(names = "--max-tokens", defaultValue = "128", description = "Most tokens to generate (default ${DEFAULT-VALUE})")
    int maxTokens;
    @Option(names = "--temperature", defaultValue = "0", description = "0 for greedy (default ${DEFAULT-VALUE})")
    double temperature;
    @Option(names = "--top-p", defaultValue = "1") double topP;
    @Option(names = "--top-k", defaultValue = "-1") int topK;
    @Option(names = "--seed", description = "Random seed") Long seed;
    @Option(names = "--ignore-eos", description = "Keep generating past end-of-sequence tokens") boolean ignoreEos;
    @Option(names = "--threads", description = "Kernel threads (default: all cores)") Integer threads;
    @Option(names = "--max-model-len", description = "Most tokens per sequence (default: the model's context)") Integer maxModelLen;
    @Option(names = "--activation-precision", defaultValue = "auto",
            description = "int8 (8-bit activations for quantized weights, as llama.cpp), f32 (exact float32), or auto: int8 for the 32-value block types (Q8_0, Q4_0, ...), 16-bit activations for AWQ / GPTQ, where the native kernels load (default ${DEFAULT-VALUE})")
    String activationPrecision;
    @Option(names = "--warmup", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Warm the engine up before the prompt, so the reported speed is the steady one (default on)") boolean warmup;

    @Override
    public Integer call() throws Exception {
        ServeOptions o = ServeOptions.defaults().withModel(hub.local(model)).withMaxNumSeqs(1).withThreads(threads).withMaxModelLen(maxModelLen)
                .withActivationPrecision(ActivationPrecision.parse(activationPrecision));
        try (LoadedModel m = LoadedModel.load(o, warmup)) {
            if (m.model().ropeScaling() != null) System.err.println("chorus: rope: " + m.model().ropeScaling());
            String text = prompt;
            boolean addBos = true;
            if (chat) {
                text = m.chatTemplate().render(Map.of("messages", ChatTemplates.flattenTextContent(List.of(Map.of("role", "user", "content", prompt)), "\n"),
                        "add_generation_prompt", true, "bos_token", m.tokenText(m.tokenizer().bosId()), "eos_token", m.tokenText(m.tokenizer().eosId())));
                addBos = !text.startsWith(m.tokenText(m.tokenizer().bosId())) || m.tokenizer().bosId() < 0;
            }
            int[] ids = m.tokenizer().encode(text, addBos, chat);
            SamplingParams sp = SamplingParams.builder().temperature(temperature).topP(topP).topK(topK).seed(seed)
                    .ignoreEos(ignoreEos).maxTokens(Math.max(1, Math.min(maxTokens, m.maxModelLen() - ids.length))).build();
            RequestHandle h = m.engine().submit(new EngineRequest("generate", ids, sp));
            StreamingDetokenizer detok = m.tokenizer().streamingDetokenizer(true);
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            RequestOutput last = null;
            for (RequestOutput ev; (ev = h.next(Duration.ofMinutes(10))) != null; ) {
                for (int t : ev.newTokenIds()) out.print(detok.push(t));
                if (ev.finished()) out.print(detok.flush());
                last = ev;
            }
            out.println();
            if (last != null) {
                RequestOutput.Timings t = last.timings();
                double prefill = (t.firstTokenNanos() - t.arrivalNanos()) / 1e9;
                double decode = (t.finishNanos() - t.firstTokenNanos()) / 1e9;
                int gen = last.generationTokens();
                System.err.printf("prompt: %d tokens in %.3f s (%.1f tok/s); decode: %d tokens in %.3f s (%.1f tok/s); finish: %s%n",
                        ids.length, prefill, ids.length / Math.max(prefill, 1e-9), gen, decode,
                        gen > 1 ? (gen - 1) / Math.max(decode, 1e-9) : 0.0, last.finishReason().openAiName());
            }
        }
        return 0;
    }
}
