/** The two-level ring the coordinator forms from the hosts its workers advertise. */
import assert from "node:assert/strict";
import { ringPlaces } from "../../coordinator/topology.ts";
import { testJob } from "./_job.ts";

const twoByTwo = ["10.0.0.1:7001", "10.0.0.1:7002", "10.0.0.2:7001", "10.0.0.2:7002"];

Deno.test("auto forms two levels for 2 hosts × 2 ranks: members send to their leader, leaders ring", () => {
  const places = ringPlaces(twoByTwo, "auto");
  assert.deepEqual(places.map((p) => [p.local_size, p.local_index]), [[2, 0], [2, 1], [2, 0], [
    2,
    1,
  ]]);
  assert.deepEqual(places[0].local_peers, ["", "10.0.0.1:7002"]);
  assert.deepEqual(places[1].local_peers, ["10.0.0.1:7001"]);
  assert.deepEqual(
    places.filter((p) => p.local_index === 0).map((
      p,
    ) => [p.host_rank, p.host_count, p.right_address]),
    [[0, 2, "10.0.0.2:7001"], [1, 2, "10.0.0.1:7001"]],
  );
});

Deno.test("auto keeps the flat ring on one host, or with one rank a host; flat is always flat", () => {
  const oneHost = ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"];
  const oneEach = ["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"];
  for (const addresses of [oneHost, oneEach]) {
    const places = ringPlaces(addresses, "auto");
    assert.deepEqual(places.map((p) => p.local_size), [0, 0, 0]);
    assert.deepEqual(places.map((p) => p.right_address), [1, 2, 0].map((r) => addresses[r]));
  }
  assert.deepEqual(ringPlaces(twoByTwo, "flat").map((p) => p.local_size), [0, 0, 0, 0]);
  // Forced on one host: a star through the leader, no ring of hosts to speak of.
  const star = ringPlaces(oneHost, "hierarchical");
  assert.deepEqual(star.map((p) => [p.local_size, p.local_index, p.host_count]), [
    [3, 0, 1],
    [3, 1, 0],
    [3, 2, 0],
  ]);
});

Deno.test("when a host's leader dies the job re-forms two levels from the survivors", async () => {
  let now = 0;
  const j = testJob({ steps: 10, topology: "auto", now: () => now });
  const ids = twoByTwo.map((address, i) => j.join(`w${i}`, address));
  const first = await Promise.all(ids.map((id) => j.awaitStep(id, 0, "")));
  assert.deepEqual(first.map((p) => [p.rank, p.local_size, p.local_index]), [
    [0, 2, 0],
    [1, 2, 1],
    [2, 2, 0],
    [3, 2, 1],
  ]);
  // The leader of host 1 stops answering; the others keep their leases.
  const survivors = [ids[0], ids[1], ids[3]];
  now = 2000;
  for (const id of survivors) j.heartbeat(id);
  j.expireLeases(250);
  const verdicts = survivors.map((id) =>
    j.reportReduced(id, 0, first[0].ring_version, true, 1, "")
  );
  assert.deepEqual((await Promise.all(verdicts)).map((v) => v.commit), [false, false, false]);
  const again = await Promise.all(survivors.map((id) => j.awaitStep(id, 0, "")));
  assert.ok(again[0].ring_version > first[0].ring_version, "a new ring version");
  assert.deepEqual(again.map((p) => [p.world_size, p.local_size, p.local_index, p.host_count]), [
    [3, 2, 0, 2],
    [3, 2, 1, 0],
    [3, 1, 0, 2],
  ]);
  assert.equal(again[2].right_address, twoByTwo[0], "host 1's new leader rings host 0's");
});
