"""Risk: rules, assessment, dismissals, chair alerts, the digest and its chart, and the
chair's and the item views in the chat (`views.py`)."""
