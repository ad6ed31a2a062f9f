#!/usr/bin/env python3
"""The capacity table of docs/capacity.md, from the distributed bench's JSON.

    BENCH_JSON=figures.json cargo run --release -p expressway-benches --bin distributed -- 100000
    python3 benches/capacity.py figures.json                  # CPU and traffic from one run
    python3 benches/capacity.py --cpu release.json --traffic counts.json --rates 6000 100000
    python3 benches/capacity.py figures.json --helm           # the chart's `sizing` block

CPU microseconds per execution of each process come from a release run (`--cpu`); Redis
commands, Redis memory and Kafka records per execution (`--traffic`) are counts, the same for
any build. Both default to the one file given. Everything else is a stated assumption with a
flag of its own; the defaults are those docs/capacity.md explains.
"""

import argparse
import json
import math
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def cpu_of(fig):
    """CPU microseconds per execution by process, from any of the bench's JSON shapes."""
    for key in ("expressway_cpu_us_per_execution", "cpu_us_per_execution"):
        if key in fig:
            return fig[key]
    if "scaling" in fig:  # `distributed scaling`: the one-worker row
        return cpu_of(next(r for r in fig["scaling"] if r["workers"] == 1))
    sys.exit("no CPU per execution in the JSON (expected expressway_cpu_us_per_execution)")


def traffic_of(fig):
    if "scaling" in fig and "redis_commands_per_execution" not in fig:
        fig = next(r for r in fig["scaling"] if r["workers"] == 1)
    missing = [k for k in ("redis_commands_per_execution", "redis_memory_bytes_per_execution",
                           "kafka_records_per_execution") if k not in fig]
    if missing:
        sys.exit(f"no {', '.join(missing)} in the JSON: run the bench as of this commit (it counts them)")
    return fig


def per_process(cpu, name):
    """A process's figure; several workers (`worker 1`, `worker 2`) add up."""
    if name in cpu:
        return cpu[name]
    parts = [v for k, v in cpu.items() if k.startswith(name + " ")]
    if not parts:
        sys.exit(f"no CPU figure for the {name} in {sorted(cpu)}")
    return sum(parts)


def round_up(n, multiple):
    return int(math.ceil(n / multiple) * multiple)


def plan(rate, cpu, traffic, a):
    """What a deployment needs for `rate` starts per second."""
    def cores(us):
        return rate * us / 1e6

    fe = cores(per_process(cpu, "frontend"))
    wk = cores(per_process(cpu, "worker") + a.workflow_us)
    rs = cores(per_process(cpu, "results"))
    broker = cores(per_process(cpu, "broker"))
    redis_cpu = cores(per_process(cpu, "redis"))

    def pods(c):
        return max(a.min_pods, math.ceil(c / a.utilization / a.pod_cores))

    fe_pods, wk_pods, rs_pods = pods(fe), pods(wk), pods(rs)
    records = traffic["kafka_records_per_execution"]
    exec_records = rate * records.get("expressway.executions", 1.0)
    # Partitions: room for KEDA to double the workers, and the per-partition rate assumed.
    partitions = round_up(max(a.min_partitions, a.scale_out * wk_pods,
                              math.ceil(exec_records / a.partition_records)), a.partition_multiple)
    redis_ops = rate * traffic["redis_commands_per_execution"]
    memory = rate * a.retention_seconds * traffic["redis_memory_bytes_per_execution"]
    # A Redis shard (a primary) serves its commands on one core.
    shards_cpu = math.ceil(redis_cpu / a.redis_utilization)
    shards_mem = math.ceil(memory / (a.shard_memory_gib * 2**30))
    return {
        "rate": rate,
        "frontend_cores": fe, "frontend_pods": fe_pods,
        "worker_cores": wk, "worker_pods": wk_pods,
        "results_cores": rs, "results_pods": rs_pods,
        "broker_cores": broker,
        "kafka_records_per_second": rate * sum(records.values()),
        "partitions": partitions,
        "redis_ops_per_second": redis_ops, "redis_cores": redis_cpu,
        "redis_memory_gib": memory / 2**30,
        "redis_shards": max(1, shards_cpu, shards_mem), "shards_cpu": shards_cpu, "shards_mem": shards_mem,
        # The results stream's entries and appends spread like the executions' keys only when
        # it has a shard on every primary (`shard_keys` gives each an equal slot range).
        "stream_shards": 1 if max(1, shards_cpu, shards_mem) == 1 else max(3, shards_cpu, shards_mem),
    }


def fmt(n):
    return f"{n:,.0f}" if n >= 100 else f"{n:.2f}"


