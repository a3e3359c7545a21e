"""Status collection: rounds, the update service, the dialog's step table and its views."""
