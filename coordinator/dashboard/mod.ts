/**
 * `coordinator/dashboard/`: the training dashboard, a web page that shows runs as they train and
 * after. A {@linkcode RunView} holds one run as the page shows it; `followJob` feeds it from the
 * coordinator's own metrics while the job runs, `followRunDir` from a run directory's files; and
 * `startDashboard` serves the page (assets/, uPlot from its npm package) and the views, live over
 * server-sent events. docs/dashboard.md shows it.
 *
 * @example
 * ```ts
 * const view = new RunView("runs/a");
 * await followRunDir(view, "runs/a").ready;
 * const dashboard = startDashboard([view], { host: "127.0.0.1", port: 0 });
 * ```
 */
export { followJob } from "./live.ts";
export type { LiveJob } from "./live.ts";
export { checkpointInfo, followRunDir } from "./run_dir.ts";
export type { RunDirFollower } from "./run_dir.ts";
export { COLUMNS, RunView } from "./run_view.ts";
export type { AbortedStep, CheckpointInfo, Row, RunState, RunStatus } from "./run_view.ts";
export { startDashboard } from "./server.ts";
export type { Dashboard, DashboardOptions } from "./server.ts";
