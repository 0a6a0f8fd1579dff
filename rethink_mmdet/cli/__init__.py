"""Logic of the command-line tools in ``tools/`` (they only call ``main``)."""
