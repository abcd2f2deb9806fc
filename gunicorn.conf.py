"""gunicorn's settings when started from the project root (the command line still wins).

A sync worker that has not answered within `timeout` seconds is killed and replaced. A queue's
CSV export streams for as long as the queue is big (about a minute for a million rows), so the
30 s default would cut large exports off mid-file; five minutes still replaces a stuck worker.
"""

timeout = 300