def table(plans, a):
    rows = [
        ("frontend CPU (cores busy)", lambda p: fmt(p["frontend_cores"])),
        (f"frontend pods ({a.pod_cores:g} core, {a.utilization:.0%} busy, at least {a.min_pods})",
         lambda p: str(p["frontend_pods"])),
        ("worker CPU (cores busy)", lambda p: fmt(p["worker_cores"])),
        ("worker pods", lambda p: str(p["worker_pods"])),
        ("results service CPU (cores busy)", lambda p: fmt(p["results_cores"])),
        ("results service pods", lambda p: str(p["results_pods"])),
        ("Kafka records appended / s (all topics)", lambda p: fmt(p["kafka_records_per_second"])),
        ("Kafka broker CPU (cores busy, leaders, as measured)", lambda p: fmt(p["broker_cores"])),
        ("executions topic partitions", lambda p: str(p["partitions"])),
        ("Redis commands / s", lambda p: fmt(p["redis_ops_per_second"])),
        ("Redis CPU (cores busy)", lambda p: fmt(p["redis_cores"])),
        (f"Redis memory retained ({a.retention_seconds:,} s retention)", lambda p: f"{p['redis_memory_gib']:,.1f} GiB"),
        (f"Redis shards (CPU {a.redis_utilization:.0%} of a core, {a.shard_memory_gib:g} GiB each)",
         lambda p: f"{p['redis_shards']} (CPU {p['shards_cpu']}, memory {p['shards_mem']})"),
        ("`results.stream_shards` (one per Redis shard; 1 on one server)", lambda p: str(p["stream_shards"])),
    ]
    out = ["| | " + " | ".join(f"{p['rate']:,} starts/s" for p in plans) + " |",
           "|---|" + "---|" * len(plans)]
    for label, f in rows:
        out.append(f"| {label} | " + " | ".join(f(p) for p in plans) + " |")
    return "\n".join(out)


def inputs(cpu, traffic, a):
    names = ["frontend", "worker", "results", "broker", "redis"]
    lines = ["Measured per execution:",
             "- CPU: " + ", ".join(f"{n} {per_process(cpu, n):.1f} µs" for n in names)
             + (f" (+ {a.workflow_us:g} µs of workflow on the worker)" if a.workflow_us else ""),
             f"- Redis: {traffic['redis_commands_per_execution']:.2f} commands ("
             + ", ".join(f"{k} {v:.2f}" for k, v in sorted(traffic.get("redis_commands_by_name", {}).items(),
                                                             key=lambda kv: -kv[1]))
             + f"), {traffic['redis_memory_bytes_per_execution']:,.0f} bytes retained",
             "- Kafka records: " + ", ".join(f"{k} {v:.3f}" for k, v in traffic["kafka_records_per_execution"].items())]
    return "\n".join(lines)


def helm(cpu, a):
    return "\n".join([
        "sizing:",
        "  cpuMicrosPerExecution:",
        f"    frontend: {per_process(cpu, 'frontend'):.1f}",
        f"    worker: {per_process(cpu, 'worker'):.1f}",
        f"    results: {per_process(cpu, 'results'):.1f}",
        f"  workflowCpuMicrosPerExecution: {a.workflow_us:g}",
    ])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("figures", nargs="?", help="the bench's JSON (BENCH_JSON): CPU and traffic")
    p.add_argument("--cpu", help="JSON with the CPU per execution (a release run)")
    p.add_argument("--traffic", help="JSON with Redis and Kafka counts per execution")
    p.add_argument("--rates", type=int, nargs="+", default=[6000, 100000], help="starts per second")
    p.add_argument("--utilization", type=float, default=0.6, help="how busy a service pod may run")
    p.add_argument("--pod-cores", type=float, default=1.0)
    p.add_argument("--min-pods", type=int, default=2, help="per service, for availability")
    p.add_argument("--workflow-us", type=float, default=0.0,
                   help="interpreter CPU of your workflow beyond `hello` (order: ~8 µs)")
    p.add_argument("--scale-out", type=int, default=2, help="partitions per worker pod needed at the rate")
    p.add_argument("--min-partitions", type=int, default=12)
    p.add_argument("--partition-multiple", type=int, default=12)
    p.add_argument("--partition-records", type=int, default=5000, help="records/s one partition is given")
    p.add_argument("--redis-utilization", type=float, default=0.5, help="how busy a Redis shard's core may run")
    p.add_argument("--retention-seconds", type=int, default=3600, help="redis.retention_seconds")
    p.add_argument("--shard-memory-gib", type=float, default=24.0, help="memory a Redis shard holds")
    p.add_argument("--helm", action="store_true", help="print the chart's `sizing` block instead")
    a = p.parse_args(argv)
    cpu_file, traffic_file = a.cpu or a.figures, a.traffic or a.figures
    if not cpu_file or not traffic_file:
        p.error("give the bench's JSON, or --cpu and --traffic")
    cpu = cpu_of(load(cpu_file))
    if a.helm:
        print(helm(cpu, a))
        return
    traffic = traffic_of(load(traffic_file))
    print(inputs(cpu, traffic, a))
    print()
    print(table([plan(r, cpu, traffic, a) for r in a.rates], a))


if __name__ == "__main__":
    main()
