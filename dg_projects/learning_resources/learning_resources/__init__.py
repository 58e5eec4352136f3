"""The learning_resources code location: external learning catalogs into the lake, and their
signed, change-only delivery to MIT Learn's catalog."""
