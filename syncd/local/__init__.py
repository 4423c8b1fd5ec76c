"""The local folder: page tree <-> paths, front matter, atomic writes, snapshots, the watcher.

Imports nothing from the other syncd packages and never touches the network. The sync
engine uses:

* :mod:`.layout` - ``compute_layout(records, root_id) -> Layout`` and its inverse helpers;
* :mod:`.names` - ``safe_stem``/``assign_stems`` (the title -> file name rules);
* :mod:`.frontmatter` - ``parse(text) -> Document``, ``render(FrontMatter, body) -> str``;
* :mod:`.atomic` - ``atomic_write``, ``move_to_trash``/``restore_from_trash``;
* :mod:`.scan` - ``scan(root, previous) -> Snapshot``;
* :mod:`.watcher` - ``LocalWatcher`` (debounced ``LocalChange`` batches);
* :mod:`.ignore` - which names are never content.
"""
