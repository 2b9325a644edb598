"""Torch CPU threads for hf training: seconds per LoRA step of SmolLM2-135M, 1 vs N threads.

Each configuration runs in a fresh process (threads are fixed at start-up) doing the
backend's own loss on a batch of 8 hello-world rows; rounds alternate between thread
counts so that background load hits both alike.  ``--contend`` also runs one
CPU-burning process alongside, like a second job or a test suite on a shared machine.
The median step time is reported per thread count.

    uv run python bench/bench_hf_threads.py [--threads 1 2] [--steps 6] [--rounds 2] [--contend]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, os, sys, time
threads, steps, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
import torch
torch.set_num_threads(threads)
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer
sys.path.insert(0, sys.argv[4])
from bench_hf_smollm2 import rows
from motools_hf.chat_data import tokenize_rows
from motools_hf.training import _collate, _loss
tok = AutoTokenizer.from_pretrained(base)
model = get_peft_model(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"))
ex, _ = tokenize_rows(rows(8), tok, 1024)
ids, att, lab = _collate(ex, tok.pad_token_id, "cpu")
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
times = []
for _ in range(steps + 1):
    t = time.perf_counter()
    _loss(model, ids, att, lab).backward()
    opt.step(); opt.zero_grad()
    times.append(time.perf_counter() - t)
print(json.dumps({"threads": threads, "step_s": times[1:]}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--contend", action="store_true", help="run one busy process alongside")
    ap.add_argument(
        "--store", default=None, help="store holding (or to hold) the converted SmolLM2"
    )
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from motools_hf.base_models import resolve_model_dir

    root = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="bench-hf-threads-"))
    base = resolve_model_dir("smollm2-135m-instruct", root)
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.contend else None
    results: dict[int, list[float]] = {t: [] for t in args.threads}
    try:
        for _ in range(args.rounds):
            for t in args.threads:
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, str(t), str(args.steps), str(base), str(HERE)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results[t] += json.loads(out.stdout.strip().splitlines()[-1])["step_s"]
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
    print(
        f"cores: {os.cpu_count()}, contending busy process: {args.contend}, load average now: {os.getloadavg()}"
    )
    for t, xs in results.items():
        print(
            f"threads={t}: median {statistics.median(xs):.2f} s/step, min {min(xs):.2f}, max {max(xs):.2f} (n={len(xs)})"
        )


if __name__ == "__main__":
    main()
