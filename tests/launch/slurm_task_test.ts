/**
 * Which device, address and thread count a Slurm task's worker gets, from the environment
 * slurmstepd gives each task: local task i drives GPU i, unless Slurm bound one GPU to the task.
 */
import assert from "node:assert/strict";
import { parseNodeAddresses, slurmWorker } from "../../coordinator/launch/slurm_task.ts";
import { InputError } from "../../model/errors.ts";

const addresses = parseNodeAddresses("n1=10.0.0.1,n2=10.0.0.2");
const task = (env: Record<string, string>) => ({
  SLURM_PROCID: "5",
  SLURM_LOCALID: "1",
  SLURMD_NODENAME: "n2",
  ...env,
});

Deno.test("local task i of a node drives GPU i when it sees all of the node's GPUs", () => {
  assert.deepEqual(slurmWorker(task({ CUDA_VISIBLE_DEVICES: "0,1,2,3" }), "cuda", addresses), {
    rank: 5,
    node: "n2",
    device: "cuda:1",
    host: "10.0.0.2",
    threads: 1,
  });
  // No CUDA_VISIBLE_DEVICES (no GPU binding): the index is the local id.
  assert.equal(slurmWorker(task({}), "cuda", addresses).device, "cuda:1");
  // The WebGPU provider takes no adapter index: worker_main would refuse webgpu:1.
  assert.equal(slurmWorker(task({}), "webgpu", addresses).device, "webgpu");
  assert.equal(slurmWorker(task({}), "cpu", addresses).device, "cpu");
});

Deno.test("a task Slurm bound to one GPU (--gpus-per-task=1) drives it as cuda:0", () => {
  const bound = slurmWorker(task({ CUDA_VISIBLE_DEVICES: "1" }), "cuda", addresses);
  assert.equal(bound.device, "cuda:0");
});

Deno.test("threads follow --cpus-per-task", () => {
  assert.equal(slurmWorker(task({ SLURM_CPUS_PER_TASK: "8" }), "cpu", addresses).threads, 8);
});

Deno.test("a task that cannot tell its GPU or its node's address is refused, naming what is wrong", () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ CUDA_VISIBLE_DEVICES: "0,1", SLURM_LOCALID: "3" }, "CUDA_VISIBLE_DEVICES", /sees 2 GPUs/],
    [{ SLURMD_NODENAME: "n9" }, "--node-addresses", /"n9"/],
    [{ SLURM_LOCALID: "x" }, "SLURM_LOCALID", /"x"/],
  ];
  for (const [env, where, message] of cases) {
    assert.throws(() => slurmWorker(task(env), "cuda", addresses), (e) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.where, where);
      assert.match(e.message, message);
      return true;
    });
  }
});
