/**
 * Data-parallel training with an fp16 gradient wire converges like fp32: two trainers, rank 0 and
 * 1 of a ring of real TCP data-plane connections on 127.0.0.1, trained on the same real text from
 * the same seed, once with each wire; their loss curves are compared step by step.
 */
import assert from "node:assert/strict";
import { GptConfig, presets } from "../../../model/gpt/mod.ts";
import { byteTokenizer, toTokenizerJson } from "../../../model/tokenizer/mod.ts";
import { TrainConfig, Trainer } from "../../../model/train/mod.ts";
import {
  ChunkMailbox,
  ringAllReduce,
  startTcpPeerServer,
  TcpPeerClient,
} from "../../../worker/collective/mod.ts";

/** Real English prose that every Debian system ships. */
const text = ["GPL-3", "Apache-2.0"]
  .map((name) => Deno.readTextFileSync(`/usr/share/common-licenses/${name}`))
  .join("\n");
const tok = byteTokenizer();
const tokens = Uint16Array.from(tok.encode(text));
const STEPS = 60;

/** Loss per step of a 2-rank data-parallel run whose gradients travel as `wire`. */
async function lossCurve(wire: "fp32" | "fp16"): Promise<number[]> {
  const mailboxes = [new ChunkMailbox("conv"), new ChunkMailbox("conv")];
  const servers = mailboxes.map((mailbox) =>
    startTcpPeerServer({ host: "127.0.0.1", port: 0, token: "t", mailbox })
  );
  const rights = [1, 0].map((r, rank) =>
    new TcpPeerClient(servers[r].address, { jobId: "conv", token: "t", rank, sharedMemory: false })
  );
  const trainers = await Promise.all([0, 1].map((rank) =>
    Trainer.create({
      model: GptConfig.parse({
        ...presets.tiny,
        vocabSize: tok.vocabSize,
        contextLength: 32,
        width: 64,
      }),
      train: TrainConfig.parse({
        microBatch: 8,
        steps: STEPS,
        lr: 1e-3,
        warmupSteps: 10,
        evalEvery: 0,
      }),
      trainTokens: tokens,
      tokenizerJson: JSON.stringify(toTokenizerJson(tok)),
      threads: 1,
      rank,
      worldSize: 2,
      gradientWire: wire,
    })
  ));
  const losses: number[] = [];
  try {
    for (let step = 0; step < STEPS; step++) {
      const metrics = await Promise.all(
        trainers.map((trainer, rank) =>
          trainer.trainStep((buffer, bucket) =>
            ringAllReduce(buffer, {
              jobId: "conv",
              ringVersion: 0,
              rank,
              worldSize: 2,
              mailbox: mailboxes[rank],
              right: rights[rank],
            }, { step, bucket }).then(() => {})
          )
        ),
      );
      assert.equal(metrics[0].loss, metrics[1].loss, "both ranks see the same loss");
      losses.push(metrics[0].loss);
    }
    const [a, b] = await Promise.all(trainers.map((t) => t.weightsHash()));
    assert.equal(a, b, `${wire}: the ranks' weights differ`);
  } finally {
    rights.forEach((r) => r.close());
    servers.forEach((s) => s.close());
  }
  return losses;
}

Deno.test("a 2-rank run with an fp16 gradient wire follows the fp32 wire's loss curve", async () => {
  const fp32 = await lossCurve("fp32");
  const fp16 = await lossCurve("fp16");
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const worst = Math.max(...fp32.map((l, i) => Math.abs(l - fp16[i])));
  const tail32 = mean(fp32.slice(-10)), tail16 = mean(fp16.slice(-10));
  console.log(
    `loss at steps 1, 20, 40, 60: fp32 ${[0, 19, 39, 59].map((i) => fp32[i].toFixed(3))}; ` +
      `fp16 ${[0, 19, 39, 59].map((i) => fp16[i].toFixed(3))}; largest gap ${
        worst.toExponential(2)
      }`,
  );
  assert.ok(tail32 < fp32[0] - 1.5, `fp32 learned too little: ${fp32[0]} → ${tail32}`);
  assert.ok(Math.abs(tail16 - tail32) < 0.03 * tail32, `last 10 steps: ${tail16} vs ${tail32}`);
  assert.ok(worst < 0.05, `the curves part by ${worst} nats at some step`);
  assert.ok(worst > 0, "identical curves: did the fp16 wire run at all?");
});
