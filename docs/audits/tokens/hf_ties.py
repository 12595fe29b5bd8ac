#!/usr/bin/env python3
"""Standalone reproducer of finding 17 (no gumbel-audit code): transformers' top-k and top-p
warpers at ties. Deterministic: prints which tokens each warper keeps (finite scores).

The canonical laws (docs/tokens.md: rank by probability, ties by index ascending):
  top-k 1 on logits (0, 1, 1, -1)            keeps [1]         (exactly k tokens)
  top-p 0.5 on logits (0, 0, 0, 0)           keeps [0, 1]      (the smallest prefix of mass 0.5)
  top-p 0.7 on logits (1, 0, 0, 0, -1)       keeps [0, 1, 2]
"""
import torch
import transformers
from transformers.generation.logits_process import TopKLogitsWarper, TopPLogitsWarper


def kept(warper, logits):
    scores = torch.tensor([logits], dtype=torch.float32)
    out = warper(torch.zeros((1, 1), dtype=torch.long), scores)
    return [i for i, s in enumerate(out[0].tolist()) if s != float("-inf")]


print("transformers", transformers.__version__, "torch", torch.__version__)
print("TopKLogitsWarper(1) on (0, 1, 1, -1):       keeps", kept(TopKLogitsWarper(top_k=1), [0.0, 1.0, 1.0, -1.0]))
print("TopPLogitsWarper(0.5) on (0, 0, 0, 0):      keeps", kept(TopPLogitsWarper(top_p=0.5), [0.0] * 4))
print("TopPLogitsWarper(0.7) on (1, 0, 0, 0, -1):  keeps", kept(TopPLogitsWarper(top_p=0.7), [1.0, 0.0, 0.0, 0.0, -1.0]))
