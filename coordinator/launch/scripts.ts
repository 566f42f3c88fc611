/** The entry points the launcher runs on hosts, as paths from the project's root. */
export const scripts = {
  coordinator: "coordinator/main.ts",
  worker: "worker/training/worker_main.ts",
  /** Runs a host's processes and stops them when its stdin ends (agent_main.ts). */
  agent: "coordinator/launch/agent_main.ts",
  /** Runs one Slurm task's worker (slurm_task_main.ts). */
  slurmTask: "coordinator/launch/slurm_task_main.ts",
};
