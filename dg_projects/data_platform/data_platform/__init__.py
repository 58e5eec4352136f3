"""The data_platform code location."""
