#!/usr/bin/env python
"""Django's manage.py; operators use the ``vaarwater`` command instead."""

from vaarwater.cli import main

if __name__ == "__main__":
    main()
