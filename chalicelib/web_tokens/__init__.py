"""Tokens the web pages and emails carry: CSRF tokens for forms and signed, expiring links."""
