"""Standalone reproducers of the half-precision findings for PyTorch (docs/audits/README.md,
findings 9, 11-14), outside the auditor. Run with the frameworks venv:
    python docs/audits/half-precision/torch_half.py
Prints the measured counts; seeds 0 and 1."""
import math, sys
import numpy as np
import torch, torch.nn.functional as F
from torch.distributions import Gumbel, RelaxedBernoulli, RelaxedOneHotCategorical
torch.set_num_threads(1)
def S(x): return -math.expm1(-math.exp(-x))  # Gumbel survival
print("torch", torch.__version__)
for seed in (0, 1):
    for dt in (torch.bfloat16, torch.float16):
        torch.manual_seed(seed)
        g = Gumbel(torch.tensor(0., dtype=dt), torch.tensor(1., dtype=dt)).sample((10**6,)).float()
        top = g.max().item()
        print("F9 seed", seed, dt, "max", top, "S(max)", S(top), "expected above max", 1e6 * S(top), "observed", (g > top).sum().item(),
              "log10 P(0 | Binomial)", 1e6 * math.log1p(-S(top)) / math.log(10))
for seed in (0, 1):
    for dt in (torch.float16, torch.bfloat16):
        torch.manual_seed(seed)
        y = F.gumbel_softmax(torch.tensor([70., 0., -70.], dtype=dt).expand(1000, 3), tau=1e-3)
        print("F11 seed", seed, dt, "gumbel_softmax l=(70,0,-70) tau=1e-3: NaN rows", torch.isnan(y).any(1).sum().item(), "of 1000")
for seed in (0, 1):
    for dt in (torch.float16, torch.bfloat16):
        torch.manual_seed(seed)
        x = RelaxedBernoulli(torch.tensor(0.001, dtype=dt), logits=torch.tensor(-1e4, dtype=dt)).rsample((10**5,)).float()
        eps = torch.finfo(dt).eps
        print("F12 seed", seed, dt, "RelaxedBernoulli l=-1e4 tau=1e-3: above 1/2", (x > 0.5).sum().item(), "of 1e5; clamp eps", eps, "expected with clamped probs", 1e5 * eps)
        torch.manual_seed(seed)
        # RelaxedBernoulli's logistic noise: log u - log(1 - u) with u = clamp_probs(rand):
        # u in [eps, 1 - eps], so |L| <= ln((1 - eps)/eps); an exact Logistic exceeds that
        # with probability 2 eps.
        from torch.distributions.utils import clamp_probs
        u = clamp_probs(torch.rand((10**6,), dtype=dt))
        L = (u.log() - (-u).log1p()).float()
        top = L.abs().max().item()
        print("    logistic noise: max |L| = %.3f; exact P(|L| > that) = %.2e, observed %d of 1e6"
              % (top, 2 / (1 + math.exp(top)), int((L.abs() > top).sum())))
rng = np.random.default_rng(0)
for dt in (torch.float16, torch.bfloat16):
    bad = 0
    for i in range(1000):
        y = torch.tensor(rng.dirichlet(np.ones(10))).to(dt)
        try:
            RelaxedOneHotCategorical(torch.tensor(0.5, dtype=dt), logits=torch.zeros(10, dtype=dt)).log_prob(y)
        except ValueError:
            bad += 1
    print("F13", dt, "k=10 Dirichlet(1) points rounded to the dtype: log_prob refused", bad, "of 1000")
    l = torch.zeros(100000, dtype=dt); l[0] = math.log(99999)
    try:
        RelaxedOneHotCategorical(torch.tensor(1e-3, dtype=dt), logits=l)
        print("F13", dt, "k=1e5 constructed")
    except ValueError as e:
        print("F13", dt, "k=1e5 logits refused:", str(e).splitlines()[0][:100])
for seed in (0, 1):
    for dt in (torch.bfloat16, torch.float16):
        torch.manual_seed(seed)
        y = RelaxedOneHotCategorical(torch.tensor(0.1, dtype=dt), logits=torch.tensor([1., 0., -1.], dtype=dt)).rsample((10**5,)).double()
        s = (y.sum(1) - 1).abs()
        tol = 1e-6 + 4 * 3 * torch.finfo(dt).eps
        print("F14 seed", seed, dt, "tau=0.1 rows off simplex by >", tol, ":", (s > tol).sum().item(), "worst", s.max().item())
        torch.manual_seed(seed)
        y = RelaxedOneHotCategorical(torch.tensor(1e-3, dtype=dt), logits=torch.tensor([10001., 10000., 9999.], dtype=dt)).rsample((10**5,)).double()
        s = (y.sum(1) - 1).abs()
        print("    tau=1e-3 l=1e4+(1,0,-1): rows with |sum-1| > tol", (s > tol).sum().item(), "worst", s.max().item())
