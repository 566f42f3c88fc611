#!/usr/bin/python3
"""One rank of the peer's gloo all-reduce (../shared/peers/torch_allreduce_bench.py), started on
its own, so that each rank can run in an emulated host (a network namespace) of its own.

The peer script starts all its ranks itself and meets on 127.0.0.1, which namespaces do not share.
This runs the peer's own `allreduce_rank` unchanged for one rank, meeting at --master instead, and
prints rank 0's result (per-call times, slowest rank each; the sum check) as one JSON line. Every
rank then prints `{"cpu_ms_each": [...]}`: its process's CPU time (all threads) in each timed call.

  python3 _gloo_rank.py --peers DIR --rank R --world N --master 10.250.0.1:29500 [--elements E]
      [--warmup W] [--iters I]

Set GLOO_SOCKET_IFNAME to the host's interface.
"""
import argparse
import json
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--peers", required=True)
p.add_argument("--rank", type=int, required=True)
p.add_argument("--world", type=int, required=True)
p.add_argument("--master", required=True, help="host:port of rank 0's rendezvous")
p.add_argument("--elements", type=int, default=10_000_000)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--iters", type=int, default=5)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

sys.path.insert(0, a.peers)
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch_allreduce_bench as peer  # noqa: E402


def init(rank, world, port, threads):
    """The peer's init, rendezvous at --master instead of 127.0.0.1."""
    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method=f"tcp://{a.master}", rank=rank, world_size=world)


class Stdout:
    """Takes the place of the peer's result queue: rank 0 prints what it would have put, and every
    rank its CPU times on closing it (the peer's ranks leave through os._exit right after)."""

    def put(self, result):
        print(json.dumps(result), flush=True)

    def close(self):
        # The peer's first calls check the sum and warm up; the last --iters are its timed ones.
        print(json.dumps({"cpu_ms_each": cpu_ms[-a.iters:]}), flush=True)

    def join_thread(self):
        pass


def timed(all_reduce):
    """dist.all_reduce, recording the process's CPU time in each call on the whole buffer."""

    def call(tensor, *args, **kwargs):
        if tensor.numel() != a.elements:
            return all_reduce(tensor, *args, **kwargs)
        before = time.process_time()
        out = all_reduce(tensor, *args, **kwargs)
        cpu_ms.append((time.process_time() - before) * 1000)
        return out

    return call


cpu_ms = []
peer.init = init
dist.all_reduce = timed(dist.all_reduce)
peer.allreduce_rank(a.rank, a, None, Stdout())
