/** Host lists and hostfiles as DeepSpeed and Horovod users write them, and the errors for bad ones. */
import assert from "node:assert/strict";
import { InputError } from "../../model/errors.ts";
import { parseHostfile, parseHostList } from "../../coordinator/launch/hosts.ts";

Deno.test("--hosts takes HOST:SLOTS lists, a bare host having one slot", () => {
  assert.deepEqual(parseHostList("gpu1:4, gpu2:2,user@gpu3"), [
    { host: "gpu1", slots: 4 },
    { host: "gpu2", slots: 2 },
    { host: "user@gpu3", slots: 1 },
  ]);
});

Deno.test("a hostfile takes DeepSpeed's `host slots=N`, Horovod's `host:N`, comments and blank lines", () => {
  const text = "# two nodes\ngpu1 slots=4\n\n  gpu2 slots = 2  # the small one\ngpu3:8\ngpu4\n";
  assert.deepEqual(parseHostfile(text, "hosts.txt"), [
    { host: "gpu1", slots: 4 },
    { host: "gpu2", slots: 2 },
    { host: "gpu3", slots: 8 },
    { host: "gpu4", slots: 1 },
  ]);
});

Deno.test("bad host lists are refused naming the flag, or the file and line", () => {
  const cases: [() => unknown, string, RegExp][] = [
    [() => parseHostList("gpu1:0"), "--hosts", /positive integer, got "0"/],
    [() => parseHostList("gpu1:2,gpu1:2"), "--hosts", /"gpu1" is listed twice/],
    [() => parseHostList(" , "), "--hosts", /names no host/],
    [() => parseHostList("-oProxyCommand=x"), "--hosts", /not a host name/],
    [() => parseHostfile("gpu1 slots=2\ngpu2 gpus=2\n", "h.txt"), "h.txt:2", /HOST slots=N/],
    [() => parseHostfile("gpu1 slots=two\n", "h.txt"), "h.txt:1", /got "two"/],
    [() => parseHostfile("# nothing\n", "h.txt"), "h.txt", /names no host/],
  ];
  for (const [parse, where, message] of cases) {
    assert.throws(parse, (e) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.where, where);
      assert.match(e.message, message);
      return true;
    });
  }
});
