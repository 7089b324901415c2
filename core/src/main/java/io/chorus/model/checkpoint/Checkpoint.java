package io.chorus.model.checkpoint;

import io.chorus.model.ModelConfig;
import io.chorus.tensor.WeightMatrix;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where a model's weights come from: a GGUF file or a Hugging Face folder (config.json, tokenizer.json,
 * safetensors). Tensors are asked for by their GGUF role names ({@code token_embd.weight},
 * {@code blk.N.attn_q.weight}, ...); each checkpoint translates them to its own names. Weights stay in
 * the memory-mapped files; nothing here copies them onto the heap. Closing the checkpoint unmaps the
 * files, so it must outlive every matrix made from it.
 */
public interface Checkpoint extends AutoCloseable {

    /** The file or folder this checkpoint was opened from. */
    Path path();

    /** The hyper-parameters of the network, from the checkpoint's own metadata. */
    ModelConfig config();

    /** The tensor with this role name, or null when the checkpoint has none. */
    TensorData tensor(String name);

    /**
     * The weight matrix of {@code rows} x {@code cols} for a role name, read in place.
     *
     * @throws CheckpointException when it is missing, has another shape, or a type Chorus cannot multiply
     */
    WeightMatrix matrix(String name, int rows, int cols);

    /** Bytes of all weights held (what the mapped files add to memory when they are fully read). */
    long weightBytes();

    /**
     * True when q and k are stored as trained (Hugging Face's layout, where rope rotates dimension i
     * with i + headDim / 2), so rope must rotate halves for every architecture; false for GGUF, whose
     * converter permuted llama's rows into interleaved pairs.
     */
    boolean rotateHalfRope();

    /** The name of the template that serves chat when nothing else is asked for. */
    String DEFAULT_TEMPLATE = "default";

    /** The name of the template for requests that pass tools (transformers and llama.cpp pick it by this name). */
    String TOOL_USE_TEMPLATE = "tool_use";

    /**
     * The chat templates the model was published with, by name, {@value #DEFAULT_TEMPLATE} first when
     * present (some models, Hermes and Command-R among them, ship a {@value #TOOL_USE_TEMPLATE} one
     * beside it); empty when there are none.
     */
    Map<String, String> chatTemplates();

    /** The default chat template the model was published with, or null. */
    default String chatTemplate() {
        return chatTemplates().get(DEFAULT_TEMPLATE);
    }

    /** The sampling defaults the model was published with (generation_config.json); NONE for GGUF. */
    default GenerationDefaults generationDefaults() {
        return GenerationDefaults.NONE;
    }

    /** An error about this checkpoint, of the exception type its callers know for it. */
    default CheckpointException invalid(String message) {
        return new CheckpointException(path() + ": " + message);
    }

    @Override
    void close();
}
