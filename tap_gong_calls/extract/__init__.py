"""The extraction of the calls: config and state in, ordered batches and their state out.

``run.py`` picks the mode (``ids.py`` or ``date_range.py``); the rest are their parts. Nothing
here imports singer-sdk's Stream or Tap (docs/architecture.md).
"""
