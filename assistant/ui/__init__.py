"""The visitor screens: the booth kiosk (``/kiosk``) and the web widget (``/widget``), mounted into the API's app.

Each screen receives the built ``Assistant`` and the ``Settings``; none builds its own. gradio is imported
only when the screens are mounted.
"""

from .mount import mount_screens

__all__ = ["mount_screens"]
