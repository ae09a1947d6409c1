"""Webhooks: upstream systems are told when results are ready, by the Standard Webhooks spec.

- :mod:`~speechqa.webhooks.events` names the events and builds the call events' data;
- :mod:`~speechqa.webhooks.outbox` writes an event and its deliveries in the transaction of
  the change (``emit``), so an event is sent if and only if the change committed;
- :mod:`~speechqa.webhooks.endpoints` registers and deletes endpoints and rotates secrets;
- :mod:`~speechqa.webhooks.signing` makes secrets, message ids and signatures;
- :mod:`~speechqa.webhooks.delivery` claims due deliveries, makes one attempt, keeps the log.

Queueing the attempts is the workers' part (``workers/webhooks.py``).
"""
