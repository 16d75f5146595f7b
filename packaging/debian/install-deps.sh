#!/bin/sh
# Installs the Debian 12 packages that SSRL Workbench needs to build, test and
# run; does nothing when they are all present.
#   --gui      the desktop application too (default): Qt 6, Qt Charts, VTK, Xvfb
#   --no-gui   only the headless CLI (servers, GPU nodes)
#   --fuzz     also clang and libFuzzer, for the opt-in fuzz preset
#   --list     print the package list and exit
#   --cuda     also LibTorch with CUDA for the `cuda` preset: PyPI's torch wheel
#              (TORCH_CUDA_VERSION, default below) in the project-local virtual
#              environment .venv-cuda; the CUDA toolkit itself (nvcc, cuDNN,
#              NCCL) is the system's, in /usr/local/cuda
set -eu

gui=1
fuzz=0
list=0
cuda=0
for arg in "$@"; do
  case "$arg" in
    --gui) gui=1 ;;
    --no-gui) gui=0 ;;
    --fuzz) fuzz=1 ;;
    --list) list=1 ;;
    --cuda) cuda=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg' (accepted: --gui, --no-gui, --fuzz, --cuda, --list)" >&2; exit 2 ;;
  esac
done

# Build tools and the libraries of core, storage and app.
packages="build-essential cmake pkg-config ccache help2man lintian desktop-file-utils
  libtorch-dev libopenblas0-openmp zlib1g-dev libstb-dev dataset-fashion-mnist
  libsqlite3-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev
  libgloo-dev
  slurm-wlm munge
  python3-torch"
# libgloo-dev: the Gloo headers LibTorch's distributed backend (c10d) needs
# for data-parallel runs. slurm-wlm, munge: the Slurm integration test starts
# a one-node cluster of its own (tests/slurm). python3-torch: the test that
# loads exported weights in PyTorch (tests/core/test_weights.cpp).
# help2man: the man page, from the program's --help. lintian,
# desktop-file-utils: the package test (test-package.sh) checks the .deb.
# libopenblas0-openmp: Debian's torch otherwise links the reference BLAS,
# which made the Gaussian runs' small matrix products ~2.5x slower here.
if [ "$gui" = 1 ]; then
  packages="$packages
  qt6-base-dev qt6-charts-dev qt6-svg-dev libqt6opengl6-dev libxkbcommon-dev libgl1-mesa-dev
  libvtk9-dev mpi-default-dev libx11-dev
  xvfb xauth"
fi
if [ "$fuzz" = 1 ]; then
  # libclang-rt-14-dev holds libFuzzer and the sanitizer runtimes for clang-14.
  packages="$packages clang-14 libclang-rt-14-dev"
fi
if [ "$cuda" = 1 ]; then
  packages="$packages python3-venv python3-pip"
fi
packages=$(echo $packages)

if [ "$list" = 1 ]; then
  echo "$packages" | tr ' ' '\n'
  exit 0
fi

missing=""
for p in $packages; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done

# LibTorch 2 with CUDA from PyPI, the way PyTorch documents for C++ users
# (torch.utils.cmake_prefix_path). The wheel brings its CUDA runtime
# libraries as nvidia-* wheels: it is built against a newer CUDA 13 minor
# than the system toolkit, and cuSPARSELt, cuFile and NVSHMEM are not in the
# toolkit, so the system's copies cannot stand in for them.
install_cuda_torch() {
  root=$(cd "$(dirname "$0")/../.." && pwd)
  venv="$root/.venv-cuda"
  version="${TORCH_CUDA_VERSION:-2.15.0}"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$version')" 2>/dev/null; then
    echo "install-deps.sh: torch $version is in $venv"
    return 0
  fi
  if ! [ -x /usr/local/cuda/bin/nvcc ]; then
    echo "install-deps.sh: --cuda needs the CUDA toolkit in /usr/local/cuda (nvcc, cuDNN, NCCL)" >&2
    exit 1
  fi
  start=$(date +%s)
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==$version"
  echo "install-deps.sh: torch $version with CUDA in $venv ($(du -sh "$venv" | cut -f1), $(( $(date +%s) - start )) s)"
}

if [ -z "$missing" ]; then
  echo "install-deps.sh: all $(echo $packages | wc -w) packages are installed"
  if [ "$cuda" = 1 ]; then install_cuda_torch; fi
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "install-deps.sh: need root (or sudo) to install:$missing" >&2
  exit 1
fi

echo "install-deps.sh: installing:$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
if [ "$cuda" = 1 ]; then install_cuda_torch; fi
