"""Payment service providers: one sub-package per provider (``mollie``)."""
