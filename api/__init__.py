"""FastAPI app: HR console and JSON API, task-link pages, health, dev mailbox."""
