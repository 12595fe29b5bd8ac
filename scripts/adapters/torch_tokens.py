#!/usr/bin/env python3
"""Adapter (protocol v1, op token_sample) for LLM token samplers written with PyTorch, on CPU.

Usage: torch_tokens.py --sampler hf|race|gumbel [--dtype float32|bfloat16|float64]
       (defaults: hf, float32)

Truncation is Hugging Face transformers' own logits warpers, composed in the order the request
names (`hf`, the default: the order GenerationMixin._get_logits_processor appends them;
`vllm`: min-p, then top-k, then top-p):

    TemperatureLogitsWarper(T), TopKLogitsWarper(top_k), TopPLogitsWarper(top_p),
    MinPLogitsWarper(min_p)        (each only when set, as generate adds them)

applied to the logits as a [1, V] tensor in --dtype. The token is then drawn by --sampler:

    hf      probs = softmax(scores); torch.multinomial(probs, n, replacement=True)
            (the sampling step of transformers' generate with do_sample=True)
    race    the exponential race argmax_i(probs_i / q_i), q = torch.empty_like(probs).exponential_()
            (vLLM's random_sample form; SGLang's and Megatron-LM's samplers are the same race)
    gumbel  the Gumbel form argmax_i(scores_i - log(q_i)), q ~ Exp(1) as above
            (-log q is standard Gumbel noise; PyTorch's compiler rewrites multinomial this way)

Everything runs in --dtype: the warpers, the softmax, the noise and the race. transformers'
generate itself upcasts a model's logits to float32 before its warpers; --dtype bfloat16 is what
a sampler that keeps bfloat16 scores computes. The noise comes from a torch.Generator seeded with
the request's seed (mod 2^63). Draws are made in batches of rows (at most 2^22 noise values).
Parameters are forwarded unchanged; whatever torch or transformers raises is ok:false.
"""
import sys

from _framework import Unsupported, option, serve

import torch
import transformers
from transformers.generation.logits_process import (
    LogitsProcessorList,
    MinPLogitsWarper,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

SAMPLER = option(sys.argv, "--sampler", ("hf", "race", "gumbel"), "hf")
DTYPE = option(sys.argv, "--dtype", ("float32", "bfloat16", "float64"), "float32")
TORCH_DTYPE = getattr(torch, DTYPE)
BATCH_VALUES = 1 << 22


def warpers(temperature, top_k, top_p, min_p, order):
    """The warpers generate would build, in the request's order (temperature first)."""
    stages = {
        "top_k": TopKLogitsWarper(top_k=top_k) if top_k is not None and top_k != 0 else None,
        "top_p": TopPLogitsWarper(top_p=top_p) if top_p is not None and top_p < 1.0 else None,
        "min_p": MinPLogitsWarper(min_p=min_p) if min_p is not None else None,
    }
    names = ("top_k", "top_p", "min_p") if order == "hf" else ("min_p", "top_k", "top_p")
    chain = [TemperatureLogitsWarper(temperature)] if temperature != 1.0 else []
    return LogitsProcessorList(chain + [stages[s] for s in names if stages[s] is not None])


class TorchTokens:
    dtype = "bfloat16" if DTYPE == "bfloat16" else DTYPE
    name = "torch %s + transformers %s warpers, %s sampler (%s, CPU)" % (
        torch.__version__, transformers.__version__, SAMPLER, DTYPE)

    def token_sample(self, logits, n, seed, temperature=1.0, top_k=None, top_p=None, min_p=None,
                     order=None):
        order = "hf" if order is None else order
        if order not in ("hf", "vllm"):
            raise Unsupported(order)
        g = torch.Generator().manual_seed(int(seed) % (1 << 63))
        with torch.no_grad():
            scores = torch.tensor([list(logits)], dtype=TORCH_DTYPE)
            ids = torch.zeros((1, 1), dtype=torch.long)
            scores = warpers(temperature, top_k, top_p, min_p, order)(ids, scores)
            if SAMPLER == "hf":
                probs = torch.softmax(scores, dim=-1)
                return torch.multinomial(probs[0], n, replacement=True, generator=g).numpy()
            v = scores.shape[-1]
            rows = max(1, BATCH_VALUES // max(v, 1))
            out = []
            if SAMPLER == "race":
                probs = torch.softmax(scores, dim=-1)
            for start in range(0, n, rows):
                m = min(rows, n - start)
                q = torch.empty((m, v), dtype=TORCH_DTYPE).exponential_(generator=g)
                if SAMPLER == "race":
                    out.append(torch.argmax(probs / q, dim=-1))
                else:
                    out.append(torch.argmax(scores - torch.log(q), dim=-1))
            return torch.cat(out).numpy() if out else torch.zeros(0, dtype=torch.long).numpy()


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(serve(TorchTokens()))
