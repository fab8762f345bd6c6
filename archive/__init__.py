"""Archive: archival metadata of any document, files, retention and verification.
Depends on contenttypes only."""
