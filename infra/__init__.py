"""The Caseflow CDK app: `app.py` is the entry point, `stack.py` the stack."""
