"""Everything reporting writes, one module per family."""
