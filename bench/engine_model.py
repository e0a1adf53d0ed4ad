#!/usr/bin/env python3
"""What the engine's own model predicts for bench/engine.sh part (b), with no HTTP and no CPU.

A discrete-event simulation of one modelled A100-80GB / deepseek-llm-7b / fp16 instance behind the
dynamic batcher (Triton's rule as docs/ENGINE.md and DynamicBatcherStateMachine state it), fed by
Poisson arrivals of 32-token, 1-output-token requests, timed with the roofline batch time of
docs/ENGINE.md:  T(B) = 2 ms + max(2 P 32B / F, (W + 32B kv) / BW)  (no decode steps).
It prints, per preset, p99 latency by rate and the highest rate whose p99 stays under the bound,
so the measured scan can be read against the model rather than against saturation throughput.

    python3 bench/engine_model.py [--seconds 15] [--seeds 5] [--p99-ms 100]

Pure standard library; the figures are modelled, not measured.
"""
import argparse
import heapq
import random

P = 6_490_935_296              # active parameters, deepseek-llm-7b
F = 312e12 * 0.5               # FP16 peak x compute efficiency
BW = 2039e9 * 0.7              # bandwidth x bandwidth efficiency
W = P * 2                      # weight bytes read per pass (fp16)
KV = 491_520                   # KV bytes per token (fp16)
OVERHEAD = 0.002               # per-batch overhead, seconds
TOKENS = 32                    # modelled input tokens per request (128 characters)

PRESETS = {
    # name: (max batch, preferred sizes, max queue delay s)
    "no-batching": (1, [1], 0.0),
    "seed": (64, [16, 32, 64], 0.010),
}


def batch_time(b):
    t = TOKENS * b
    return OVERHEAD + max(2 * P * t / F, (W + t * KV) / BW)


def simulate(preset, rate, seconds, seed):
    """Latencies (s) of all requests arriving in [0, seconds), each run to completion."""
    max_b, preferred, delay = PRESETS[preset]
    pref_desc = sorted((p for p in preferred if p <= max_b), reverse=True) or [max_b]
    rng = random.Random(seed)
    arrivals, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= seconds:
            break
        arrivals.append(t)
    queue = []                  # arrival times of pending requests, FIFO
    latencies = []
    busy_until = None           # completion time of the batch in flight
    in_flight = []
    events = []                 # (time, kind) kind 0 = instance free, 1 = timer
    i, now = 0, 0.0

    def dispatch():
        nonlocal busy_until, in_flight
        while queue and busy_until is None:
            cand = min(len(queue), max_b)
            best = next((p for p in pref_desc if p <= cand), 0)
            exceeded = delay > 0 and now - queue[0] >= delay - 1e-12
            if best > 0 and not exceeded:
                size = best
            elif cand >= pref_desc[0] or exceeded or delay == 0:
                size = cand
            else:
                heapq.heappush(events, (queue[0] + delay, 1))
                return
            in_flight = queue[:size]
            del queue[:size]
            busy_until = now + batch_time(size)
            heapq.heappush(events, (busy_until, 0))

    while i < len(arrivals) or events or queue:
        next_arrival = arrivals[i] if i < len(arrivals) else float("inf")
        if events and events[0][0] <= next_arrival:
            now, kind = heapq.heappop(events)
            if kind == 0 and busy_until is not None and now >= busy_until - 1e-12:
                latencies.extend(now - a for a in in_flight)
                busy_until, in_flight = None, []
            dispatch()
        elif i < len(arrivals):
            now = next_arrival
            queue.append(now)
            i += 1
            dispatch()
        else:
            break
    return latencies


def p99(values):
    s = sorted(values)
    return s[min(len(s) - 1, int(0.99 * len(s)))] if s else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--p99-ms", type=float, default=100)
    args = ap.parse_args()
    print(f"modelled batch time: B=1 {batch_time(1)*1e3:.2f} ms, B=16 {batch_time(16)*1e3:.2f} ms, "
          f"B=32 {batch_time(32)*1e3:.2f} ms, B=64 {batch_time(64)*1e3:.2f} ms")
    grids = {"no-batching": range(40, 91, 2), "seed": range(100, 401, 10)}
    best = {}
    for preset, grid in grids.items():
        print(f"\n{preset}: rate/s -> median over {args.seeds} seeds of p99 ms ({args.seconds:g} s runs)")
        best[preset] = 0
        for rate in grid:
            runs = sorted(p99(simulate(preset, rate, args.seconds, s)) * 1e3 for s in range(args.seeds))
            med = runs[len(runs) // 2]
            print(f"  {rate:4d}  p99 {med:8.1f} ms  (seeds: {min(runs):.1f} .. {max(runs):.1f})")
            if med < args.p99_ms:
                best[preset] = rate
    n, s = best["no-batching"], best["seed"]
    print(f"\nhighest rate with median p99 < {args.p99_ms:g} ms: no-batching {n}/s, seed {s}/s, "
          f"ratio {s / n:.2f}x" if n else "")


if __name__ == "__main__":
    main()
