/**
 * The preflight check's shell script, run by a real `sh` against checkouts made on disk (as ssh
 * would run it on a host), and how each host's answer is judged against this machine.
 */
import assert from "node:assert/strict";
import { checkScript, judgeHost, localReference } from "../../coordinator/launch/preflight.ts";
import { scripts } from "../../coordinator/launch/scripts.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const reference = await localReference();

/** What the script prints on a host whose ssh connection came from 10.0.0.5 to 10.0.0.7. */
async function answer(dir: string, deno = "deno"): Promise<string> {
  const out = await new Deno.Command("sh", {
    args: ["-c", checkScript(dir, deno)],
    env: { SSH_CONNECTION: "10.0.0.5 40000 10.0.0.7 22" },
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

/** A checkout with every file the launcher needs, a deno.lock of `lock`, and a fake `deno`. */
async function fakeCheckout(dir: string, lock: string, denoVersion: string): Promise<void> {
  for (const file of ["deno.json", ...Object.values(scripts)]) {
    await Deno.mkdir(`${dir}/${file.slice(0, file.lastIndexOf("/") + 1)}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${file}`, "");
  }
  await Deno.mkdir(`${dir}/node_modules`);
  await Deno.writeTextFile(`${dir}/deno.lock`, lock);
  await Deno.writeTextFile(`${dir}/deno`, `#!/bin/sh\necho "deno ${denoVersion} (stable)"\n`, {
    mode: 0o755,
  });
}

Deno.test("this checkout passes its own check, with the addresses and cores ssh and nproc give", async () => {
  const facts = judgeHost("gpu1", await answer(root), reference, root);
  assert.deepEqual(facts, {
    host: "gpu1",
    launcherAddress: "10.0.0.5",
    address: "10.0.0.7",
    cpus: navigator.hardwareConcurrency,
  });
});

Deno.test("a host with another Deno, another deno.lock or no checkout is named with what differs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lock = await Deno.readTextFile(`${root}/deno.lock`);
    await fakeCheckout(`${dir}/old-deno`, lock, "2.9.6");
    await fakeCheckout(`${dir}/other-lock`, lock + " ", reference.deno);
    await fakeCheckout(`${dir}/same`, lock, reference.deno);
    await Deno.remove(`${dir}/same/node_modules`);
    const judge = async (sub: string, deno = `${dir}/${sub}/deno`) =>
      judgeHost("h", await answer(`${dir}/${sub}`, deno), reference, `${dir}/${sub}`);
    assert.equal(await judge("old-deno"), `h: Deno 2.9.6, but ${reference.deno} here`);
    assert.match(String(await judge("other-lock")), /^h: deno\.lock differs \(sha256 \w{12}…/);
    assert.match(String(await judge("same")), /has no node_modules .*deno install --frozen/);
    assert.match(
      String(await judge("nowhere")),
      /^h: no project at ".*nowhere" \(give --remote-dir\)/,
    );
    assert.match(String(await judge("old-deno", "/no/deno")), /no Deno on the PATH/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
