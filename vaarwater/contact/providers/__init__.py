"""Channel adapters: one sub-package per provider; the rest of the code sees ``base.Adapter``."""
