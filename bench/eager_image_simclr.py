#!/usr/bin/python3
"""Eager PyTorch reference for the workbench's image training step.

One SimCLR step as a researcher would write it in PyTorch, on two views made
beforehand: the small CNN of the Fashion-MNIST runs (four conv-BN-ReLU
blocks) with SimCLR's published head (Linear-ReLU-Linear, no batch norm),
NT-Xent at temperature 0.1 over the 2N views, SGD with momentum and weight
decay. The networks come from resources/python/ssrl_encoders.py, the
workbench's own modules in PyTorch. Run it with Debian's python3-torch (the
same LibTorch 1.13 the workbench links) and compare its images/s with the
"step only" column of

    ssrl-workbench bench train --encoders small-cnn --methods simclr --steps 10

(Fashion-MNIST row: 28x28 grey, batch 256, projector 512-128, lr 0.05).

Usage: bench/eager_image_simclr.py [--steps 10] [--batch 256] [--threads 1] [--repeats 3]
       bench/eager_image_simclr.py --size 32 --channels 3 --proj 2048 256 3   (the synthetic 32x32x3 row)
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "python"))
from ssrl_encoders import ImageEncoder  # noqa: E402


def nt_xent(z1, z2, t):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    s = z @ z.t() / t
    s.fill_diagonal_(float("-inf"))
    positive = (z * z.roll(n, 0)).sum(1) / t  # each view's other view
    return (torch.logsumexp(s, 1) - positive).mean()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--channels", type=int, default=1)
    # Fashion-MNIST's projector by default; CIFAR's (bench train's synthetic 32x32x3 row): 2048 256 3
    p.add_argument("--proj", type=int, nargs=3, default=[512, 128, 2], metavar=("HIDDEN", "DIM", "LAYERS"))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    f = ImageEncoder("small-cnn", in_channels=a.channels, proj_hidden=a.proj[0], proj_dim=a.proj[1], proj_layers=a.proj[2],
                     hidden_bias=True, hidden_bn=False, out_bias=True, out_norm="none")
    f.train()
    opt = torch.optim.SGD(f.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x1 = torch.randn(a.batch, a.channels, a.size, a.size)
    x2 = torch.randn(a.batch, a.channels, a.size, a.size)

    def step():
        opt.zero_grad()
        loss = nt_xent(f.projector(f.backbone(x1)), f.projector(f.backbone(x2)), 0.1)
        loss.backward()
        opt.step()
        return loss.item()

    step()  # warm-up
    rates, cpu_rates = [], []
    for _ in range(a.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(a.steps):
            step()
        rates.append(a.batch * a.steps / (time.perf_counter() - t0))
        cpu_rates.append(a.batch * a.steps / (time.process_time() - c0))
    rates.sort()
    cpu_rates.sort()
    print(f"eager PyTorch {torch.__version__}, small-cnn simclr, {a.channels}x{a.size}x{a.size}, "
          f"projector {a.proj[0]}-{a.proj[1]} ({a.proj[2]} layers), batch {a.batch}, "
          f"{a.threads} thread(s): {rates[len(rates) // 2]:.1f} images/s (median of {a.repeats}; "
          f"all: {', '.join(f'{r:.1f}' for r in rates)}); per CPU second: {cpu_rates[len(cpu_rates) // 2]:.1f} "
          f"(bench train's 'step CPU')")


if __name__ == "__main__":
    main()
