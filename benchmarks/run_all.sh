#!/usr/bin/env bash
# Every benchmark of issue 11, one after another, each with the load average before and
# after: the run benchmarks/README.md records ("Every benchmark in one run").
#   benchmarks/run_all.sh > run.log 2>&1     # about 8 minutes on a 2-core machine
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime; }
run() {
  echo "=== $* ($(date -u +%H:%M:%S) UTC, load $(load))"
  "$py" "$@" 2>&1
  echo "=== end $(date -u +%H:%M:%S) UTC, load $(load)"
}
echo "machine: $(uname -m), $(nproc) CPUs, $("$py" --version)"
"$py" -m timeit 'sum(range(1000))'
run benchmarks/bench_batch.py
run benchmarks/bench_read.py
run benchmarks/bench_rate.py --repeat 3 --breakdown --floor
run benchmarks/bench_usage_view.py
run benchmarks/bench_pdf.py --invoices 200 --repeat 3
run benchmarks/bench_billing_run.py --records 10000000 --accounts 100000
run benchmarks/bench_billing_run.py --records 10000000 --accounts 100000 --parquet
distributed=(--records 28800000 --accounts 4000 --files 8 --repeat 5 --skip-spark)
run benchmarks/bench_distributed.py "${distributed[@]}"
run benchmarks/bench_distributed.py "${distributed[@]}" --keep-memory
"$py" -m timeit 'sum(range(1000))'
