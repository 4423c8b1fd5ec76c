"""Default locations of syncd's files, from platformdirs.

Linux: config ``~/.config/syncd/config.yaml``, state ``~/.local/state/syncd/<SPACE>``,
logs ``~/.local/state/syncd/log``. macOS puts config and state in the same
``~/Library/Application Support/syncd`` directory, which is why state always lives in a
per-space subdirectory and the config is a single named file beside it.

Nothing here creates directories: callers that write create them (state with mode 0700).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "syncd"
CONFIG_FILE_NAME = "config.yaml"


def _dirs() -> platformdirs.PlatformDirs:
    return platformdirs.PlatformDirs(APP_NAME, appauthor=False)


def default_config_dir() -> Path:
    return Path(_dirs().user_config_dir)


def default_config_path() -> Path:
    """Where ``syncd`` looks for its config when ``--config`` is not given."""
    return default_config_dir() / CONFIG_FILE_NAME


def default_state_root() -> Path:
    return Path(_dirs().user_state_dir)


def default_state_dir(space: str) -> Path:
    """State (database, base blobs, trash, lock, control socket) of one space."""
    return default_state_root() / space


def default_log_dir() -> Path:
    return Path(_dirs().user_log_dir)
