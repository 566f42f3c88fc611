/**
 * Emulated hosts: namespaces that reach each other only over their shaped links, gone after close,
 * and leftovers of a run that died removed by the next. Skipped where namespaces are not allowed.
 */
import assert from "node:assert/strict";
import {
  EmulatedHosts,
  emulatedHostsUnavailable,
  parseRate,
  spawnProbeRing,
} from "../../../worker/collective/mod.ts";

const unavailable = await emulatedHostsUnavailable();
if (unavailable) console.log(`Skipping the emulated-host tests: ${unavailable}`);

async function namespaces(): Promise<string[]> {
  const out = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").map((l) => l.split(" ")[0]).filter(
    Boolean,
  );
}

async function inside(hosts: EmulatedHosts, i: number, argv: string[]): Promise<string> {
  const [cmd, ...args] = hosts.command(i, argv);
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "emulated hosts reach each other over shaped links, and nothing is left after close",
  ignore: !!unavailable,
  fn: async () => {
    const hosts = await EmulatedHosts.create(2, { rate: "1gbit" });
    const names = hosts.hosts.map((h) => h.namespace);
    try {
      assert.deepEqual(hosts.hosts.map((h) => h.address), ["10.250.0.1", "10.250.0.2"]);
      assert.match(
        await inside(hosts, 0, ["tc", "qdisc", "show", "dev", "eth0"]),
        /tbf .*rate 1Gbit/,
      );
      // Host 1's only way out is its link: no route to anything but the emulated subnet.
      assert.doesNotMatch(await inside(hosts, 1, ["ip", "route"]), /default/);
      // A real all-reduce between a probe in each host, over the link.
      await using ring = await spawnProbeRing(2, { transport: "tcp", hosts });
      assert.match(ring.procs[1].address, /^10\.250\.0\.2:\d+$/);
      const replies = await ring.all(() => ({
        cmd: "allreduce",
        length: 5001,
        options: { step: 1 },
      }));
      for (const reply of replies) assert.equal(reply.maxAbsErr, 0, JSON.stringify(reply));
      await hosts.shape({});
      assert.doesNotMatch(await inside(hosts, 0, ["tc", "qdisc", "show", "dev", "eth0"]), /tbf/);
    } finally {
      await hosts.close();
    }
    const left = await namespaces();
    for (const name of names) assert.ok(!left.includes(name), `${name} is left`);
  },
});

Deno.test({
  name: "namespaces a dead run left behind are removed when hosts are next created",
  ignore: !!unavailable,
  fn: async () => {
    // A process that has exited stands for a run killed before it could clean up.
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    const stale = `dfcoll-${dead.pid}-test-h0`;
    await new Deno.Command("ip", { args: ["netns", "add", stale] }).output();
    assert.ok((await namespaces()).includes(stale));
    await (await EmulatedHosts.create(1)).close();
    assert.ok(!(await namespaces()).includes(stale), `${stale} is left`);
  },
});

Deno.test("link rates parse as tc writes them", () => {
  assert.equal(parseRate("10gbit"), 1e10);
  assert.equal(parseRate("25Gbit"), 2.5e10);
  assert.equal(parseRate("100mbps"), 8e8);
  assert.throws(() => parseRate("fast"), /Link rate "fast" is not a tc rate/);
});
