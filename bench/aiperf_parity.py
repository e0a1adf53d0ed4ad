"""Helpers for bench/aiperf-parity.sh (run with .venv-aiperf's python, which has transformers).

    aiperf_parity.py prompts TOKENIZER_DIR ISL COUNT OUT   # COUNT prompts of exactly ISL tokens
    aiperf_parity.py table RESULTS_DIR                     # the side-by-side Markdown table

`prompts` writes one prompt a line, each exactly ISL tokens by the tokenizer (AutoTokenizer on
the folder, as AIPerf loads it), from the project's README words, so Cicada sends prompts of the
length AIPerf's synthetic ones have. `table` reads, for each concurrency C, RESULTS_DIR/aiperf-cC/
(AIPerf's profile_export_aiperf.json) and RESULTS_DIR/cicada-cC.json (Cicada's JSON report).
"""
import glob
import json
import os
import re
import sys


def prompts(tokenizer_dir, isl, count, out):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    words = re.findall(r"[A-Za-z]+", open(os.path.join(root, "README.md"), encoding="utf-8").read())
    n = lambda t: len(tok.encode(t, add_special_tokens=False))
    lines, k = [], 0
    while len(lines) < count:
        text = ""
        while True:
            w = words[k % len(words)]
            k += 1
            cand = (text + " " + w) if text else w
            c = n(cand)
            if c == isl:
                text = cand
                break
            if c > isl:
                continue
            text = cand
        assert n(text) == isl
        lines.append(text)
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def aiperf_metrics(d):
    f = glob.glob(os.path.join(d, "**", "profile_export_aiperf.json"), recursive=True)
    if not f:
        return None
    doc = json.load(open(f[0]))
    m = doc.get("records", doc)

    def get(name, stat):
        v = m.get(name)
        if isinstance(v, dict):
            return v.get(stat)
        return None

    return {
        "TTFT p50 (ms)": get("time_to_first_token", "p50"), "TTFT p99 (ms)": get("time_to_first_token", "p99"),
        # AIPerf's "inter_token_latency" is per request (E2E - TTFT) / (OSL - 1): vLLM's and Cicada's TPOT;
        # its "inter_chunk_latency" is the gap between chunks: Cicada's ITL.
        "ITL p50 (ms)": get("inter_chunk_latency", "p50"), "ITL p99 (ms)": get("inter_chunk_latency", "p99"),
        "TPOT p50 (ms)": get("inter_token_latency", "p50"), "TPOT p99 (ms)": get("inter_token_latency", "p99"),
        "E2E p50 (ms)": get("request_latency", "p50"), "E2E p99 (ms)": get("request_latency", "p99"),
        "output tokens/s": get("output_token_throughput", "avg"), "requests/s": get("request_throughput", "avg"),
        "output tokens/request": get("output_sequence_length", "avg"), "input tokens/request": get("input_sequence_length", "avg"),
        "requests": int(get("request_count", "avg")) if get("request_count", "avg") is not None else None,
    }


def cicada_metrics(path):
    if not os.path.exists(path):
        return None
    doc = json.load(open(path))
    l = doc.get("llm") or {}
    streams = l.get("streams") or l.get("completed") or None
    return {
        "TTFT p50 (ms)": l.get("p50_ttft_ms"), "TTFT p99 (ms)": l.get("p99_ttft_ms"),
        "ITL p50 (ms)": l.get("p50_itl_ms"), "ITL p99 (ms)": l.get("p99_itl_ms"),
        "TPOT p50 (ms)": l.get("p50_tpot_ms"), "TPOT p99 (ms)": l.get("p99_tpot_ms"),
        "E2E p50 (ms)": l.get("p50_e2el_ms"), "E2E p99 (ms)": l.get("p99_e2el_ms"),
        "output tokens/s": l.get("output_throughput"), "requests/s": l.get("request_throughput"),
        "output tokens/request": (l["total_output_tokens"] / streams) if streams and l.get("total_output_tokens") is not None else None,
        "input tokens/request": (l["total_input_tokens"] / streams) if streams and l.get("total_input_tokens") is not None else None,
        "requests": streams,
    }


def cpu(results, tool, c):
    """(client CPU s, engine CPU s) over the tool's run, from bench/aiperf-parity.sh's measure()."""
    path = os.path.join(results, f"cpu-{tool}-c{c}.txt")
    if not os.path.exists(path):
        return {}
    client, engine = (float(x) for x in open(path).read().split())
    return {"client CPU (s, user+sys)": client, "engine CPU during the run (s)": engine}


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"
    return f"{v:,}"


def table(results):
    cs = sorted(int(m.group(1)) for p in os.listdir(results) for m in [re.match(r"cicada-c(\d+)\.json$", p)] if m)
    rows = list(cicada_metrics(os.path.join(results, f"cicada-c{cs[0]}.json")).keys()) if cs else []
    head = "| metric | " + " | ".join(f"AIPerf c={c} | Cicada c={c}" for c in cs) + " |"
    print(head)
    print("|---|" + "---:|" * (2 * len(cs)))
    data = {c: ({**(aiperf_metrics(os.path.join(results, f"aiperf-c{c}")) or {}), **cpu(results, "aiperf", c)},
                {**(cicada_metrics(os.path.join(results, f"cicada-c{c}.json")) or {}), **cpu(results, "cicada", c)}) for c in cs}
    rows += ["client CPU (s, user+sys)", "engine CPU during the run (s)"]
    for r in rows:
        print(f"| {r} | " + " | ".join(f"{fmt(data[c][0].get(r))} | {fmt(data[c][1].get(r))}" for c in cs) + " |")


if __name__ == "__main__":
    if sys.argv[1] == "prompts":
        prompts(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit("usage: aiperf_parity.py prompts|table ...")
