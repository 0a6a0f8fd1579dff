"""One module per command of tools/ (same name): arguments, then one call."""
