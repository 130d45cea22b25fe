"""The periodic full sync: discovery, linking, reconcile, scope cleanup, in chunk jobs.

Order of a run (each step one or more short RQ jobs, `run.py` has the table of contents):
discover users → discover groups → users → groups → members → cleanup.
"""
