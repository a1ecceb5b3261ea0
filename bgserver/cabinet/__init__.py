"""The subscriber cabinet: server-rendered pages under ``/cabinet/`` where a subscriber,
signed in with the contract number and its cabinet password, reads and changes what is
theirs — and only that (:func:`bgserver.billing.access.subscriber_caller`)."""
