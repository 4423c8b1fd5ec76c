"""A faithful local Confluence: REST (Cloud v2 + v1, or Data Center), webhook deliveries and
fault injection, for the tests, ``syncd emulator`` and ``syncd demo``.

Start one with :class:`syncd.emulator.server.EmulatorServer` (async) or
:class:`syncd.emulator.server.ThreadedEmulator` (background thread). Modules:

- ``store``: the in-memory site (rules, indexes, events); ``model``: its records. Cloud's
  tree holds folders, whiteboards, databases and embeds beside pages (``model.TREE_TYPES``).
- ``routes_v2`` (Cloud ``/wiki/api/v2``), ``routes_v1`` (Cloud ``/wiki/rest/api`` and DC
  ``/rest/api``), ``routes_webhooks`` (registration), ``control`` (``/_emulator/``).
- ``shapes_v2``/``shapes_v1``: JSON shapes; ``pagination``; ``errors``: real error bodies.
- ``middleware``: auth, request counting, injected REST faults (``faults``).
- ``deliveries`` + ``payloads``: asynchronous webhook sending in each flavor's shape.
- ``normalize``: macro/task ids as Confluence adds them; ``cql``: content search.
- ``seed``: deterministic spaces from ``seed/*.xml`` or a corpus, and a folder tree
  (``--folders``); ``persistence``: ``--data``.
- ``command``: the ``syncd emulator`` subcommand.
"""

#: The emulated deployments (here, not in ``server``: ``syncd emulator show|edit`` need the
#: names without importing the web server).
FLAVORS = ("cloud", "dc")
