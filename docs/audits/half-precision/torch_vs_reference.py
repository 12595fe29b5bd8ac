"""Which part of torch.distributions.RelaxedOneHotCategorical in half precision moves the law
of y_0 (docs/audits/README.md, findings 9 and 14): its rsample against exact samples rounded to
the format, and the format's clamped Gumbel noise with a float64 softmax, rounded. Two-sample
KS (scipy), n = 10^5, tau = 0.5, logits (1, 0, -1)."""
import torch, numpy as np, scipy.stats as st
from torch.distributions import RelaxedOneHotCategorical, Gumbel
torch.set_num_threads(1)
n = 100000
l64 = torch.tensor([1., 0., -1.], dtype=torch.float64)
torch.manual_seed(5)
g = Gumbel(torch.tensor(0., dtype=torch.float64), torch.tensor(1., dtype=torch.float64)).sample((n, 3))
ref = torch.softmax((l64 + g) / 0.5, -1)
for dt in (torch.float16, torch.bfloat16):
    ref_r = ref.to(dt).double()[:, 0].numpy()
    torch.manual_seed(0)
    y = RelaxedOneHotCategorical(torch.tensor(0.5, dtype=dt), logits=l64.to(dt)).rsample((n,)).double()[:, 0].numpy()
    torch.manual_seed(0)
    gh = Gumbel(torch.tensor(0., dtype=dt), torch.tensor(1., dtype=dt)).sample((n, 3)).double()
    y2 = torch.softmax((l64 + gh) / 0.5, -1).to(dt).double()[:, 0].numpy()
    print(dt, "torch rsample vs rounded exact: D=%.4f p=%.1e" % st.ks_2samp(y, ref_r)[:2],
          "| half-precision clamped noise + float64 softmax, rounded: D=%.4f p=%.1e" % st.ks_2samp(y2, ref_r)[:2])
