/**
 * Training hyper-parameters: one zod schema, the type inferred from it, defaults in the schema.
 * The model's shape lives in {@linkcode GptConfig}; this is everything about how it is trained.
 */
import { z } from "zod";
import type { PresetName } from "../gpt/mod.ts";
import { Freeze } from "./freeze.ts";

export const TrainConfig = z
  .object({
    /** Sequences per micro-batch (one run of the compiled step). */
    microBatch: z.number().int().positive().default(8),
    /** Micro-batches per optimizer step on each worker. */
    gradAccum: z.number().int().positive().default(1),
    /** Tokens per sequence; defaults to the model's context length. */
    sequenceLength: z.number().int().positive().optional(),
    steps: z.number().int().positive().default(200),
    lr: z.number().positive().default(1e-3),
    /** Floor of the cosine decay; defaults to lr / 10. */
    minLr: z.number().nonnegative().optional(),
    warmupSteps: z.number().int().nonnegative().default(20),
    weightDecay: z.number().nonnegative().default(0.1),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.95),
    /** Global gradient-norm clip; 0 turns clipping off. */
    gradClip: z.number().nonnegative().default(1),
    precision: z.enum(["fp32", "fp16", "bf16"]).default("fp32"),
    /** Validation every N steps (0: never) over `evalBatches` micro-batches. */
    evalEvery: z.number().int().nonnegative().default(50),
    evalBatches: z.number().int().positive().default(4),
    /** Checkpoint every N steps (0: only at the end); keep the newest `keepLast`. */
    checkpointEvery: z.number().int().nonnegative().default(100),
    keepLast: z.number().int().nonnegative().default(3),
    seed: z.number().int().default(1337),
    /** Parameters held fixed (fine-tuning). */
    freeze: Freeze.prefault({}),
  })
  .strict();
export type TrainConfig = z.infer<typeof TrainConfig>;

/**
 * Peak learning rate and warmup for what training starts from, used where the user gives none.
 * From scratch, larger models want a smaller rate and a longer warmup; fine-tuning pretrained
 * weights wants a rate 10-20x smaller still (the usual 5e-5 for GPT-2), or the first few updates
 * undo what pretraining learned.
 */
export const SCHEDULE_DEFAULTS = {
  tiny: { lr: 1e-3, warmupSteps: 20 },
  small: { lr: 1e-3, warmupSteps: 20 },
  gpt2: { lr: 6e-4, warmupSteps: 100 },
  pretrained: { lr: 5e-5, warmupSteps: 20 },
} as const satisfies Record<PresetName | "pretrained", Pick<TrainConfig, "lr" | "warmupSteps">>;
