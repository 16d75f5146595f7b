#!/usr/bin/env python3
"""Independent reference values for the loss and MI tests.

Plain Python (math, random, json) and nothing else: no torch, no numpy, so the
numbers do not come from the code under test. Every formula is written from
docs/science.md §1, §4 and §8 directly, pair by pair. Regenerate with

    python3 tests/golden/make_golden.py > tests/golden/golden.json

With --lightly it prints instead the values of a maintained peer library,
lightly (PyPI; needs torch, so run it in a throwaway virtual environment:
python3 -m venv /tmp/venv-lightly && /tmp/venv-lightly/bin/pip install lightly==1.6.0),
on the same inputs; the default test suite reads the checked-in file and
never needs lightly:

    /tmp/venv-lightly/bin/python tests/golden/make_golden.py --lightly > tests/golden/golden_lightly.json
"""
import json
import math
import random


def norm(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def dot(u, v):
    return sum(x * y for x, y in zip(u, v))


def cos(u, v):
    return dot(norm(u), norm(v))


def logsumexp(xs):
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


def softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def sim(za, zb, t):
    return [[cos(a, b) / t for b in zb] for a in za]


def cos_dv(za, zb, t, marginal):
    s = sim(za, zb, t)
    n = len(za)
    joint = sum(s[i][i] for i in range(n)) / n
    if not marginal:
        return -joint
    off = [s[i][j] for i in range(n) for j in range(n) if i != j]
    return -(joint - (logsumexp(off) - math.log(n * (n - 1))))


def neg_cosine(p, z):
    return -sum(cos(a, b) for a, b in zip(p, z)) / len(p)


def byol(p, z):
    return sum(2 - 2 * cos(a, b) for a, b in zip(p, z)) / len(p)


def mocov3(q, k, t):
    s = sim(q, k, t)
    n = len(q)
    ce = sum(logsumexp(s[i]) - s[i][i] for i in range(n)) / n
    return ce * 2 * t


def nt_xent(z1, z2, t):
    z = z1 + z2
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        pos = (i + n) % (2 * n)
        logits = [cos(z[i], z[j]) / t for j in range(2 * n) if j != i]
        total += logsumexp(logits) - cos(z[i], z[pos]) / t
    return total / (2 * n)


def standardise(z, eps):
    n, d = len(z), len(z[0])
    out = [[0.0] * d for _ in range(n)]
    for k in range(d):
        col = [row[k] for row in z]
        mean = sum(col) / n
        var = sum((x - mean) ** 2 for x in col) / n  # biased
        for i in range(n):
            out[i][k] = (z[i][k] - mean) / math.sqrt(var + eps)
    return out


def barlow_twins(z1, z2, lam, eps=1e-5):
    a, b = standardise(z1, eps), standardise(z2, eps)
    n, d = len(z1), len(z1[0])
    c = [[sum(a[i][p] * b[i][q] for i in range(n)) / n for q in range(d)] for p in range(d)]
    on = sum((1 - c[p][p]) ** 2 for p in range(d))
    off = sum(c[p][q] ** 2 for p in range(d) for q in range(d) if p != q)
    return on + lam * off


def vicreg(z1, z2, ws, wv, wc):
    n, d = len(z1), len(z1[0])
    inv = sum((z1[i][k] - z2[i][k]) ** 2 for i in range(n) for k in range(d)) / (n * d)

    def var_term(z):
        total = 0.0
        for k in range(d):
            col = [row[k] for row in z]
            mean = sum(col) / n
            var = sum((x - mean) ** 2 for x in col) / (n - 1)  # unbiased
            total += max(0.0, 1 - math.sqrt(var + 1e-4))
        return total / d

    def cov_term(z):
        means = [sum(row[k] for row in z) / n for k in range(d)]
        total = 0.0
        for p in range(d):
            for q in range(d):
                if p == q:
                    continue
                c = sum((z[i][p] - means[p]) * (z[i][q] - means[q]) for i in range(n)) / (n - 1)
                total += c * c
        return total / d

    v = 0.5 * var_term(z1) + 0.5 * var_term(z2)
    c = cov_term(z1) + cov_term(z2)
    return ws * inv + wv * v + wc * c


def taylor_dv(za, zb, t, lam):
    s = sim(za, zb, t)
    n = len(za)
    joint = sum(s[i][i] for i in range(n)) / n
    off = [s[i][j] for i in range(n) for j in range(n) if i != j]
    mean = sum(off) / len(off)
    var = sum((x - mean) ** 2 for x in off) / len(off)
    return -joint + mean + lam * var


def mi(za, zb, t):
    s = sim(za, zb, t)
    n = len(za)
    diag = [s[i][i] for i in range(n)]
    off = [s[i][j] for i in range(n) for j in range(n) if i != j]
    cos_dv_est = sum(diag) / n - (logsumexp(off) - math.log(n * (n - 1)))
    infonce = sum(diag[i] - (logsumexp(s[i]) - math.log(n)) for i in range(n)) / n
    jsd = sum(-softplus(-x) for x in diag) / n - sum(softplus(x) for x in off) / len(off)
    return {"cos_dv": cos_dv_est, "infonce": infonce, "jsd": jsd}


def embedding_std(z):
    u = [norm(r) for r in z]
    n, d = len(u), len(u[0])
    total = 0.0
    for k in range(d):
        col = [r[k] for r in u]
        mean = sum(col) / n
        total += math.sqrt(sum((x - mean) ** 2 for x in col) / n)
    return total / d


def moco_queue(q, k, queue, t):
    # MoCo-v2 (moco/builder.py): logits [q.k, q.queue] / t, label 0.
    total = 0.0
    for qi, ki in zip(q, k):
        logits = [cos(qi, ki) / t] + [dot(norm(qi), c) / t for c in queue]
        total += logsumexp(logits) - logits[0]
    return total / len(q)


def softmax(xs):
    m = logsumexp(xs)
    return [math.exp(x - m) for x in xs]


def dino(s1, s2, t1, t2, center, ts, tt):
    def ce(teacher, student):
        total = 0.0
        for tr, sr in zip(teacher, student):
            p = softmax([(x - c) / tt for x, c in zip(tr, center)])
            lse = logsumexp([x / ts for x in sr])
            total -= sum(pk * (x / ts - lse) for pk, x in zip(p, sr))
        return total / len(teacher)
    return 0.5 * (ce(t1, s2) + ce(t2, s1))


def sinkhorn(scores, eps, iters):
    n, k = len(scores), len(scores[0])
    q = [[math.exp(scores[i][j] / eps) for i in range(n)] for j in range(k)]  # K x N
    total = sum(map(sum, q))
    q = [[x / total for x in row] for row in q]
    for _ in range(iters):
        q = [[x / sum(row) / k for x in row] for row in q]
        cols = [sum(q[j][i] for j in range(k)) for i in range(n)]
        q = [[q[j][i] / cols[i] / n for i in range(n)] for j in range(k)]
    return [[q[j][i] * n for j in range(k)] for i in range(n)]


def swav(s1, s2, eps, iters, t):
    q1, q2 = sinkhorn(s1, eps, iters), sinkhorn(s2, eps, iters)

    def ce(q, s):
        total = 0.0
        for qr, sr in zip(q, s):
            lse = logsumexp([x / t for x in sr])
            total -= sum(qk * (x / t - lse) for qk, x in zip(qr, sr))
        return total / len(q)
    return 0.5 * (ce(q1, s2) + ce(q2, s1))


def whiten(x):
    # methods/whitening.py: centre, unbiased covariance, L^-1 (x - m) with L L^T = cov.
    n, d = len(x), len(x[0])
    m = [sum(r[k] for r in x) / n for k in range(d)]
    xc = [[r[k] - m[k] for k in range(d)] for r in x]
    cov = [[sum(r[p] * r[q] for r in xc) / (n - 1) for q in range(d)] for p in range(d)]
    lo = [[0.0] * d for _ in range(d)]
    for i in range(d):
        for j in range(i + 1):
            acc = cov[i][j] - sum(lo[i][k] * lo[j][k] for k in range(j))
            lo[i][j] = math.sqrt(acc) if i == j else acc / lo[j][j]
    out = []
    for r in xc:
        y = [0.0] * d
        for i in range(d):
            y[i] = (r[i] - sum(lo[i][k] * y[k] for k in range(i))) / lo[i][i]
        out.append(y)
    return out


def w_mse_one_block(z1, z2):
    return byol(whiten(z1), whiten(z2))


def heads_case():
    """Inputs and values for the MoCo-v2, DINO, SwAV and W-MSE losses."""
    za = [[1.0, 0.2, -0.5], [0.3, -1.1, 0.8], [-0.7, 0.4, 0.9], [0.05, 0.6, -1.2], [0.4, 0.4, 0.1]]
    zb = [[0.9, 0.1, -0.3], [0.2, -0.9, 1.0], [-0.4, 0.7, 0.6], [0.5, 0.3, -1.0], [-0.2, 0.5, 0.3]]
    zc = [[0.8, -0.3, 0.2], [0.1, -0.6, 0.9], [-0.9, 0.2, 0.4], [0.3, 0.7, -0.8], [0.0, 0.6, -0.2]]
    zd = [[0.6, 0.0, -0.1], [0.4, -0.8, 0.5], [-0.5, 0.5, 0.7], [0.2, 0.2, -0.9], [0.3, 0.1, 0.2]]
    queue = [norm(v) for v in ([0.3, 0.9, -0.2], [-1.0, 0.1, 0.4], [0.2, -0.3, -0.9], [0.7, 0.7, 0.1])]
    center = [0.1, -0.2, 0.05]
    rng = random.Random(20261202)
    wa = [[rng.gauss(0, 1) for _ in range(3)] for _ in range(64)]
    wb = [[x + 0.3 * rng.gauss(0, 1) for x in row] for row in wa]
    e = {
        "moco_queue_t0.2": moco_queue(za, zb, queue, 0.2),
        "moco_queue_t1.0": moco_queue(za, zb, queue, 1.0),
        "dino_ts0.1_tt0.04": dino(za, zb, zc, zd, center, 0.1, 0.04),
        "dino_ts0.5_tt0.2": dino(za, zb, zc, zd, center, 0.5, 0.2),
        "sinkhorn_a": sinkhorn(za, 0.05, 3),
        "swav_eps0.05_t0.1": swav(za, zb, 0.05, 3, 0.1),
        "swav_eps0.5_t1.0": swav(za, zb, 0.5, 3, 1.0),
        "whiten_a": whiten(za),
        "w_mse_one_block": w_mse_one_block(za, zb),
        "w_mse_n64_one_block": w_mse_one_block(wa, wb),
    }
    return {"name": "heads", "za": za, "zb": zb, "zc": zc, "zd": zd, "queue": queue, "center": [center],
            "wa": wa, "wb": wb, "expect": e}


def case(name, za, zb, with_slow=True):
    e = {}
    for t in (0.1, 0.5, 1.0):
        e[f"cos_dv_t{t}"] = cos_dv(za, zb, t, True)
        e[f"cos_dv_nomarg_t{t}"] = cos_dv(za, zb, t, False)
        e[f"mi_t{t}"] = mi(za, zb, t)
    e["neg_cosine"] = neg_cosine(za, zb)
    e["byol"] = byol(za, zb)
    e["mocov3_t0.2"] = mocov3(za, zb, 0.2)
    e["mocov3_t1.0"] = mocov3(za, zb, 1.0)
    e["taylor_dv_t0.1_l0.5"] = taylor_dv(za, zb, 0.1, 0.5)
    e["taylor_dv_t1.0_l0.3"] = taylor_dv(za, zb, 1.0, 0.3)
    if with_slow:
        e["nt_xent_t0.5"] = nt_xent(za, zb, 0.5)
        e["nt_xent_t0.1"] = nt_xent(za, zb, 0.1)
        e["barlow_twins_l0.005"] = barlow_twins(za, zb, 0.005)
        e["barlow_twins_l0.0051"] = barlow_twins(za, zb, 0.0051)
        e["vicreg_25_25_1"] = vicreg(za, zb, 25, 25, 1)
        e["embedding_std_a"] = embedding_std(za)
    return {"name": name, "za": za, "zb": zb, "expect": e}


def inputs():
    small_a = [[1.0, 0.2, -0.5], [0.3, -1.1, 0.8], [-0.7, 0.4, 0.9], [0.05, 0.6, -1.2]]
    small_b = [[0.9, 0.1, -0.3], [0.2, -0.9, 1.0], [-0.4, 0.7, 0.6], [0.5, 0.3, -1.0]]
    rng = random.Random(20261129)
    # N = 300 > 256 exercises the kernels' column blocks and a diagonal that
    # crosses a block boundary.
    big_a = [[rng.gauss(0, 1) for _ in range(3)] for _ in range(300)]
    big_b = [[x + 0.3 * rng.gauss(0, 1) for x in row] for row in big_a]
    return [("small", small_a, small_b), ("n300", big_a, big_b)]


def lightly_case(name, za, zb):
    import torch
    from lightly.loss import BarlowTwinsLoss, NegativeCosineSimilarity, NTXentLoss, VICRegLoss

    a = torch.tensor(za, dtype=torch.float64)
    b = torch.tensor(zb, dtype=torch.float64)
    e = {}
    for t in (0.5, 0.1):
        e[f"nt_xent_t{t}"] = NTXentLoss(temperature=t)(a, b).item()
    e["neg_cosine"] = NegativeCosineSimilarity()(a, b).item()
    for lam in (0.005, 0.0051):
        e[f"barlow_twins_l{lam}"] = BarlowTwinsLoss(lambda_param=lam)(a, b).item()
    e["vicreg_25_25_1"] = VICRegLoss(lambda_param=25.0, mu_param=25.0, nu_param=1.0)(a, b).item()
    # MoCo-style InfoNCE: query i against its key (the positive) and the
    # other keys as the memory bank's negatives, one query at a time.
    for t in (0.2, 1.0):
        total = 0.0
        n, d = a.shape
        for i in range(n):
            loss = NTXentLoss(temperature=t, memory_bank_size=(n - 1, d))
            others = torch.cat([b[:i], b[i + 1:]])
            loss.memory_bank.bank = torch.nn.functional.normalize(others, dim=1)
            total += loss(a[i:i + 1], b[i:i + 1]).item()
        e[f"moco_infonce_t{t}"] = total / n
    return {"name": name, "expect": e}


def lightly_heads_case():
    """lightly's MoCo (memory bank), DINO, SwAV and W-MSE on heads_case()'s inputs."""
    import torch
    from lightly.loss import DINOLoss, NTXentLoss, SwaVLoss, WMSELoss

    torch.set_default_dtype(torch.float64)  # lightly makes temperatures with torch.tensor()
    c = heads_case()
    t = {k: torch.tensor(c[k]) for k in ("za", "zb", "zc", "zd", "queue", "wa", "wb")}
    center = torch.tensor(c["center"])
    e = {}
    for temp in (0.2, 1.0):
        # The queue as lightly's memory bank of negatives (rows, unit length).
        loss = NTXentLoss(temperature=temp, memory_bank_size=tuple(t["queue"].shape))
        loss.memory_bank.bank = t["queue"].clone()
        e[f"moco_queue_t{temp}"] = loss(t["za"], t["zb"]).item()
    for ts, tt in ((0.1, 0.04), (0.5, 0.2)):
        loss = DINOLoss(output_dim=3, teacher_temp=tt, warmup_teacher_temp=tt, student_temp=ts)
        loss.center = center.view(1, 1, -1).clone()
        e[f"dino_ts{ts}_tt{tt}"] = loss([t["zc"], t["zd"]], [t["za"], t["zb"]], teacher_temp=tt).item()
    for eps, temp in ((0.05, 0.1), (0.5, 1.0)):
        loss = SwaVLoss(temperature=temp, sinkhorn_iterations=3, sinkhorn_epsilon=eps)
        e[f"swav_eps{eps}_t{temp}"] = loss([t["za"], t["zb"]], []).item()
    # w_size = the batch: one whitening block (lightly needs w_size >= 2 x dim, so not the 5-row case).
    loss = WMSELoss(embedding_dim=3, w_size=64, w_iter=1)
    e["w_mse_n64_one_block"] = loss(torch.cat([t["wa"], t["wb"]])).item()
    torch.set_default_dtype(torch.float32)
    return {"name": "heads", "expect": e}


def main():
    import sys
    if "--lightly" in sys.argv:
        import lightly
        cases = [lightly_case(name, za, zb) for name, za, zb in inputs()]
        print(json.dumps({"generator": "tests/golden/make_golden.py --lightly", "lightly": lightly.__version__,
                          "inputs": "the cases of golden.json, by name", "cases": cases,
                          "heads": lightly_heads_case()}, indent=1))
        return
    cases = [case(name, za, zb, with_slow=name != "n300") for name, za, zb in inputs()] + [heads_case()]
    print(json.dumps({"generator": "tests/golden/make_golden.py", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
