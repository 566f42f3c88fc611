import assert from "node:assert/strict";
import { Progress } from "../../model/progress.ts";

Deno.test("progress prints plain lines with rate and ETA when not on a terminal", () => {
  const lines: string[] = [];
  let t = 0;
  const bar = new Progress({
    label: "train",
    total: 10,
    unit: "steps",
    tty: false,
    plainEveryMs: 1000,
    write: (s) => lines.push(s),
    now: () => t,
  });
  t = 2000;
  bar.tick(4, "loss 3.00");
  t = 2500;
  bar.tick(1); // within plainEveryMs of the last line: not printed
  t = 5000;
  bar.done();
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /^train {2}\[#+\.+\] {2}4\/10 steps {2}40% {2}2 steps\/s {2}ETA 0:03 {2}loss 3\.00\n$/,
  );
  assert.match(lines[1], /5\/10 steps/);
  assert.ok(lines.every((l) => !l.includes("\x1b")));
});

Deno.test("progress redraws one line with control codes on a terminal", () => {
  const out: string[] = [];
  const bar = new Progress({
    label: "ingest",
    unit: "files",
    tty: true,
    write: (s) => out.push(s),
    now: () => 1000,
  });
  bar.tick(3);
  bar.done();
  assert.ok(out[0].startsWith("\r\x1b[2K"));
  assert.ok(out[1].endsWith("\n"));
});

Deno.test("a resumed bar counts earlier work in the total but not in the rate", () => {
  const lines: string[] = [];
  let t = 0;
  const bar = new Progress({
    label: "train",
    total: 100,
    initial: 50,
    unit: "steps",
    tty: false,
    write: (s) => lines.push(s),
    now: () => t,
  });
  t = 1000;
  bar.set(52);
  assert.match(lines[0], /52\/100 steps {2}52% {2}2 steps\/s {2}ETA 0:24/);
});
