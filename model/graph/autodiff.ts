/**
 * Reverse-mode autodiff over a {@linkcode Graph}: walks the nodes between the parameters and a
 * scalar loss in reverse order and extends the same graph with each parameter's gradient, using the
 * vector-Jacobian rules in vjp.ts.
 *
 * @example
 * ```ts
 * const [gw] = gradients(g, loss, [w]);
 * g.output(gw, "grad_w");
 * ```
 */
import { isFloat } from "./dtype.ts";
import type { Graph } from "./graph.ts";
import type { Value } from "./types.ts";
import { sameShape, showShape } from "./shape.ts";
import { vjp, type VjpRule } from "./vjp.ts";

/** Options of {@linkcode gradients}. */
export interface GradientOptions {
  /**
   * The gradient of the final result with respect to `loss` (the cotangent), for a `loss` that is
   * not itself the scalar objective: a loss whose gradient the caller builds in closed form starts
   * the backward pass from its input, e.g. the logits. Same dtype and shape as `loss`.
   */
  seed?: Value;
  /** Rules that replace the registry's for these op types in this backward pass only. */
  rules?: ReadonlyMap<string, VjpRule>;
}

/** d loss / d param for each param, as new values in `g` (zeros where the loss does not depend on it). */
export function gradients(
  g: Graph,
  loss: Value,
  params: readonly Value[],
  options: GradientOptions = {},
): Value[] {
  const { seed } = options;
  if (seed && (seed.dtype !== loss.dtype || !sameShape(seed.shape, loss.shape))) {
    throw new TypeError(
      `gradients: the seed is ${seed.dtype} ${showShape(seed.shape)}, the loss ${loss.dtype} ${
        showShape(loss.shape)
      }`,
    );
  }
  if (!isFloat(loss.dtype) || (!seed && loss.shape.some((d) => d !== 1))) {
    throw new TypeError(
      `gradients: the loss must be a floating-point scalar, got ${loss.dtype} ${
        showShape(loss.shape)
      }`,
    );
  }
  const forward = g.nodes.slice();
  const active = new Set(params.map((p) => p.name));
  for (const n of forward) {
    if (n.inputs.some((v) => v && active.has(v.name))) {
      for (const o of n.outputs) if (isFloat(o.dtype)) active.add(o.name);
    }
  }

  const grads = new Map<string, Value>([[
    loss.name,
    seed ?? g.constant(1, loss.dtype, loss.shape),
  ]]);
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    const gys = node.outputs.map((o) => grads.get(o.name) ?? null);
    if (gys.every((v) => v === null) || !node.inputs.some((v) => v && active.has(v.name))) continue;
    const rule = options.rules?.get(node.opType) ?? vjp.get(node.opType);
    if (!rule) {
      throw new Error(
        `gradients: no gradient rule for op "${node.opType}" (it produces "${
          node.outputs[0].name
        }")`,
      );
    }
    const gxs = rule(g, node, gys);
    node.inputs.forEach((x, k) => {
      const gx = gxs[k];
      if (!x || !gx || !active.has(x.name)) return;
      if (gx.dtype !== x.dtype || !sameShape(gx.shape, x.shape)) {
        throw new Error(
          `gradients: the ${node.opType} rule returned ${gx.dtype} ${
            showShape(gx.shape)
          } for input "${x.name}" of ${x.dtype} ${showShape(x.shape)}`,
        );
      }
      const prev = grads.get(x.name);
      grads.set(x.name, prev ? g.add(prev, gx) : gx);
    });
  }
  return params.map((p) => grads.get(p.name) ?? g.expand(g.constant(0, p.dtype), p.shape));
}
