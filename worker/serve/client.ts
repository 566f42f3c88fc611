/**
 * A client for `denoformer.v1.Generation` (and health): what `deno task generate`, the tests and
 * the benchmark use. Streams come back as async iterables of the response objects.
 *
 * @example
 * ```ts
 * const client = new GenerationClient("127.0.0.1:50051");
 * for await (const r of client.generate({ prompt: "Once", max_tokens: 20 })) out.write(r.text);
 * client.close();
 * ```
 */
import * as grpc from "@grpc/grpc-js";
import {
  channelCredentials,
  clientChannelOptions,
  generationService,
  healthService,
} from "../../proto/mod.ts";

/** A `Generate` request as on the wire (zeros are defaults). */
export interface GenerateRequestMessage {
  prompt?: string;
  prompt_token_ids?: number[];
  /** Absent: 64; 0 only scores the prompt (with echo and logprobs). */
  max_tokens?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  seed?: number;
  stop?: string[];
  /** Each token's log-probability and this many alternatives (0 to 5). */
  logprobs?: number;
  echo?: boolean;
}

/** One token's log-probability and the most likely tokens at its position. */
export interface TokenLogprobMessage {
  /** Absent for a prompt's first token. */
  logprob?: number;
  token: string;
  top: { token_id: number; logprob: number; token: string }[];
}

/** A `Generate` response. */
export interface GenerateResponseMessage {
  text: string;
  token_ids: number[];
  finish_reason: string;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  logprobs: TokenLogprobMessage[];
  /** This response is the echoed prompt. */
  echo: boolean;
}

/** Connection settings. */
export interface ClientOptions {
  apiKey?: string;
  /** PEM CA file: connect with TLS, trusting it. */
  tlsCaPath?: string;
  /**
   * The name the server's certificate must carry, when it differs from the host in the address.
   * Needed for IP addresses under Deno, whose TLS refuses an IP as the server name.
   */
  tlsServerName?: string;
}

type Method = grpc.MethodDefinition<unknown, unknown>;

/** One channel to a server. */
export class GenerationClient {
  readonly #client: grpc.Client;
  readonly #generation: grpc.ServiceDefinition;
  readonly #health: grpc.ServiceDefinition;
  readonly #apiKey?: string;

  constructor(address: string, options: ClientOptions = {}) {
    this.#generation = generationService;
    this.#health = healthService;
    const tls = options.tlsCaPath
      ? { caPath: options.tlsCaPath, serverName: options.tlsServerName }
      : undefined;
    this.#client = new grpc.Client(address, channelCredentials(tls), clientChannelOptions(tls));
    this.#apiKey = options.apiKey;
  }

  /** Streams a generation; breaking out of the loop cancels the call. */
  async *generate(
    request: GenerateRequestMessage,
    options: { deadlineMs?: number } = {},
  ): AsyncGenerator<GenerateResponseMessage> {
    const m = this.#generation.Generate as Method;
    const call = this.#client.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      request,
      this.#metadata(),
      options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {},
    );
    try {
      for await (const r of call) yield r as GenerateResponseMessage;
    } finally {
      call.cancel();
    }
  }

  /** Calls a unary method of the Generation service (`Embed`, `Tokenize`, `ModelInfo`…). */
  call<T = Record<string, unknown>>(method: string, request: unknown = {}): Promise<T> {
    return this.#unary(this.#generation, method, request);
  }

  /** grpc.health.v1.Health/Check. */
  health(service = ""): Promise<{ status: string }> {
    return this.#unary(this.#health, "Check", { service });
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close();
  }

  #unary<T>(def: grpc.ServiceDefinition, method: string, request: unknown): Promise<T> {
    const m = def[method] as Method;
    if (!m) throw new RangeError(`No method "${method}"`);
    return new Promise((resolve, reject) =>
      this.#client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        this.#metadata(),
        (err, res) => err ? reject(err) : resolve(res as T),
      )
    );
  }

  #metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.#apiKey) md.set("authorization", `Bearer ${this.#apiKey}`);
    return md;
  }
}
