"""Text formats shown to people on our pages (Markdown to sanitised HTML): no I/O, no services."""
