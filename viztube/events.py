"""Domain events: what one app tells the apps above it, which it may not import.

An app announces a change through a Django ``Signal`` defined in its own ``signals.py``
(``videos.signals``, ``social.signals``), and an app higher in the layer order (notifications)
connects to it. ``send_after_commit`` sends it once the transaction that made the change has
committed: a receiver never hears of a change that was rolled back, and what it enqueues can
read the committed rows. Receivers must be cheap (enqueue a task, nothing more): they run in
the request that made the change.
"""

import functools

from django.db import transaction


def send_after_commit(signal, *, sender, **payload):
    """Send ``signal`` with ``payload`` (ids, never model instances: the receivers read what
    they need, as it stands then) once the current transaction commits; at once outside one.

    ``send_robust``, and ``robust=True``: a receiver that fails is logged (by Django's signal
    dispatcher) and neither fails the request whose change has already committed nor keeps the
    other receivers and callbacks from running."""
    transaction.on_commit(
        functools.partial(signal.send_robust, sender=sender, **payload), robust=True
    )
