"""The runtime around the sync engine: triggers, service integration, status.

Every trigger here only marks pages dirty; the one reconcile path decides what happens.

* :mod:`.events`: webhook payloads (Data Center and Cloud) -> :class:`~.events.RemoteHint`.
* :mod:`.receiver`: the aiohttp webhook receiver (verify, cap, dedupe, hand off, ``/health``).
* :mod:`.dirty`: :class:`~.dirty.DirtySet`, the coalescing set every trigger marks.
* :mod:`.modes`: the webhook / polling mode machine (pure, injected clock).
* :mod:`.scheduler`: runs the machine's freshness checks, polls, full scans, re-registration.
* :mod:`.control`: the Unix-socket control endpoint behind ``syncd status``.
* :mod:`.notify`: systemd's notify protocol (READY, STATUS, WATCHDOG, STOPPING).
* :mod:`.handler`: the ``sync.handler`` hook, bounded and serialized.
* :mod:`.logging_setup`: plain/JSON one-line logs with secret redaction.
* :mod:`.signals`: SIGTERM/SIGINT -> a stop event; a second signal exits at once.

Nothing here imports the client, the local folder, the converter or the sync engine: they
reach these modules through callbacks, so the main loop wires them together.
"""
