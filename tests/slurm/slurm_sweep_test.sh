#!/bin/bash
# A single-node Slurm cluster on this machine (munged, slurmctld and slurmd
# as local processes with a generated key and slurm.conf), a small Gaussian
# sweep submitted as a job array through `sweep slurm`, the shards merged,
# and every run checked. Stops the daemons it started, whatever happens.
#   slurm_sweep_test.sh WORKBENCH_BINARY
# Exit 77 (CTest: skipped) without Slurm, munge or root.
set -u
WB=${1:?usage: slurm_sweep_test.sh WORKBENCH_BINARY}
skip() { echo "SKIP: $*"; exit 77; }
for tool in munged mungekey slurmctld slurmd sbatch scontrol sinfo; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin" command -v "$tool" >/dev/null 2>&1 ||
    skip "$tool not found (Debian: apt-get install slurm-wlm munge)"
done
export PATH="$PATH:/usr/sbin"
[ "$(id -u)" = 0 ] || skip "slurmd must run as root to start jobs"

DIR=$(mktemp -d /tmp/ssrl-slurm-test.XXXXXX)
chmod 755 "$DIR"
NODE=$(hostname -s)
# Ports of our own: a system Slurm may be listening on the defaults.
BASE=$((20000 + ($$ % 20000)))
export SLURM_CONF="$DIR/slurm.conf"
mkdir -p "$DIR/munge-key" "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/sweep"
chmod 700 "$DIR/munge-key"

cleanup() {
  code=$?
  scontrol shutdown >/dev/null 2>&1
  for pidfile in "$DIR/slurmctld.pid" "$DIR/slurmd.pid" "$DIR/munge/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill "$pid" 2>/dev/null
  done
  if [ "$code" != 0 ] && [ "$code" != 77 ]; then
    for f in "$DIR"/log/*; do echo "==== $f"; tail -n 40 "$f"; done
  fi
  rm -rf "$DIR"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*"; exit 1; }

mungekey -c -k "$DIR/munge-key/munge.key" -b 1024 >/dev/null || fail "mungekey"
chmod 400 "$DIR/munge-key/munge.key"
munged -f --socket="$DIR/munge/sock" --key-file="$DIR/munge-key/munge.key" --log-file="$DIR/log/munged.log" \
  --pid-file="$DIR/munge/munged.pid" --seed-file="$DIR/munge/seed" || fail "munged did not start"

cat > "$SLURM_CONF" <<EOF
ClusterName=ssrltest
SlurmctldHost=$NODE
SlurmctldPort=$BASE
SlurmdPort=$((BASE + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/sock
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
InactiveLimit=0
KillWait=10
MinJobAge=600
NodeName=$NODE CPUs=$(nproc) State=UNKNOWN
PartitionName=ssrltest Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -f "$SLURM_CONF" -i || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 100); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 0.2
done
sinfo -h -o %T | grep -q idle || fail "the node never became idle: $(sinfo 2>&1)"

# 8 runs in 3 array tasks.
cat > "$DIR/small.json" <<'EOF'
{"name": "slurm-small", "methods": ["jmi", "simclr"],
 "base": {"dataset": "gaussian", "epochs": 20, "points_per_cluster": 40, "batch_size": 50},
 "axes": {"lr": [0.1, 0.5]}, "seeds": [0, 1]}
EOF
"$WB" sweep slurm "$DIR/small.json" --out "$DIR/sweep" --shards 3 --partition ssrltest --time 00:10:00 \
  --cpus-per-task 1 || fail "sweep slurm"
timeout 600 sbatch --wait "$DIR/sweep/sweep.sbatch" || fail "the job array failed (logs: $(cat "$DIR"/sweep/logs/* 2>/dev/null))"
for task in 0 1 2; do
  [ -f "$DIR/sweep/shards/shard-$task.db" ] || fail "array task $task left no shard"
done

"$DIR/sweep/merge.sh" || fail "merge"
"$DIR/sweep/merge.sh" | grep -q "0 new, 0 updated, 8 unchanged" || fail "a second merge changed something"
DB="$DIR/sweep/sweep.db"
status=$("$WB" --db "$DB" sweep status slurm-small --format json) || fail "sweep status"
echo "$status"
echo "$status" | grep -q '"finished": 8' || fail "not every run arrived finished"
echo "$status" | grep -q '"planned": 8' || fail "the plan did not arrive"
runs=$("$WB" --db "$DB" runs --format json) || fail "runs"
[ "$(echo "$runs" | grep -c '"status": "finished"')" = 8 ] || fail "expected 8 finished runs: $runs"
for id in $(seq 1 8); do
  show=$("$WB" --db "$DB" show "$id" --format json) || fail "show $id"
  # Count the epoch records themselves (other objects, e.g. the checkpoint, name an epoch too).
  epochs=$(echo "$show" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(len(d["epochs"]), d["epochs"][-1]["epoch"])') ||
    fail "show $id: no epochs array"
  [ "$epochs" = "20 20" ] || fail "run $id does not hold epochs 1..20 (count, last: $epochs)"
  echo "$show" | grep -q '"cos_dv": [-0-9]' || fail "run $id has no MI estimates"
done
"$WB" --db "$DB" sweep report slurm-small || fail "sweep report"
echo "PASS: 8 runs in 3 Slurm array tasks, merged twice"
