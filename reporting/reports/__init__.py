"""The controlling reports: one module per kind builds its XLSX and its PDF."""
