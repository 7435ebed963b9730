"""Development tools kept out of the runtime package: the fake fal.ai server (``fakefal``).

Installed with the ``dev`` extra (``pip install -e '.[dev]'``), which brings what they need
beyond the runtime's dependencies (``trustme`` for the throwaway certificate authority).
"""
