/**
 * Shared slots between a sender and a receiver (here in one process, over a real memfd segment
 * mapped twice); the ring tests run them between processes.
 */
import assert from "node:assert/strict";
import { payloadPool } from "../../../worker/collective/buffer_pool.ts";
import { sharedMemoryAvailable } from "../../../worker/collective/shm/shared_memory.ts";
import {
  registeredRegion,
  sharedFloat32Array,
  SlotReceiver,
  SlotSender,
} from "../../../worker/collective/shm/shm_slots.ts";

const ignore = !sharedMemoryAvailable();

/** A sender with `slots` slots of `slotBytes`, a receiver that mapped them, and its credits. */
function connected(slots: number, slotBytes: number) {
  const sender = SlotSender.create(slots, slotBytes)!;
  const credits: number[] = [];
  const receiver = SlotReceiver.accept(sender.offer, (c) => credits.push(c))!;
  assert.ok(receiver, "the receiver maps the segment");
  const close = () => {
    receiver.close();
    sender.close(new Error("done"));
  };
  return { sender, receiver, credits, close };
}

Deno.test({
  name: "a payload placed in a slot reaches the receiver, which credits the slot when done",
  ignore,
  fn: async () => {
    const { sender, receiver, credits, close } = connected(4, 4096);
    assert.match(sender.offer.shm_path, new RegExp(`^/proc/${Deno.pid}/fd/\\d+$`));

    const payload = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const slot = await sender.place(payload);
    const got = receiver.payload(slot, payload.length);
    assert.deepEqual(got, payload);
    assert.deepEqual(credits, [], "lent until released");
    payloadPool.release(got);
    assert.deepEqual(credits, [slot + 1], "1 + the slot on the wire");
    sender.credit(slot);

    assert.throws(() => sender.credit(slot), /which is free/);
    assert.throws(() => sender.credit(4), /does not exist/);
    assert.throws(() => receiver.payload(4, 10), /does not exist/);
    assert.throws(() => receiver.payload(0, 4097), /does not fit/);
    close();
  },
});

Deno.test({
  name: "with half the slots lent the receiver copies a payload out and credits its slot at once",
  ignore,
  fn: async () => {
    const { sender, receiver, credits, close } = connected(4, 64);
    const lent: Uint8Array[] = [];
    const slots: number[] = [];
    for (let i = 0; i < 2; i++) {
      slots.push(await sender.place(new Uint8Array(8).fill(i)));
      lent.push(receiver.payload(slots[i], 8));
    }
    assert.throws(() => receiver.payload(slots[0], 8), /still in use/, "named twice while lent");
    const slot = await sender.place(new Uint8Array(8).fill(7));
    const copied = receiver.payload(slot, 8);
    assert.deepEqual(credits, [slot + 1], "credited on arrival");
    assert.deepEqual(copied, new Uint8Array(8).fill(7));
    assert.notEqual(copied.buffer, lent[0].buffer, "a copy, not a view of the segment");
    for (const view of lent) payloadPool.release(view);
    close();
  },
});

Deno.test({
  name: "the sender waits for a free slot, and closing fails the wait",
  ignore,
  fn: async () => {
    const sender = SlotSender.create(1, 64)!;
    const first = await sender.place(new Uint8Array(4));
    let placed: number | undefined;
    const waiting = sender.place(new Uint8Array(4)).then((s) => placed = s);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(placed, undefined, "no slot free yet");
    sender.credit(first);
    assert.equal(await waiting, first);
    const stuck = sender.place(new Uint8Array(4));
    sender.close(new Error("connection closed"));
    await assert.rejects(stuck, /connection closed/);
    await assert.rejects(sender.place(new Uint8Array(4)), /connection closed/);
  },
});

Deno.test({
  name:
    "a receiver refuses an offer it cannot verify: wrong nonce, a path outside its own segments",
  ignore,
  fn: () => {
    const sender = SlotSender.create(2, 64)!;
    const noCredit = () => assert.fail("no credit expected");
    try {
      const wrongNonce = { ...sender.offer, shm_nonce: new Uint8Array(16).fill(1) };
      assert.equal(SlotReceiver.accept(wrongNonce, noCredit), undefined);
      for (
        const path of [
          "/etc/passwd",
          `/proc/${Deno.pid}/fd/../environ`,
          `/proc/${Deno.pid}/fd/0`, // a real descriptor, but not the offered segment
          `${sender.offer.shm_path}x`,
        ]
      ) {
        assert.equal(SlotReceiver.accept({ ...sender.offer, shm_path: path }, noCredit), undefined);
      }
      const tooBig = { ...sender.offer, shm_slots: 3 };
      assert.equal(SlotReceiver.accept(tooBig, noCredit), undefined, "file smaller than claimed");
    } finally {
      sender.close(new Error("done"));
    }
    assert.throws(() => Deno.statSync(sender.offer.shm_path), Deno.errors.NotFound);
  },
});

Deno.test({
  name:
    "a payload in a registered buffer is read in place, bounds- and nonce-checked, credited as 0",
  ignore,
  fn: () => {
    const grads = sharedFloat32Array(1000);
    grads.forEach((_, i) => grads[i] = i / 4);
    const payload = new Uint8Array(grads.buffer, grads.byteOffset + 400, 40); // values 100..109
    const region = registeredRegion(payload)!;
    assert.match(region.path, /^\/proc\/\d+\/fd\/\d+$/);
    assert.equal(registeredRegion(new Uint8Array(8)), undefined, "ordinary memory is not shared");

    const { receiver, credits, close } = connected(2, 64);
    const view = receiver.inPlace(region.path, region.nonce, region.offset, payload.length);
    assert.deepEqual(
      Array.from(new Float32Array(view.buffer, view.byteOffset, 10)),
      Array.from({ length: 10 }, (_, i) => (100 + i) / 4),
    );
    grads[100] = -1; // the same memory, not a copy
    assert.equal(new Float32Array(view.buffer, view.byteOffset, 1)[0], -1);
    payloadPool.release(view);
    assert.deepEqual(credits, [0]);

    const { path, nonce, offset } = region;
    assert.throws(() => receiver.inPlace(path, nonce, offset, 4096 + 4000), /outside/);
    assert.throws(() => receiver.inPlace(path, nonce, 0, 16), /outside/, "the nonce is not data");
    assert.throws(() => receiver.inPlace(path, new Uint8Array(16), offset, 4), /Cannot map/);
    assert.throws(() => receiver.inPlace("/etc/passwd", nonce, offset, 4), /Cannot map/);
    close();
  },
});
