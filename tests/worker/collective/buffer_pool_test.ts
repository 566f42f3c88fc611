import assert from "node:assert/strict";
import { BufferPool } from "../../../worker/collective/buffer_pool.ts";

Deno.test("a buffer pool hands a released buffer out again, and only its own, once", () => {
  const pool = new BufferPool(1024);
  const a = pool.take(100);
  assert.equal(a.length, 100);
  assert.equal(a.buffer.byteLength, 1024);
  pool.release(a);
  pool.release(a); // a second release must not put it in the pool twice
  const b = pool.take(1024);
  assert.equal(b.buffer, a.buffer, "the released buffer is reused");
  assert.notEqual(pool.take(10).buffer, a.buffer, "and handed out only once");
  const foreign = new Uint8Array(1024);
  pool.release(foreign);
  assert.notEqual(pool.take(10).buffer, foreign.buffer, "a view from elsewhere is not taken in");
  assert.throws(() => pool.take(1025), /1025 bytes exceed the pool's 1024/);
});

Deno.test("a buffer pool hands out the buffer released last first (the one likeliest in cache)", () => {
  const pool = new BufferPool(64);
  const [a, b, c] = [pool.take(8), pool.take(8), pool.take(8)];
  pool.release(a);
  pool.release(c);
  pool.release(b);
  assert.deepEqual([pool.take(8), pool.take(8), pool.take(8)].map((v) => v.buffer), [
    b.buffer,
    c.buffer,
    a.buffer,
  ]);
});
