"""The official client (PyPI ``qibo-client==0.2.4``) in a virtual environment of its own."""
