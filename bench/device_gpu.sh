#!/usr/bin/env bash
# The GPU figures of bench/bench_cli.py, run on a machine lent by the device tool.
#
#   bash bench/device_gpu.sh install .whl     # first call: XGBoost's wheel (57 MB) alone
#   bash bench/device_gpu.sh run .whl2        # second call: the other pinned wheels, then
#                                             # bench_cli with --device cuda and --device cpu
#
# Fill the wheel folders first, here (pip reaches PyPI), from the repository root:
#   echo /.whl/ >> .git/info/exclude; echo /.whl2/ >> .git/info/exclude
#   echo /.gpu_site/ >> .git/info/exclude
#   get() { python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
#       --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 -d "$@"; }
#   get .whl xgboost==3.4.1
#   get .whl2 pandas==3.1.1 duckdb==2.0.0 scikit-learn==1.9.1 shap==0.54.1 slicer==0.0.8 \
#       threadpoolctl==3.8.0
# (each call's working tree and wheels must stay under 64 MiB).
#
# The machine has Python 3.12 with numpy, scipy, pyarrow, numba and psutil but no network;
# the pinned wheels travel in folders ignored by git (.whl, .whl2) and are installed into
# .gpu_site, which stays between calls while the machine is warm. Results and logs go to
# $OUT (the device tool brings that folder back).
set -uo pipefail
step=${1:?install or run}
wheels=${2:?folder of wheels}
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target .gpu_site "$wheels"/*.whl || exit 1
export PYTHONPATH="$PWD/.gpu_site:$PWD" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 - <<'PY'
import numpy, pandas, pyarrow, scipy, xgboost
print("python packages:", {m.__name__: m.__version__ for m in (numpy, pandas, pyarrow, scipy, xgboost)},
      "XGBoost CUDA build:", xgboost.build_info().get("USE_CUDA"))
rng = numpy.random.default_rng(0)
data = xgboost.DMatrix(rng.random((1000, 5)), label=rng.random(1000) > 0.5)
xgboost.train({"device": "cuda", "tree_method": "hist"}, data, 5)
print("XGBoost trained on cuda")
PY
[ "$step" = run ] || exit 0
nproc; free -g | head -2
for device in cuda cpu; do
    python3 -m bench.bench_cli --sizes 1e6 --skip app --device "$device" \
        --name "cli_gpu_machine_$device" --work /tmp/churn-bench-gpu 2>&1 | tee "$OUT/bench_$device.log"
    cp /tmp/churn-bench-gpu/ours/train.log "$OUT/train_$device.log"
    cp /tmp/churn-bench-gpu/ours/score.log "$OUT/score_$device.log"
done
cp bench/results/cli_gpu_machine_*.json "$OUT/"
