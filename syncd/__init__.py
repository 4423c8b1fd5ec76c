"""syncd: keeps a folder of Markdown files two-way in sync with a Confluence space."""

__version__ = "0.1.0"
