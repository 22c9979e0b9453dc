"""Email: message kinds and their templates, rendering, MIME building, mailers, the dev server."""
