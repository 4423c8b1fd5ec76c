"""The sync engine: state, decisions and merge.

* `state.StateDB`: the SQLite state (merge base per page, tombstones,
  attachments, conflicts, webhook registration, poll watermark, delivery
  dedupe keys, create intents) and the one-instance lock.
* `model`: snapshot types (`LocalEntry`, `RemoteEntry`), actions, `Plan`,
  `ReconcileOptions`, and the executor contract.
* `reconcile.reconcile`: the pure decision step (state, local, remote) -> Plan.
* `merge.merge_markdown`: three-way merge with git-style conflict markers.
* `engine.SyncEngine`: the one entry point (`run_once(SyncRequest | None)`) every
  trigger uses; `snapshots` builds the reconcile inputs, `executor` applies a plan,
  `resolver` maps page links to relative paths, `attachments` syncs files both ways.
* `open_conflicts`: the conflicts waiting for the user, as `syncd status` lists them.
* `command` / `restore`: `syncd sync` and `syncd restore PATH`.
"""
