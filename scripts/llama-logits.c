// Teacher-forced logits from llama.cpp (b4748's C API), to compare Chorus with:
// one llama_decode of all tokens, logits for every position, written as float32 little-endian [tokens][vocab].
// Usage: llama-logits MODEL.gguf N_CTX TOKENS(comma-separated) OUT.f32
// Built and run by scripts/longrope-vs-llama-cpp, phi3-window-vs-llama-cpp and rope-scaling-vs-llama-cpp; never
// part of the Chorus build.
#include "llama.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char ** argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s MODEL N_CTX TOKENS OUT\n", argv[0]); return 2; }
    int n_ctx = atoi(argv[2]);
    llama_token tokens[4096];
    int n = 0;
    for (char * t = strtok(argv[3], ","); t && n < 4096; t = strtok(NULL, ",")) tokens[n++] = atoi(t);

    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    struct llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n_ctx;               // the context per sequence: it picks longrope's long or short factors
    cp.n_batch = cp.n_ubatch = n_ctx;
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch = 2;
    cp.flash_attn = false;
    // CHORUS_ROPE (scripts/rope-scaling-vs-llama-cpp): run against the file's rope scaling on purpose, to show
    // what a comparison catches: "none" no scaling, "linear" linear instead of yarn, "noattn" yarn without 1 + 0.1 ln(factor)
    const char * rope = getenv("CHORUS_ROPE");
    if (rope && strcmp(rope, "none") == 0) cp.rope_scaling_type = LLAMA_ROPE_SCALING_TYPE_NONE;
    if (rope && strcmp(rope, "linear") == 0) cp.rope_scaling_type = LLAMA_ROPE_SCALING_TYPE_LINEAR;
    if (rope && strncmp(rope, "noattn=", 7) == 0) cp.yarn_attn_factor = 1.0f / (float) atof(rope + 7);
    struct llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "cannot create a context\n"); return 1; }

    struct llama_batch b = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        b.token[i] = tokens[i];
        b.pos[i] = i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = 1;
    }
    b.n_tokens = n;
    if (llama_decode(ctx, b) != 0) { fprintf(stderr, "llama_decode failed\n"); return 1; }
    int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    FILE * out = fopen(argv[4], "wb");
    if (!out) { perror(argv[4]); return 1; }
    fwrite(llama_get_logits(ctx), sizeof(float), (size_t) n * vocab, out);
    fclose(out);
    fprintf(stderr, "wrote %d x %d logits to %s\n", n, vocab, argv[4]);
    llama_batch_free(b);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
