"""Data tables shipped with ``vaarwater.law`` (a package so that packaging includes them)."""
