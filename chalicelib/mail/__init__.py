"""Email as a format: parsing inbound MIME, HTML to text, quoted history, threading headers and
the rules for automatic mail. Plain Python, no I/O; it knows issues only by their references."""
