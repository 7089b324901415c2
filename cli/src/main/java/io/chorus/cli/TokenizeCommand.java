package io.chorus.cli;

import io.chorus.model.checkpoint.HfCheckpoint;
import io.chorus.model.gguf.GgufFile;
import io.chorus.server.DemoModel;
import io.chorus.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chorus tokenize}: a model's token ids for a text. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print the token ids of a text under a model's vocabulary.")
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--model", description = "GGUF model file, Hugging Face model folder, or hf:REPO/FILE.gguf from the hub (default: the built-in demo model)")
    Path model;
    @picocli.CommandLine.Mixin HubOptions hub;
    @Option(names = "--text", required = true, description = "Text to tokenize")
    String text;
    @Option(names = "--special", description = "Recognise special-token text such as <|im_start|>")
    boolean special;
    @Option(names = "--no-bos", description = "Do not add BOS (or EOS) even where the vocabulary asks for it")
    boolean noBos;
    @Option(names = "--pieces", description = "Print one 'id<TAB>piece' line per token instead of the id list")
    boolean pieces;

    @Override
    public Integer call() {
        Path file = model != null ? hub.local(model) : DemoModel.ensure();
        if (java.nio.file.Files.isDirectory(file)) {
            try (HfCheckpoint c = HfCheckpoint.open(file)) {
                print(Tokenizer.of(c));
            }
            return 0;
        }
        try (GgufFile f = GgufFile.open(file)) {
            print(Tokenizer.fromGguf(f));
        }
        return 0;
    }

    private void print(Tokenizer tok) {
        {
            int[] ids = tok.encode(text, !noBos, special);
            if (pieces) {
                for (int id : ids) System.out.println(id + "\t" + tok.tokenPiece(id));
            } else {
                System.out.println(Arrays.toString(ids));
            }
            System.err.println(ids.length + " tokens");
        }
    }
}
