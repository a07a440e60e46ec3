"""The API's OpenAPI 3.1 document, generated from the app's routes: `document.build(app)`.

`operations.OPERATIONS` describes each route (schemas from `schemas.COMPONENTS`); `api/reference.py`
serves the document at GET /openapi.json and as a page at GET /api-docs.
"""
