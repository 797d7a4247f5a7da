"""iDEAL through Mollie: the client (``client.py``), the webhook (``webhooks.py``) and names
and numbers (``consts.py``). The rest of Vaarwater sees ``ProviderPayment`` and three errors."""
