#!/bin/sh
# The GPU check, for a machine lent with a GPU for a few minutes and no network.
#
#   tools/gpu-check.sh prepare   here, with network: the Debian packages of
#                                the headers and small libraries the build
#                                needs, into build/gpu-carry (carry that path)
#   tools/gpu-check.sh run       there: builds the headless CLI and the tests
#                                against that machine's own PyTorch (LibTorch
#                                from its torch wheel) with only the carried
#                                packages, runs the device tests, then times
#                                one epoch of ResNet-18 on CIFAR-sized
#                                synthetic data with AMP and short SimCLR and
#                                SDMI runs, printing images/s and GPU memory
#
# Environment: PYTHON (default python3, must import torch with CUDA), JOBS
# (default: all cores), STEPS (timed steps per case, default 20).
set -eu
cd "$(dirname "$0")/.."
carry=build/gpu-carry
packages="libcli11-dev nlohmann-json3-dev libstb-dev libstb0 libsqlite3-dev libsqlite3-0
  libgtest-dev zlib1g-dev libgloo-dev pkgconf pkgconf-bin libpkgconf3"

case "${1:-}" in
prepare)
  mkdir -p "$carry"
  (cd "$carry" && apt-get download $packages)
  ls -l "$carry"
  exit 0 ;;
run) ;;
*) sed -n '2,17p' "$0"; exit 2 ;;
esac

PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
STEPS=${STEPS:-20}
t0=$(date +%s)
say() { echo "gpu-check [$(( $(date +%s) - t0 )) s] $*"; }

for tool in cmake make c++ "$PYTHON"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "gpu-check: '$tool' is missing on this machine" >&2; exit 1; }
done
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'torch has no CUDA device here'; \
print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

# The carried packages, unpacked (no root, no apt).
sysroot=$PWD/build/gpu-sysroot
rm -rf "$sysroot" && mkdir -p "$sysroot"
for deb in "$carry"/*.deb; do dpkg-deb -x "$deb" "$sysroot" 2>/dev/null || (cd "$sysroot" && ar p "$OLDPWD/$deb" data.tar.xz | tar xJ); done
arch_lib=$sysroot/usr/lib/x86_64-linux-gnu
export PATH=$sysroot/usr/bin:$PATH
export PKG_CONFIG_PATH=$arch_lib/pkgconfig:$sysroot/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$sysroot
export LD_LIBRARY_PATH=$arch_lib:${LD_LIBRARY_PATH:-}
say "carried packages unpacked"

cmake -S . -B build/gpu -DCMAKE_BUILD_TYPE=Release -DWB_BUILD_GUI=OFF -DWB_BUILD_TESTS=ON -DWB_USE_PCH=ON \
  -DWB_TORCH_PYTHON="$(command -v "$PYTHON")" -DCMAKE_PREFIX_PATH="$sysroot/usr" \
  -DCMAKE_INCLUDE_PATH="$sysroot/usr/include" -DCMAKE_LIBRARY_PATH="$arch_lib" -DTORCH_CUDA_ARCH_LIST=9.0 >build/gpu-configure.log 2>&1 ||
  { tail -30 build/gpu-configure.log; exit 1; }
say "configured"
cmake --build build/gpu -j "$JOBS" --target ssrl-workbench test_device test_core >build/gpu-build.log 2>&1 ||
  { grep -m 20 -E "error|Error" build/gpu-build.log; exit 1; }
say "built"

build/gpu/tests/test_device --gtest_brief=1 || echo "gpu-check: device tests FAILED"
build/gpu/tests/test_core --gtest_brief=1 --gtest_filter='Precision*:Methods*:Losses*' || echo "gpu-check: core tests FAILED"
say "tests done"

# Peak GPU memory of each timed command, sampled by nvidia-smi.
peak() {
  log=$(mktemp)
  (while :; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits >>"$log" 2>/dev/null; sleep 0.2; done) &
  sampler=$!
  "$@" || echo "gpu-check: '$*' FAILED"
  kill "$sampler" 2>/dev/null || true
  echo "  peak GPU memory used: $(sort -n "$log" | tail -1) MiB"
  rm -f "$log"
}
cli=build/gpu/app/ssrl-workbench
db=$(mktemp -d)/gpu-check.db
say "bench train: ResNet-18, CIFAR-sized synthetic images, AMP as a run uses it"
peak "$cli" bench train --device cuda --encoders resnet18 --methods simclr,sdmi --steps "$STEPS" --batch-resnet 512 --data-dir /nonexistent
say "one epoch of SimCLR and of SDMI, ResNet-18 on 50 000 synthetic CIFAR-10 images"
data=$(mktemp -d)
"$PYTHON" - "$data" <<'PY'
import os, sys, random
d = sys.argv[1]
rng = random.Random(0)
for name, n in [("data_batch_%d.bin" % b, 10000) for b in range(1, 6)] + [("test_batch.bin", 10000)]:
    with open(os.path.join(d, name), "wb") as f:
        for i in range(n):
            f.write(bytes([i % 10]) + rng.randbytes(3072))
PY
for m in simclr sdmi; do
  peak "$cli" --db "$db" run --preset cifar10/simclr --method "$m" --data-dir "$data" --device cuda --epochs 1 \
    --set encoder=resnet18 --set batch_size=512 --set knn_bank=0 --set probe_epochs=0 --set checkpoint_every=0
done
"$cli" --db "$db" runs || true
say "done"
