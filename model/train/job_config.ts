/**
 * The job a coordinator runs and its workers receive: the model (a preset plus overrides), the training hyper-parameters of
 * `deno task train`, and the cluster's own settings. One zod schema, validated once at the edge
 * (the `--config` file and flags).
 */
import { z } from "zod";
import { GptConfig, PresetName, presets } from "../gpt/mod.ts";
import { SCHEDULE_DEFAULTS, TrainConfig } from "./config.ts";
import { InputError } from "../errors.ts";

const JobFields = z
  .object({
    preset: PresetName.default("tiny"),
    /**
     * A pretrained model on the coordinator's machine to fine-tune (a Hugging Face GPT-2 directory
     * or a run): the model's shape comes from it instead of the preset, and workers receive its
     * weights from the coordinator as the state of step 0.
     */
    initFrom: z.string().min(1).optional(),
    /** Overrides of the preset's fields (vocabSize defaults to the data's tokenizer). */
    model: z.record(z.string(), z.unknown()).default({}),
    train: TrainConfig.prefault({}),
    /** Workers needed before a step starts; with fewer, the job waits for joiners. */
    minWorkers: z.number().int().positive().default(1),
    heartbeatMs: z.number().int().positive().default(500),
    /** A worker silent this long is declared dead and its step aborted. */
    deadAfterMs: z.number().int().positive().default(4000),
    /**
     * How gradient chunks travel between ring neighbours: `tcp` (a plain socket per neighbour,
     * several times faster under Deno) or `grpc` (HTTP/2, and the only one with TLS).
     */
    transport: z.enum(["tcp", "grpc"]).default("tcp"),
    /**
     * With `tcp`, neighbours on one Linux host hand payloads over in shared memory (memfd)
     * instead of through the socket; the socket still carries everything else.
     */
    sharedMemory: z.boolean().default(true),
    /**
     * Float format of gradients on the ring; accumulation is always fp32. `fp16` gradients are
     * cast in the train-step graph, and their fp32 sum is rounded to fp16 once per step for the
     * ring (with dynamic loss scaling); `bf16` is converted chunk by chunk (onnxruntime's CPU
     * provider has no bf16 kernels).
     */
    wire: z.enum(["fp32", "bf16", "fp16"]).default("fp32"),
    /**
     * How the ring is laid out: `hierarchical` reduces inside each host (workers whose addresses
     * share a host) to a leader, runs the ring across the leaders, and broadcasts back; `auto`
     * does so when there are several hosts and several workers on one of them; `flat` never.
     */
    topology: z.enum(["auto", "flat", "hierarchical"]).default("auto"),
    /** Ranks compare weight hashes every N steps (and at the end). */
    hashEvery: z.number().int().positive().default(10),
  })
  .strict();

/** The job config; a learning rate and warmup left out follow what training starts from. */
export const JobConfig = z.preprocess(withScheduleDefaults, JobFields);
export type JobConfig = z.infer<typeof JobConfig>;

function withScheduleDefaults(raw: unknown): unknown {
  if (typeof raw !== "object" || raw === null) return raw;
  const job = raw as { preset?: unknown; initFrom?: unknown; train?: unknown };
  const from = job.initFrom !== undefined
    ? "pretrained"
    : typeof job.preset === "string" && job.preset in SCHEDULE_DEFAULTS
    ? job.preset as keyof typeof SCHEDULE_DEFAULTS
    : "tiny";
  const train = typeof job.train === "object" && job.train !== null ? job.train : {};
  return { ...job, train: { ...SCHEDULE_DEFAULTS[from], ...train } };
}

/**
 * The model config of a job for a tokenizer of `vocabSize` tokens. The embedding table may be
 * larger than the tokenizer (`model.vocabSize`, as GPT-2 pads 50257 to 50304), never smaller.
 */
export function jobModel(job: JobConfig, vocabSize: number): GptConfig {
  return GptConfig.parse(jobModelFields(job, vocabSize));
}

/**
 * The fields {@linkcode jobModel} parses, for callers that report a refused field their own way
 * (a CLI names the flag that set it).
 */
export function jobModelFields(job: JobConfig, vocabSize: number): Record<string, unknown> {
  const asked = job.model.vocabSize as number | undefined;
  if (asked !== undefined && asked < vocabSize) {
    throw new InputError(
      "model.vocabSize",
      `${asked} is smaller than the tokenizer's ${vocabSize} tokens`,
    );
  }
  return { ...presets[job.preset], ...job.model, vocabSize: asked ?? vocabSize };
}

/**
 * The job that fine-tunes a model of `config` (the job's `initFrom`): the model is `config` with
 * the job's dropout over it, and the job's `model.contextLength` becomes the training sequence
 * length (the position table keeps its size). Any other model field is fixed by the weights and
 * refused, named as `name` spells it (`model.layers` in a config file, a flag on a command line).
 * The result is for {@linkcode JobConfig} to parse.
 */
export function fineTuningJob(
  job: JobConfig,
  config: GptConfig,
  name: (field: string) => string = (field) => `model.${field}`,
): Record<string, unknown> {
  const { contextLength, ...rest } = job.model;
  for (const field of Object.keys(rest)) {
    if (field !== "dropout") {
      throw new InputError(name(field), "is fixed by the pretrained model (initFrom); drop it");
    }
  }
  const sequenceLength = (contextLength as number | undefined) ?? job.train.sequenceLength;
  return { ...job, model: { ...config, ...rest }, train: { ...job.train, sequenceLength } };
}

/**
 * A job config file's raw JSON, for {@linkcode JobConfig} to parse (after flags have overridden
 * some fields); the error names the file.
 */
export async function readJobFile(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new InputError(path, `Cannot read the job config as JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
