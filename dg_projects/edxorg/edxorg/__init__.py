"""The edxorg code location."""
