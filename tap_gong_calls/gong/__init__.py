"""Gong's v2 API over HTTP: the endpoint table (api.py), one client with one send pipeline
(client.py: limits.py, budget.py, errors.py, retries.py), and the calls endpoints (calls.py).

Nothing here imports the extraction, the streams or the tap (docs/architecture.md).
"""
