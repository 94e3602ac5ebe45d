#!/usr/bin/env python3
"""Prefill throughput of Hugging Face transformers on the GPU, the yardstick for `arbiter bench --device cuda`.

LlamaForSequenceClassification with random bf16 weights at a named shape, sdpa attention, the whole batch in
one forward (no padding), median of --repeat timed forwards after --warmup untimed ones, each bracketed by
torch.cuda.synchronize(). FLOPs are counted as arbiter counts them: 2 x layer matrix parameters x tokens +
2 x T^2 x q_dim per layer and sequence (causal attention). Prints one JSON object per batch shape.
"""
import argparse
import json
import statistics
import time

import torch
import transformers
from transformers import LlamaConfig, LlamaForSequenceClassification

# The shapes of arbiter's shape_preset (src/model/random_model.cpp), with its 512-token vocabulary.
SHAPES = {
    "llama-3.2-1b": dict(hidden_size=2048, num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
                         intermediate_size=8192, rope_theta=5e5),
    "llama-3-8b": dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                       intermediate_size=14336, rope_theta=5e5),
}


def layer_matrix_params(c):
    head_dim = c.hidden_size // c.num_attention_heads
    q_dim, kv_dim = c.num_attention_heads * head_dim, c.num_key_value_heads * head_dim
    return c.num_hidden_layers * c.hidden_size * (2 * q_dim + 2 * kv_dim + 3 * c.intermediate_size)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", required=True, choices=sorted(SHAPES))
    parser.add_argument("--batches", default="8x1024,32x512,64x256", help="comma list of BATCHxTOKENS")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    shape = dict(SHAPES[args.shape])
    common = dict(vocab_size=512, num_labels=1, pad_token_id=0, max_position_embeddings=8192, attn_implementation="sdpa")
    try:
        config = LlamaConfig(**common, **shape)
    except TypeError:  # a release that takes RoPE settings only as rope_parameters: theta does not change the time
        shape.pop("rope_theta")
        config = LlamaConfig(**common, **shape)
    torch.manual_seed(0)
    try:  # made directly on the GPU in bf16: an 8B model in f32 on the host would take minutes
        with torch.device("cuda"):
            torch.set_default_dtype(torch.bfloat16)
            model = LlamaForSequenceClassification(config)
    finally:
        torch.set_default_dtype(torch.float32)
    model = model.to(device="cuda", dtype=torch.bfloat16).eval()
    params = layer_matrix_params(config)
    q_dim = config.hidden_size

    for item in args.batches.split(","):
        batch, tokens = (int(x) for x in item.split("x"))
        # Token ids from 1: 0 is the pad token, which the classifier's last-token search would skip.
        ids = torch.randint(1, config.vocab_size, (batch, tokens), device="cuda")
        times = []
        with torch.inference_mode():
            for i in range(args.warmup + args.repeat):
                torch.cuda.synchronize()
                start = time.perf_counter()
                model(input_ids=ids).logits.float().sum().item()
                torch.cuda.synchronize()
                if i >= args.warmup:
                    times.append(time.perf_counter() - start)
        median = statistics.median(times)
        flops = 2.0 * params * batch * tokens + 2.0 * tokens * tokens * q_dim * config.num_hidden_layers * batch
        print(json.dumps({"engine": "transformers " + transformers.__version__, "torch": torch.__version__,
                          "attention": getattr(model.config, "_attn_implementation", "?"), "shape": args.shape, "batch": batch, "tokens_per_sequence": tokens, "median_seconds": median,
                          "tokens_per_second": batch * tokens / median, "tflops": flops / median / 1e12}), flush=True)
        del ids
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
