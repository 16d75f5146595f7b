"""The PyTorch side of the weights round trip (tests/core/test_weights.cpp).

  check_weights.py compare ENCODERS_DIR CALL PART WEIGHTS BATCH EXPECTED [EXPECTED_FEATURES]
      builds CALL from ssrl_encoders.py, loads WEIGHTS (a state_dict the
      workbench wrote), runs BATCH through it in eval mode and compares with
      the workbench's output: the embeddings (part all), the backbone features
      (part backbone) or the projector's unit rows (part projector, BATCH
      being backbone features). Exit 0 within 1e-5, 1 otherwise.
  check_weights.py save ENCODERS_DIR CALL SEED WEIGHTS BATCH EXPECTED
      builds CALL with torch.manual_seed(SEED), puts some statistics into its
      batch norms, saves its state_dict with torch.save (as a plain dict, the
      form LibTorch reads), and the eval-mode
      output of BATCH (written by the workbench) to EXPECTED.
Exit 77 when torch cannot be imported.
"""
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(f"python3 cannot import torch: {e}")
    sys.exit(77)

mode, encoders_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, encoders_dir)
import ssrl_encoders  # noqa: E402

model = eval(sys.argv[3], vars(ssrl_encoders))
if mode == "compare":
    part, weights, batch, expected = sys.argv[4:8]
    model.load_state_dict(torch.load(weights))
    model.eval()
    x = torch.load(batch)
    want = torch.load(expected)
    with torch.no_grad():
        got = F.normalize(model(x), dim=1) if part == "projector" else model(x)
    diff = (got - want).abs().max().item()
    print(f"{sys.argv[3]} [{part}]: {tuple(got.shape)}, max |PyTorch - workbench| = {diff:.3g}")
    ok = got.shape == want.shape and diff <= 1e-5
    if len(sys.argv) > 8:
        want_h = torch.load(sys.argv[8])
        with torch.no_grad():
            h = model.features(x)
        dh = (h - want_h).abs().max().item()
        print(f"  features: max |PyTorch - workbench| = {dh:.3g}")
        ok = ok and h.shape == want_h.shape and dh <= 1e-5
    sys.exit(0 if ok else 1)
elif mode == "save":
    seed, weights, batch, expected = sys.argv[4:8]
    torch.manual_seed(int(seed))
    model = eval(sys.argv[3], vars(ssrl_encoders))
    x = torch.load(batch)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(x * 2 + 0.5)
    model.eval()
    torch.save(dict(model.state_dict()), weights)
    torch.save(model.state_dict(), weights + ".ordered")  # what LibTorch cannot read
    with torch.no_grad():
        torch.save(model(x), expected)
    sys.exit(0)
else:
    print(f"unknown mode {mode}")
    sys.exit(2)
