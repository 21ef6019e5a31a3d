"""One sync, in one home: the job (`job`), its settings (`settings`), loading a snapshot (`loading`),
the engine that resolves, reads, plans and applies (`engine`), its result (`result`), and `run_sync`
(`run`), which the CLI's `diff` and `sync` and the daemon all call.

Import from the modules: this package lists no names, so that a report that needs `SyncResult` does
not load the engine with it.
"""
