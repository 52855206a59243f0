// Types of cluster-view.js for TypeScript importers (`loom status`); the page imports the .js directly.
import type { ClusterStatus, ClusterWorker } from '@loom/common';

export interface Tile {
  key: string;
  label: string;
  value: string;
  detail: string;
  tone: 'normal' | 'good' | 'warn' | 'bad';
}

export interface WorkerRow {
  id: string;
  state: ClusterWorker['state'];
  kvUsage: number;
  address: string;
  /** One display string per WORKER_COLUMNS entry. */
  cells: string[];
}

export interface ClusterView {
  gateway: string;
  summary: Tile[];
  latencyWindow: string;
  workers: WorkerRow[];
  /** Rows of MODEL_COLUMNS and SCHEDULER_COLUMNS. */
  models: { id: string; cells: string[] }[];
  schedulers: { id: string; role: 'leader' | 'standby'; cells: string[] }[];
}

export declare function clusterView(status: ClusterStatus, now?: number): ClusterView;
export declare const WORKER_COLUMNS: readonly string[];
export declare const MODEL_COLUMNS: readonly string[];
export declare const SCHEDULER_COLUMNS: readonly string[];
export declare function shortHolder(id: string): string;
