#!/usr/bin/python3
"""Eager PyTorch reference for the workbench's speed claim.

A full-batch JMI run on the Gaussian mixture of docs/science.md §5, written the way a
researcher would write it in PyTorch: the same encoder, cos-DV loss, SGD with
momentum and cosine annealing, and after every epoch the three MI estimates
on the 2500-point validation set, cluster centres and collapse indicators.
Run it with Debian's python3-torch, which is the same LibTorch 1.13 the
workbench links, and compare with

    ssrl-workbench run --method jmi --batch-size full --epochs 100

Usage: bench/eager_gaussian_jmi.py [--epochs 100] [--threads 1] [--mi dense|blocks]
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def encoder(hidden=64):
    return nn.Sequential(nn.Linear(2, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, 3), nn.BatchNorm1d(3))


def embed(f, x):
    return F.normalize(f(x), dim=1)


def cos_dv_loss(za, zb, t):
    a, b = F.normalize(za, dim=1), F.normalize(zb, dim=1)
    s = a @ b.t() / t
    n = s.shape[0]
    joint = s.diagonal().mean()
    off = s.masked_fill(torch.eye(n, dtype=torch.bool), float("-inf"))
    marg = torch.logsumexp(off.flatten(), 0) - math.log(n * (n - 1))
    return -(joint - marg)


def mi_dense(a, b, t=1.0):
    s = F.normalize(a, dim=1) @ F.normalize(b, dim=1).t() / t
    n = s.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    diag = s.diagonal()
    cos_dv = diag.mean() - (torch.logsumexp(s.masked_fill(eye, float("-inf")).flatten(), 0) - math.log(n * (n - 1)))
    infonce = (diag - torch.logsumexp(s, 1)).mean() + math.log(n)
    jsd = (-F.softplus(-diag)).mean() - F.softplus(s).masked_fill(eye, 0).sum() / (n * (n - 1))
    return cos_dv.item(), infonce.item(), jsd.item()


def mi_blocks(a, b, t=1.0, block=256):
    a, b = F.normalize(a, dim=1), F.normalize(b, dim=1)
    n = a.shape[0]
    diag_sum = infonce = jsd_joint = sp_off = 0.0
    row_lse = []
    for r0 in range(0, n, block):
        s = a[r0:r0 + block] @ b.t() / t
        rows = torch.arange(s.shape[0])
        d = s[rows, rows + r0]
        diag_sum += d.sum().item()
        infonce += (d - torch.logsumexp(s, 1)).sum().item()
        jsd_joint += (-F.softplus(-d)).sum().item()
        sp = F.softplus(s)
        sp_off += (sp.sum() - sp[rows, rows + r0].sum()).item()
        s[rows, rows + r0] = float("-inf")
        row_lse.append(torch.logsumexp(s, 1))
    pairs = n * (n - 1)
    off = torch.logsumexp(torch.cat(row_lse), 0).item()
    return diag_sum / n - (off - math.log(pairs)), math.log(n) + infonce / n, jsd_joint / n - sp_off / pairs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--mi", choices=["dense", "blocks"], default="dense")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)

    k, per = 5, 500
    centres = torch.tensor([[math.cos(2 * math.pi * i / k), math.sin(2 * math.pi * i / k)] for i in range(1, k + 1)])
    labels = torch.arange(k).repeat_interleave(per)
    x = centres[labels] + 0.05 * torch.randn(k * per, 2, generator=g)
    val = centres[labels] + 0.05 * torch.randn(k * per, 2, generator=g)
    v1 = val + 0.1 * torch.randn(val.shape, generator=g)
    v2 = val + 0.1 * torch.randn(val.shape, generator=g)

    f = encoder()
    opt = torch.optim.SGD(f.parameters(), lr=0.5, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    mi_fn = mi_dense if args.mi == "dense" else mi_blocks
    t0 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        f.train()
        x1 = x + 0.1 * torch.randn(x.shape, generator=g)
        x2 = x + 0.1 * torch.randn(x.shape, generator=g)
        loss = cos_dv_loss(embed(f, x1), embed(f, x2), 0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        f.eval()
        with torch.no_grad():
            mi = mi_fn(embed(f, v1), embed(f, v2))
            zv = embed(f, val)
            emb_std = zv.std(0, unbiased=False).mean().item()
            s = torch.linalg.svdvals(zv.double())
            pk = s / s.sum() + 1e-7
            rank = math.exp(-(pk * pk.log()).sum().item())
            zt = embed(f, x)
            cs = F.normalize(torch.zeros(k, 3).index_add_(0, labels, zt), dim=1)
    seconds = time.perf_counter() - t0
    print(f"eager PyTorch {torch.__version__}: {args.epochs} full-batch JMI epochs with MI ({args.mi}) "
          f"in {seconds:.2f} s ({1000 * seconds / args.epochs:.1f} ms/epoch); final loss {loss.item():.4f}, "
          f"cos-DV {mi[0]:.4f}, InfoNCE {mi[1]:.4f}, JSD {mi[2]:.4f}, emb-SD {emb_std:.3f}, rank {rank:.3f}")


if __name__ == "__main__":
    main()
