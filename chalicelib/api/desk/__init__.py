"""The agents' workspace in the browser (`/desk`): server-rendered pages on the agents' services.

Pages work without JavaScript under the strict CSP of `api/pages.py`; every form post carries the
desk's CSRF token (checked at the edge, `FORMS` of `responses`), and the session is the one of
`api/sessions.py`. One module per page or family of actions; the markup decisions in `views`.
"""
