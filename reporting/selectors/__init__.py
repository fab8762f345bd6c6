"""Everything reporting reads, one module per family (dashboard, variance, provisions…)."""
